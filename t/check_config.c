/* check_config - defaults, every key type, unknown group/key, ranges, session, dump. */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* by path: the build directory holds autoconf's own config.h, which comes first on the include path
 */
#include "config.h"

/* write_conf - TEXT into a temp file; its path (transfer full) */
static char *write_conf(const char *text)
{
	char *path = g_build_filename(g_get_tmp_dir(), "check_config.XXXXXX", NULL);
	int fd = g_mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	return path;
}

START_TEST(test_defaults)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiConfig) c = config_load(NULL, &error);

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->milter_socket, "unix:/run/mailcti/milter.sock");
	ck_assert_uint_eq(c->max_request_size, 65536);
	ck_assert_uint_eq(c->max_message_size, 52428800);
	ck_assert_str_eq(c->milter_user, "postfix");
	ck_assert_int_eq(c->ctid_timeout_ms, 10000);
	ck_assert_str_eq(c->ctid_socket, "/run/mailcti/ctid.sock");
	ck_assert_str_eq(c->sendmail, "/usr/sbin/sendmail");
	ck_assert_int_eq(c->default_monitor_time, 120);
	ck_assert_int_eq(c->user_trigger_expiry, 604800);
	ck_assert_str_eq(c->pbx_host, "127.0.0.1");
	ck_assert_int_eq(c->pbx_port, 8800);
	ck_assert_int_eq(c->session_style, CTI_SESSION_ECMA354);
	ck_assert_int_eq(c->session_duration, 300);
	ck_assert_str_eq(c->hostname, g_get_host_name());
	ck_assert(g_str_has_prefix(c->notify_from, "mailcti@"));
	ck_assert_str_eq(c->routes_db, "/var/lib/mailcti/routes.db");
	ck_assert_str_eq(c->gateway_name, "");
	ck_assert_int_eq(c->max_hops, 8);
	ck_assert_str_eq(c->default_route, "local");
	ck_assert_str_eq(c->international_prefix, "");
	ck_assert_ptr_null(c->path);
}
END_TEST

START_TEST(test_file)
{
	g_autofree char *path =
	    write_conf("# a comment\n"
	               "[milter]\nsocket=unix:run/m.sock\nuser=\nmax_request_size=1000\n"
	               "[ctid]\nhostname=gw.example\nspool_dir=spool\n"
	               "[pbx]\nport=9000\nsession=system-status\npassword=secret\n"
	               "[routing]\ndb=routes.db\ngateway_name=gw-a\nmax_hops=3\n"
	               "default_route=refuse\ninternational_prefix=00\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiConfig) c = config_load(path, &error);
	g_autofree char *dump = NULL;

	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->path, path);
	ck_assert_str_eq(c->milter_socket, "unix:run/m.sock");
	ck_assert_str_eq(c->milter_user, "");
	ck_assert_uint_eq(c->max_request_size, 1000);
	ck_assert_str_eq(c->hostname, "gw.example");
	ck_assert_str_eq(c->notify_from, "mailcti@gw.example");
	ck_assert_int_eq(c->pbx_port, 9000);
	ck_assert_int_eq(c->session_style, CTI_SESSION_SYSTEM_STATUS);
	ck_assert_str_eq(c->pbx_password, "secret");
	ck_assert_str_eq(c->routes_db, "routes.db");
	ck_assert_str_eq(c->gateway_name, "gw-a");
	ck_assert_int_eq(c->max_hops, 3);
	ck_assert_str_eq(c->default_route, "refuse");
	ck_assert_str_eq(c->international_prefix, "00");
	dump = config_dump(c);
	ck_assert_msg(strstr(dump, "pbx.password = (set)\n") != NULL, "%s", dump);
	ck_assert(strstr(dump, "secret") == NULL);
	ck_assert(strstr(dump, "pbx.port = 9000\n") != NULL);
	ck_assert(strstr(dump, "pbx.session = system-status\n") != NULL);
	ck_assert(strstr(dump, "ctid.hostname = gw.example\n") != NULL);
	/* sorted: ctid.* before milter.* before pbx.* before routing.* */
	ck_assert(strstr(dump, "ctid.") < strstr(dump, "milter."));
	ck_assert(strstr(dump, "milter.") < strstr(dump, "pbx."));
	ck_assert(strstr(dump, "pbx.") < strstr(dump, "routing."));
	g_unlink(path);
}
END_TEST

static const struct {
	const char *text;
	const char *error_part;
} bad_cases[] = {
    {"[nosuch]\na=1\n", "unknown group [nosuch] (line 1)"},
    {"[pbx]\nhost=h\n\n# x\nprot=ed3\n", "[pbx] unknown key 'prot' (line 5)"},
    {"[milter]\nport=x\n", "[milter] unknown key 'port' (line 2)"},
    {"[milter]\nuser=x\n[pbx]\nuser=y\nport=0\n",
     "[pbx] port: '0' is not an integer in 1..65535 (line 5)"},
    {"[pbx]\nport=70000\n", "port: '70000'"},
    {"[pbx]\nport=88x\n", "port: '88x'"},
    {"[pbx]\nsession=tcp\n", "session: 'tcp' is not ecma354 or system-status"},
    {"[milter]\nctid_timeout_ms=-5\n", "ctid_timeout_ms"},
    {"[pbx]\nreconnect_min_ms=5000\nreconnect_max_ms=100\n", "reconnect_max_ms"},
    {"[pbx]\ntls=on\n", "[pbx] tls: 'on' is not yes or no (line 2)"},
    {"[pbx]\ntls=yes\ntls_key=/k.pem\n", "tls_key is set but tls_cert is not"},
    {"[routing]\ndefault_route=relay\n", "default_route: 'relay' is not local or refuse (line 2)"},
    {"[routing]\ninternational_prefix=+\n",
     "international_prefix: '+' is not empty or 1 to 8 digits"},
    {"[routing]\ngateway_name=gw a\n", "gateway_name: 'gw a' is not"},
    {"[routing]\nmax_hops=0\n", "max_hops: '0' is not an integer in 1..64"},
    {"not a key file\n", ""},
};

START_TEST(test_bad)
{
	g_autofree char *path = write_conf(bad_cases[_i].text);
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiConfig) c = config_load(path, &error);

	ck_assert_msg(c == NULL, "case %d accepted", _i);
	ck_assert_msg(strstr(error->message, bad_cases[_i].error_part) != NULL, "case %d: %s", _i,
	              error->message);
	ck_assert_msg(strstr(error->message, path) != NULL, "case %d: no path in %s", _i,
	              error->message);
	g_unlink(path);
}
END_TEST

START_TEST(test_missing_file)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiConfig) c = config_load("/nonexistent/mailcti.conf", &error);

	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(error);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config_load");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_file);
	tcase_add_loop_test(tc, test_bad, 0, G_N_ELEMENTS(bad_cases));
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
