/* check_pbxsim.c - unit tests of pbx-sim's own framing, XML reader and
 * configuration modules (compiled from pbx-sim/, not from lib/). */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "simconf.h"
#include "wire.h"
#include "xml.h"

typedef struct {
	const char *bytes;
	gsize len;
	WireResult want;
	const char *invoke;
	gsize body_len;
} DecodeCase;

static const DecodeCase decode_cases[] = {
	{ "\0\0\0\x0c" "0001<a/>", 12, WIRE_FRAME, "0001", 4 },
	{ "\0\0\0\x0c" "9999<a/>trailing", 20, WIRE_FRAME, "9999", 4 },
	{ "\0\0\0\x0c" "0001<a/", 11, WIRE_NEED_MORE, NULL, 0 },
	{ "\0\0\0", 3, WIRE_NEED_MORE, NULL, 0 },
	{ "\x01\0\0\x0c" "0001<a/>", 12, WIRE_BAD, NULL, 0 },
	{ "\0\0\0\x08" "0001", 8, WIRE_BAD, NULL, 0 },
	{ "\0\0\0\x0c" "00a1<a/>", 12, WIRE_BAD, NULL, 0 },
};

START_TEST(test_wire_decode)
{
	const DecodeCase *c = &decode_cases[_i];
	WireFrame f;
	g_autoptr(GError) err = NULL;
	WireResult res = wire_decode((const guint8 *)c->bytes, c->len, &f, &err);
	ck_assert_int_eq(res, c->want);
	ck_assert_int_eq(res == WIRE_BAD, err != NULL);
	if (res == WIRE_FRAME) {
		ck_assert_str_eq(f.invoke, c->invoke);
		ck_assert_uint_eq(f.body_len, c->body_len);
		ck_assert_uint_eq(f.frame_len, c->body_len + 8);
	}
}
END_TEST

START_TEST(test_wire_encode)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	const char *body = "<d>\xc3\xa9</d>"; /* 9 bytes, 8 characters */
	ck_assert(wire_encode(out, "0042", body, strlen(body), NULL));
	ck_assert_uint_eq(out->len, 17);
	ck_assert_int_eq(out->data[0], 0);
	ck_assert_int_eq(out->data[1], 0);
	ck_assert_int_eq(out->data[2] << 8 | out->data[3], 17);
	ck_assert(memcmp(out->data + 4, "0042", 4) == 0);
	g_autofree char *big = g_malloc0(WIRE_MAX);
	memset(big, 'x', WIRE_MAX - 1);
	g_autoptr(GError) err = NULL;
	ck_assert(!wire_encode(out, "0001", big, WIRE_MAX - 1, &err));
	ck_assert(err != NULL);
}
END_TEST

typedef struct {
	const char *xml;
	const char *root, *ns, *path, *text;
} ParseCase;

#define ED4 "http://www.ecma-international.org/standards/ecma-323/csta/ed4"

static const ParseCase parse_cases[] = {
	{ "<MakeCall xmlns=\"" ED4 "\"><callingDevice>2001</callingDevice></MakeCall>",
	  "MakeCall", ED4, "callingDevice", "2001" },
	{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MakeCall><callingDevice> 2001 </callingDevice></MakeCall>",
	  "MakeCall", NULL, "callingDevice", "2001" },
	{ "<ns3:MonitorStart xmlns:ns3=\"" ED4 "\"><ns3:monitorObject><ns3:deviceObject>7</ns3:deviceObject>"
	  "</ns3:monitorObject></ns3:MonitorStart>", "MonitorStart", ED4, "monitorObject/deviceObject", "7" },
	{ "<X xmlns:aps=\"urn:a\"><callId>c1</callId></X>", "X", NULL, "callID", "c1" },
	{ "<X><c><deviceID>d</deviceID><callID>c</callID></c></X>", "X", NULL, "c/callID", "c" },
	{ "<X><d>a &amp; b</d></X>", "X", NULL, "d", "a & b" },
};

START_TEST(test_xml_parse)
{
	const ParseCase *c = &parse_cases[_i];
	g_autoptr(GError) err = NULL;
	g_autoptr(XmlNode) root = xml_parse(c->xml, strlen(c->xml), &err);
	ck_assert_msg(root != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(root->name, c->root);
	ck_assert_str_eq(root->ns ? root->ns : "(none)", c->ns ? c->ns : "(none)");
	ck_assert_str_eq(xml_path_text(root, c->path), c->text);
}
END_TEST

static const char *const bad_xml[] = {
	"",
	"<a>",
	"<a></b>",
	"<a/><b/>",
	"not xml",
	"<a>\xff\xfe</a>",
};

START_TEST(test_xml_reject)
{
	g_autoptr(GError) err = NULL;
	XmlNode *root = xml_parse(bad_xml[_i], strlen(bad_xml[_i]), &err);
	ck_assert(root == NULL);
	ck_assert(err != NULL);
}
END_TEST

START_TEST(test_xml_depth_limit)
{
	g_autoptr(GString) deep = g_string_new(NULL);
	for (int i = 0; i < 100; i++)
		g_string_append(deep, "<a>");
	for (int i = 0; i < 100; i++)
		g_string_append(deep, "</a>");
	g_autoptr(GError) err = NULL;
	ck_assert(xml_parse(deep->str, deep->len, &err) == NULL);
}
END_TEST

START_TEST(test_xml_write)
{
	g_autoptr(GString) out = g_string_new(NULL);
	xml_open_root(out, "R", "urn:x");
	xml_conn_id(out, "c", "1", "a<b");
	xml_ext_device(out, "d", NULL);
	xml_close(out, "R");
	ck_assert_str_eq(out->str, "<R xmlns=\"urn:x\"><c><callID>1</callID><deviceID>a&lt;b</deviceID></c>"
				   "<d><notKnown/></d></R>");
}
END_TEST

START_TEST(test_xml_write_prefixed)
{
	g_autoptr(GString) out = g_string_new(NULL);
	xml_set_prefix("csta");
	xml_open_root(out, "R", "urn:x");
	xml_conn_id(out, "c", "1", NULL);
	xml_empty(out, "e");
	xml_close(out, "R");
	xml_empty_root(out, "S", "urn:y");
	xml_set_prefix(NULL);
	xml_empty(out, "u");
	ck_assert_str_eq(out->str, "<csta:R xmlns:csta=\"urn:x\"><csta:c><csta:callID>1</csta:callID></csta:c>"
				   "<csta:e/></csta:R><csta:S xmlns:csta=\"urn:y\"/><u/>");
	/* what is written parses back to the same local names and namespace */
	g_autoptr(GError) err = NULL;
	gsize first_len = (gsize)(strstr(out->str, "<csta:S") - out->str);
	g_autoptr(XmlNode) root = xml_parse(out->str, first_len, &err);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(root->name, "R");
	ck_assert_str_eq(root->ns, "urn:x");
	ck_assert_str_eq(xml_path_text(root, "c/callID"), "1");
}
END_TEST

typedef struct {
	const char *name;
	gboolean ok;
} PrefixCase;

static const PrefixCase prefix_cases[] = {
	{ "csta", TRUE }, { "ns3", TRUE }, { "_a.b-c", TRUE }, { "", FALSE }, { "3ns", FALSE },
	{ "a:b", FALSE }, { "a b", FALSE }, { "xmlns", FALSE }, { "XMLx", FALSE },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", FALSE },
};

START_TEST(test_xml_prefix_valid)
{
	ck_assert_int_eq(xml_prefix_valid(prefix_cases[_i].name), prefix_cases[_i].ok);
}
END_TEST

typedef struct {
	const char *text;
	gboolean ok;
	SimBehaviourKind kind;
	double secs;
} BehCase;

static const BehCase beh_cases[] = {
	{ "answer-after 2", TRUE, SIM_BEH_ANSWER_AFTER, 2 },
	{ "  answer-after   0.5 ", TRUE, SIM_BEH_ANSWER_AFTER, 0.5 },
	{ "busy", TRUE, SIM_BEH_BUSY, 0 },
	{ "busy-for 30", TRUE, SIM_BEH_BUSY_FOR, 30 },
	{ "never-answer", TRUE, SIM_BEH_NEVER_ANSWER, 0 },
	{ "decline", TRUE, SIM_BEH_DECLINE, 0 },
	{ "invalid", TRUE, SIM_BEH_INVALID, 0 },
	{ "dnd", TRUE, SIM_BEH_DND, 0 },
	{ "fax", TRUE, SIM_BEH_FAX, 0 },
	{ "unreachable", TRUE, SIM_BEH_UNREACHABLE, 0 },
	{ "answer-after", FALSE, 0, 0 },
	{ "answer-after -1", FALSE, 0, 0 },
	{ "answer-after x", FALSE, 0, 0 },
	{ "busy 3", FALSE, 0, 0 },
	{ "ring", FALSE, 0, 0 },
	{ "", FALSE, 0, 0 },
};

START_TEST(test_behaviour_parse)
{
	const BehCase *c = &beh_cases[_i];
	SimBehaviour beh;
	g_autoptr(GError) err = NULL;
	ck_assert_int_eq(simconf_parse_behaviour(c->text, &beh, &err), c->ok);
	if (!c->ok)
		return;
	ck_assert_int_eq(beh.kind, c->kind);
	ck_assert(beh.secs == c->secs);
	g_autofree char *back = simconf_behaviour_str(&beh);
	SimBehaviour again;
	ck_assert(simconf_parse_behaviour(back, &again, NULL));
	ck_assert_int_eq(again.kind, beh.kind);
}
END_TEST

START_TEST(test_conf_lookup)
{
	g_autofree char *dir = g_dir_make_tmp("check-pbxsim-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "pbx.conf", NULL);
	const char *text = "[sim]\nheartbeat_interval=5\nmedia_dir=m\ntalk_time=120\n"
			   "[2001-2010]\nkind=extension\nbehaviour=answer-after 1\n"
			   "[2005]\nkind=line\nbehaviour=busy\npeer=2006\n"
			   "[0312345678]\nkind=external\n"
			   "[0311111111]\nkind=external\ntalk_time=5.5\n";
	ck_assert(g_file_set_contents(path, text, -1, NULL));
	g_autoptr(GError) err = NULL;
	g_autoptr(SimConf) conf = simconf_load(path, &err);
	ck_assert_msg(conf != NULL, "%s", err ? err->message : "");
	ck_assert(conf->heartbeat_interval == 5);
	ck_assert(conf->fail_release == 10);
	g_autofree char *media = g_build_filename(dir, "m", NULL);
	ck_assert_str_eq(conf->media_dir, media);
	ck_assert_int_eq(simconf_lookup(conf, "2001")->kind, SIM_DEV_EXTENSION);
	ck_assert_int_eq(simconf_lookup(conf, "2010")->beh.kind, SIM_BEH_ANSWER_AFTER);
	ck_assert_int_eq(simconf_lookup(conf, "2005")->kind, SIM_DEV_LINE);
	ck_assert_str_eq(simconf_lookup(conf, "2005")->peer, "2006");
	ck_assert_int_eq(simconf_lookup(conf, "0312345678")->kind, SIM_DEV_EXTERNAL);
	ck_assert(conf->talk_time == 120);
	ck_assert(simconf_lookup(conf, "0312345678")->talk_time < 0); /* inherits [sim] */
	ck_assert(simconf_lookup(conf, "0311111111")->talk_time == 5.5);
	ck_assert(simconf_lookup(conf, "2011") == NULL);
	ck_assert(simconf_lookup(conf, "201") == NULL);
	ck_assert(simconf_lookup(conf, "20011") == NULL);
	ck_assert(simconf_lookup(conf, "2001a") == NULL);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

START_TEST(test_conf_errors)
{
	static const char *const bad[] = {
		"[2001]\nbehaviour=sometimes\n",
		"[2001]\nkind=phone\n",
		"[2010-2001]\nkind=extension\n",
		"[sim]\ntalk_time=soon\n",
		"[0312345678]\nkind=external\ntalk_time=-3\n",
		"not a key file",
	};
	g_autofree char *dir = g_dir_make_tmp("check-pbxsim-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "bad.conf", NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		ck_assert(g_file_set_contents(path, bad[i], -1, NULL));
		g_autoptr(GError) err = NULL;
		SimConf *conf = simconf_load(path, &err);
		ck_assert_msg(conf == NULL, "accepted: %s", bad[i]);
		ck_assert(strstr(err->message, path) != NULL);
	}
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

static Suite *
pbxsim_suite(void)
{
	Suite *s = suite_create("pbxsim");
	TCase *tc = tcase_create("wire_decode");
	tcase_add_loop_test(tc, test_wire_decode, 0, G_N_ELEMENTS(decode_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("wire_encode");
	tcase_add_test(tc, test_wire_encode);
	suite_add_tcase(s, tc);
	tc = tcase_create("xml_parse");
	tcase_add_loop_test(tc, test_xml_parse, 0, G_N_ELEMENTS(parse_cases));
	tcase_add_loop_test(tc, test_xml_reject, 0, G_N_ELEMENTS(bad_xml));
	tcase_add_test(tc, test_xml_depth_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("xml_write");
	tcase_add_test(tc, test_xml_write);
	tcase_add_test(tc, test_xml_write_prefixed);
	tcase_add_loop_test(tc, test_xml_prefix_valid, 0, G_N_ELEMENTS(prefix_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("simconf_parse_behaviour");
	tcase_add_loop_test(tc, test_behaviour_parse, 0, G_N_ELEMENTS(beh_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("simconf_load");
	tcase_add_test(tc, test_conf_lookup);
	tcase_add_test(tc, test_conf_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pbxsim_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
