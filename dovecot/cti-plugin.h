/* cti-plugin.h - the symbols Dovecot's module loader looks up in
 * lib90_cti_plugin.so (module name "cti": mail_plugins = $mail_plugins cti).
 */
#ifndef CTI_PLUGIN_H
#define CTI_PLUGIN_H

struct module;

extern const char *cti_plugin_version;

/* cti_plugin_init - register the mail storage hooks (called at load) */
void cti_plugin_init(struct module *module);
/* cti_plugin_deinit - unregister the hooks (called at unload) */
void cti_plugin_deinit(void);

#endif
