/* check_identity - unit tests of the Authentication-Results parser
 * (authres.c) and sender identification (identity.c): each method, the
 * configured order, a spoofed From: against the AUTH login, forged or
 * malformed Authentication-Results fields, CIDR matching for IPv4 and IPv6.
 */
#include <check.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "identity.h"

/* ---- authres ---- */

typedef struct {
	const char *text;
	gboolean ok;
	const char *authserv_id;
	guint n_results;
	const char *method0, *result0, *d0;
} ArCase;

static const ArCase ar_cases[] = {
    {"mx.example.org; dkim=pass header.d=example.com header.s=sel", TRUE, "mx.example.org", 1,
     "dkim", "pass", "example.com"},
    {"mx.example.org 1; spf=pass smtp.mailfrom=a@example.com; dkim=fail (bad sig) "
     "header.d=example.com",
     TRUE, "mx.example.org", 2, "spf", "pass", NULL},
    {"mx.example.org; none", TRUE, "mx.example.org", 0, NULL, NULL, NULL},
    {"(comment) \"mx.example.org\" (c2 (nested)) ;\r\n\tDKIM = PASS (good) reason=\"ok\" "
     "HEADER.D = Example.COM",
     TRUE, "mx.example.org", 1, "dkim", "pass", "Example.COM"},
    {"mx.example.org; dkim/1=pass header.i=@example.com;", TRUE, "mx.example.org", 1, "dkim",
     "pass", NULL},
    {"", FALSE},
    {"; dkim=pass header.d=example.com", FALSE},
    {"mx.example.org dkim=pass", FALSE},
    {"mx.example.org; dkim", FALSE},
    {"mx.example.org; dkim=", FALSE},
    {"mx.example.org; dkim=pass header.d", FALSE},
    {"mx.example.org; dkim=pass header.d=", FALSE},
    {"mx.example.org; dkim=pass (unterminated", FALSE},
    {"mx.example.org; dkim=pass header.d=\"unterminated", FALSE},
    {"mx.example.org 2; dkim=pass", FALSE},
    {"mx.example.org (((((((((((deep))))))))))); dkim=pass", FALSE},
};

START_TEST(test_authres_cases)
{
	const ArCase *c = &ar_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiAuthres) ar = authres_parse(c->text, -1, &error);

	if (!c->ok) {
		ck_assert_msg(ar == NULL, "'%s' parsed", c->text);
		ck_assert_ptr_nonnull(error);
		ck_assert_msg(g_str_has_prefix(error->message, "Authentication-Results"), "%s",
		              error->message);
		return;
	}
	ck_assert_msg(ar != NULL, "'%s': %s", c->text, error->message);
	ck_assert_str_eq(ar->authserv_id, c->authserv_id);
	ck_assert_uint_eq(ar->results->len, c->n_results);
	if (c->method0) {
		const CtiAuthresResult *r = ar->results->pdata[0];
		ck_assert_str_eq(r->method, c->method0);
		ck_assert_str_eq(r->result, c->result0);
		ck_assert_pstr_eq(authres_prop(r, "header", "d"), c->d0);
	}
}
END_TEST

START_TEST(test_authres_limits)
{
	g_autoptr(GString) many = g_string_new("mx");
	g_autoptr(GString) props = g_string_new("mx; dkim=pass");
	g_autofree char *big = g_strnfill(CTI_AUTHRES_MAX + 1, 'a');
	g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;

	for (int i = 0; i <= CTI_AUTHRES_MAX_RESULTS; i++)
		g_string_append(many, "; spf=pass");
	for (int i = 0; i <= CTI_AUTHRES_MAX_PROPS; i++)
		g_string_append(props, " header.d=x");
	ck_assert_ptr_null(authres_parse(many->str, -1, &e1));
	ck_assert_int_eq(e1->code, CTI_AUTHRES_ERROR_LIMIT);
	ck_assert_ptr_null(authres_parse(props->str, -1, &e2));
	ck_assert_int_eq(e2->code, CTI_AUTHRES_ERROR_LIMIT);
	ck_assert_ptr_null(authres_parse(big, -1, &e3));
	ck_assert_int_eq(e3->code, CTI_AUTHRES_ERROR_LIMIT);
	ck_assert_ptr_null(authres_parse("mx; dkim=pass\0header.d=x", 24, &e4));
}
END_TEST

/* ---- identity ---- */

static CtiIdentityConfig *make_config(const char *methods)
{
	g_autoptr(CtiConfig) config = config_load(NULL, NULL);
	g_autoptr(GError) error = NULL;
	CtiIdentityConfig *ic;

	g_free(config->identity_methods);
	config->identity_methods = g_strdup(methods);
	g_free(config->trusted_networks);
	config->trusted_networks = g_strdup("192.0.2.0/24, 2001:db8::/32 127.0.0.1/32");
	g_free(config->authserv_id);
	config->authserv_id = g_strdup("mx.example.org");
	g_free(config->dkim_domains);
	config->dkim_domains = g_strdup("example.com,Example.NET");
	g_free(config->trusted_relays);
	config->trusted_relays = g_strdup("10.1.0.0/16");
	ic = identity_config_new(config, &error);
	ck_assert_msg(ic != NULL, "identity_config_new: %s", error ? error->message : "?");
	return ic;
}

typedef struct {
	const char *methods;
	const char *auth, *addr, *sender, *from, *ar1, *ar2;
	const char *want; /* identity, or NULL: unidentified */
	CtiIdentityMethod want_method;
} IdCase;

#define AR_OK "mx.example.org; dkim=pass header.d=example.com"

static const IdCase id_cases[] = {
    /* auth */
    {"auth", "Alice", "203.0.113.9", "x@y.example", NULL, NULL, NULL, "alice", CTI_IDENTITY_AUTH},
    {"auth", "alice@example.com", NULL, "", NULL, NULL, NULL, "alice@example.com",
     CTI_IDENTITY_AUTH},
    {"auth", NULL, "192.0.2.5", "alice@example.com", NULL, NULL, NULL, NULL, 0},
    {"auth", "", "192.0.2.5", "alice@example.com", NULL, NULL, NULL, NULL, 0},
    {"auth", "bad name", NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"auth", "evil\r\nX: y", NULL, NULL, NULL, NULL, NULL, NULL, 0},
    /* spoofed From: with another AUTH login: the login wins */
    {"auth,dkim", "bob", NULL, "bob@example.com", "Alice <alice@example.com>", AR_OK, NULL, "bob",
     CTI_IDENTITY_AUTH},
    /* network */
    {"network", NULL, "192.0.2.77", "Carol@Example.com", NULL, NULL, NULL, "carol@example.com",
     CTI_IDENTITY_NETWORK},
    {"network", NULL, "2001:db8:1::5", "carol@example.com", NULL, NULL, NULL, "carol@example.com",
     CTI_IDENTITY_NETWORK},
    {"network", NULL, "IPv6:2001:db8::1", "carol@example.com", NULL, NULL, NULL,
     "carol@example.com", CTI_IDENTITY_NETWORK},
    {"network", NULL, "::ffff:192.0.2.1", "carol@example.com", NULL, NULL, NULL,
     "carol@example.com", CTI_IDENTITY_NETWORK},
    {"network", NULL, "127.0.0.1", "carol@example.com", NULL, NULL, NULL, "carol@example.com",
     CTI_IDENTITY_NETWORK},
    {"network", NULL, "127.0.0.2", "carol@example.com", NULL, NULL, NULL, NULL, 0},
    {"network", NULL, "198.51.100.1", "carol@example.com", NULL, NULL, NULL, NULL, 0},
    {"network", NULL, "2001:db9::1", "carol@example.com", NULL, NULL, NULL, NULL, 0},
    {"network", NULL, "192.0.2.77", "", NULL, NULL, NULL, NULL, 0},
    {"network", NULL, "not-an-ip", "carol@example.com", NULL, NULL, NULL, NULL, 0},
    /* dkim */
    {"dkim", NULL, NULL, "x@y", "Dave <dave@example.com>", AR_OK, NULL, "dave@example.com",
     CTI_IDENTITY_DKIM},
    {"dkim", NULL, NULL, NULL, "dave@EXAMPLE.net", "MX.example.org; dkim=pass header.d=example.net",
     NULL, "dave@example.net", CTI_IDENTITY_DKIM},
    {"dkim", NULL, NULL, NULL, "dave@example.com",
     "mx.example.org; dkim=pass header.i=@example.com", NULL, "dave@example.com",
     CTI_IDENTITY_DKIM},
    /* forged: another authserv-id */
    {"dkim", NULL, NULL, NULL, "dave@example.com", "evil.example; dkim=pass header.d=example.com",
     NULL, NULL, 0},
    /* signature of a domain other than the From: domain */
    {"dkim", NULL, NULL, NULL, "dave@example.com", "mx.example.org; dkim=pass header.d=example.net",
     NULL, NULL, 0},
    /* signing domain not listed */
    {"dkim", NULL, NULL, NULL, "eve@other.example",
     "mx.example.org; dkim=pass header.d=other.example", NULL, NULL, 0},
    /* failed signature */
    {"dkim", NULL, NULL, NULL, "dave@example.com", "mx.example.org; dkim=fail header.d=example.com",
     NULL, NULL, 0},
    /* a malformed field is skipped, a good one after it still counts */
    {"dkim", NULL, NULL, NULL, "dave@example.com", "mx.example.org; dkim=pass header.d", AR_OK,
     "dave@example.com", CTI_IDENTITY_DKIM},
    {"dkim", NULL, NULL, NULL, "dave@example.com",
     "mx.example.org; dkim=pass (x header.d=example.com", NULL, NULL, 0},
    /* two From: mailboxes, a group, or garbage: nobody */
    {"dkim", NULL, NULL, NULL, "dave@example.com, eve@example.com", AR_OK, NULL, NULL, 0},
    {"dkim", NULL, NULL, NULL, "undisclosed:;", AR_OK, NULL, NULL, 0},
    {"dkim", NULL, NULL, NULL, "no address", AR_OK, NULL, NULL, 0},
    /* order: the first configured method that works wins */
    {"network,auth", "alice", "192.0.2.1", "carol@example.com", NULL, NULL, NULL,
     "carol@example.com", CTI_IDENTITY_NETWORK},
    {"auth,network", "alice", "192.0.2.1", "carol@example.com", NULL, NULL, NULL, "alice",
     CTI_IDENTITY_AUTH},
    {"auth,network,dkim", NULL, "198.51.100.1", "carol@example.com", "dave@example.com", AR_OK,
     NULL, "dave@example.com", CTI_IDENTITY_DKIM},
};

START_TEST(test_identity_cases)
{
	const IdCase *c = &id_cases[_i];
	g_autoptr(CtiIdentityConfig) ic = make_config(c->methods);
	const char *ar[3] = {c->ar1, c->ar2, NULL};
	CtiIdentityInput in = {c->auth, c->addr, c->sender, c->from, ar};
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiIdentity) id = identity_resolve(ic, &in, &error);

	if (!c->want) {
		ck_assert_msg(id == NULL, "case %d identified %s", _i, id->identity);
		ck_assert_int_eq(error->code, CTI_IDENTITY_ERROR_UNIDENTIFIED);
		ck_assert_msg(strstr(error->message, "sender not identified"), "%s",
		              error->message);
		return;
	}
	ck_assert_msg(id != NULL, "case %d: %s", _i, error->message);
	ck_assert_str_eq(id->identity, c->want);
	ck_assert_int_eq(id->method, c->want_method);
	ck_assert_ptr_nonnull(id->detail);
}
END_TEST

START_TEST(test_identity_howto)
{
	g_autoptr(CtiIdentityConfig) ic = make_config("auth");
	g_autoptr(CtiIdentityConfig) ic3 = make_config("auth,network,dkim");
	CtiIdentityInput in = {0};
	g_autoptr(GError) e1 = NULL, e2 = NULL;

	ck_assert_ptr_null(identity_resolve(ic, &in, &e1));
	ck_assert_str_eq(e1->message,
	                 "sender not identified: log in with SMTP AUTH before sending the request");
	ck_assert_ptr_null(identity_resolve(ic3, &in, &e2));
	ck_assert_msg(strstr(e2->message, "SMTP AUTH") && strstr(e2->message, "trusted network") &&
	                  strstr(e2->message, "DKIM"),
	              "%s", e2->message);
}
END_TEST

typedef struct {
	const char *methods, *networks, *authserv, *domains;
	gboolean ok;
} IdConfCase;

static const IdConfCase conf_cases[] = {
    {"auth", "", "", "", TRUE},
    {"auth network", "10.0.0.0/8", "", "", TRUE},
    {"network", "", "", "", FALSE},         /* network without networks */
    {"dkim", "", "mx", "", FALSE},          /* dkim without domains */
    {"dkim", "", "", "example.com", FALSE}, /* dkim without authserv-id */
    {"auth,auth", "", "", "", FALSE},
    {"kerberos", "", "", "", FALSE},
    {"", "", "", "", FALSE},
    {"auth", "10.0.0.0/33", "", "", FALSE},
    {"auth", "10.0.0.1/8", "", "", FALSE}, /* host bits set */
    {"auth", "fe80::/10 ::1/128", "", "", TRUE},
};

START_TEST(test_identity_config)
{
	const IdConfCase *c = &conf_cases[_i];
	g_autoptr(CtiConfig) config = config_load(NULL, NULL);
	g_autoptr(CtiIdentityConfig) ic = NULL;
	g_autoptr(GError) error = NULL;

	g_free(config->identity_methods);
	config->identity_methods = g_strdup(c->methods);
	g_free(config->trusted_networks);
	config->trusted_networks = g_strdup(c->networks);
	g_free(config->authserv_id);
	config->authserv_id = g_strdup(c->authserv);
	g_free(config->dkim_domains);
	config->dkim_domains = g_strdup(c->domains);
	ic = identity_config_new(config, &error);
	ck_assert_msg((ic != NULL) == c->ok, "case %d: %s", _i,
	              error ? error->message : "accepted");
}
END_TEST

START_TEST(test_identity_relay)
{
	g_autoptr(CtiIdentityConfig) ic = make_config("auth");

	ck_assert(identity_is_trusted_relay(ic, "10.1.2.3"));
	ck_assert(!identity_is_trusted_relay(ic, "10.2.0.1"));
	ck_assert(!identity_is_trusted_relay(ic, NULL));
}
END_TEST

/* the [identity] keys are checked when mailcti.conf is loaded */
START_TEST(test_identity_config_file)
{
	static const char *const bad[] = {
	    "[identity]\nmethods = auth, telepathy\n",
	    "[identity]\ntrusted_networks = 10.0.0.0/40\n",
	    "[identity]\ndkim_domains = exa mple..com\n",
	};
	g_autofree char *dir = g_dir_make_tmp("check-identity-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "mailcti.conf", NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(CtiConfig) config = NULL;
		ck_assert(g_file_set_contents(path, bad[i], -1, NULL));
		config = config_load(path, &error);
		ck_assert_msg(config == NULL, "accepted: %s", bad[i]);
		ck_assert_msg(strstr(error->message, "[identity]"), "%s", error->message);
	}
	ck_assert(g_file_set_contents(path,
	                              "[identity]\nmethods = network, auth\n"
	                              "trusted_networks = 127.0.0.0/8, ::1/128\n",
	                              -1, NULL));
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(CtiConfig) config = config_load(path, &error);
		ck_assert_msg(config != NULL, "%s", error ? error->message : "");
		ck_assert_str_eq(config->identity_methods, "network, auth");
	}
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

static Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("authres_parse");

	tcase_add_loop_test(tc, test_authres_cases, 0, G_N_ELEMENTS(ar_cases));
	tcase_add_test(tc, test_authres_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("identity_resolve");
	tcase_add_loop_test(tc, test_identity_cases, 0, G_N_ELEMENTS(id_cases));
	tcase_add_test(tc, test_identity_howto);
	tcase_add_test(tc, test_identity_relay);
	suite_add_tcase(s, tc);
	tc = tcase_create("identity_config_new");
	tcase_add_loop_test(tc, test_identity_config, 0, G_N_ELEMENTS(conf_cases));
	tcase_add_test(tc, test_identity_config_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(identity_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
