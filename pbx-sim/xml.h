/* xml.h - pbx-sim's own XML tree (GMarkup) with local-name matching, and an encoder. */
#pragma once

#include <glib.h>

typedef struct XmlNode XmlNode;
struct XmlNode {
	char *name;        /* local name, prefix stripped */
	char *ns;          /* resolved namespace URI or NULL */
	GString *text;     /* concatenated character data */
	char **attr_names; /* attributes as given (NULL-terminated), may be empty */
	char **attr_values;
	GPtrArray *children; /* XmlNode* */
	XmlNode *parent;
};

XmlNode *xml_parse(const char *text, gsize len, GError **error);
void xml_node_free(XmlNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XmlNode, xml_node_free)

XmlNode *xml_child(const XmlNode *node, const char *lname);
const char *xml_child_text(const XmlNode *node, const char *lname);
const char *xml_path_text(const XmlNode *node, const char *path);
const char *xml_text(const XmlNode *node);
gboolean xml_is_leaf(const XmlNode *node);

void xml_set_prefix(const char *prefix);
gboolean xml_prefix_valid(const char *prefix);
void xml_escape_append(GString *out, const char *text);
void xml_open_root(GString *out, const char *name, const char *ns);
void xml_close(GString *out, const char *name);
void xml_open(GString *out, const char *name);
void xml_leaf(GString *out, const char *name, const char *text);
void xml_empty(GString *out, const char *name);
void xml_empty_root(GString *out, const char *name, const char *ns);
void xml_conn_id(GString *out, const char *name, const char *call, const char *device);
void xml_ext_device(GString *out, const char *name, const char *device);
