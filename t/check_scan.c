/* check_scan - the milter's fast-path scanner: request part headers found in a
 * multipart body fed in chunks split at every byte position, RFC 2231 and
 * folded names, and no false positive on ordinary multipart mail. */
#include <check.h>
#include <gmime/gmime.h>
#include <string.h>

#include "../filter/scan.h"

typedef struct {
	const char *what;
	const char *body;
	gboolean expect;
} ScanCase;

#define PLAIN_PARTS                                                                                \
	"This is a multi-part message in MIME format.\r\n"                                         \
	"--b1\r\n"                                                                                 \
	"Content-Type: text/plain; charset=utf-8\r\n"                                              \
	"\r\n"                                                                                     \
	"Please call me back.\r\n"                                                                 \
	"--b1\r\n"                                                                                 \
	"Content-Type: image/png; name=\"photo.png\"\r\n"                                          \
	"Content-Disposition: attachment; filename=\"photo.png\"\r\n"                              \
	"Content-Transfer-Encoding: base64\r\n"                                                    \
	"\r\n"                                                                                     \
	"iVBORw0KGgo=\r\n"

static const ScanCase scan_cases[] = {
    {"plain multipart", PLAIN_PARTS "--b1--\r\n", FALSE},
    {"x-cti part",
     PLAIN_PARTS "--b1\r\nContent-Type: application/x-cti\r\n\r\nSource: 2001\r\n--b1--\r\n", TRUE},
    {"x-cti, upper case, parameters",
     PLAIN_PARTS
     "--b1\r\nCONTENT-TYPE:  APPLICATION/X-CTI; charset=us-ascii\r\n\r\nSource: 2001\r\n--b1--\r\n",
     TRUE},
    {"x-cti, LF line ends", "--b1\nContent-Type: application/x-cti\n\nSource: 2001\n--b1--\n",
     TRUE},
    {"folded name parameter",
     PLAIN_PARTS "--b1\r\nContent-Type: "
                 "application/octet-stream;\r\n\tname=\"call.cti\"\r\n\r\nx\r\n--b1--\r\n",
     TRUE},
    {"disposition filename",
     PLAIN_PARTS "--b1\r\nContent-Type: text/plain\r\nContent-Disposition: attachment;\r\n"
                 " filename=\"Call.CTI\"\r\n\r\nSource: 2001\r\n--b1--\r\n",
     TRUE},
    {"RFC 2231 filename*=",
     "--b1\r\nContent-Disposition: attachment; "
     "filename*=utf-8''r%C3%BCckruf.cti\r\n\r\nx\r\n--b1--\r\n",
     TRUE},
    {"RFC 2231 continuation",
     "--b1\r\nContent-Disposition: attachment;\r\n filename*0=\"my-req\";\r\n "
     "filename*1=\"uest.c\";\r\n"
     " filename*2=\"ti\"\r\n\r\nx\r\n--b1--\r\n",
     TRUE},
    {"RFC 2231 encoded continuation",
     "--b1\r\nContent-Disposition: attachment; filename*0*=us-ascii''call; "
     "filename*1*=%2Ecti\r\n\r\nx\r\n",
     TRUE},
    {"RFC 2047 name",
     "--b1\r\nContent-Type: application/octet-stream; "
     "name=\"=?utf-8?q?anruf=2Ecti?=\"\r\n\r\nx\r\n",
     TRUE},
    {"look-alike file name",
     PLAIN_PARTS "--b1\r\nContent-Disposition: attachment; filename=\"call.cti.txt\"\r\n\r\n",
     FALSE},
    {"bare .cti is no name", "--b1\r\nContent-Disposition: attachment; filename=\".cti\"\r\n\r\n",
     FALSE},
    {"mention in a text body",
     "--b1\r\nContent-Type: text/plain\r\n\r\nContent-Type: "
     "application/x-cti\r\nfilename=a.cti\r\n--b1--\r\n",
     FALSE},
    {"mention in the preamble",
     "Content-Type: application/x-cti\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n", FALSE},
    {"other header named like it", "--b1\r\nX-Content-Type: application/x-cti\r\n\r\n", FALSE},
    {"body ends inside the field", "--b1\r\nContent-Type: application/x-cti", TRUE},
};

static void feed_split(const char *body, gsize split, gboolean expect, const char *what)
{
	g_autoptr(Scan) scan = scan_new();
	gsize len = strlen(body);

	scan_feed(scan, body, split);
	scan_feed(scan, body + split, len - split);
	ck_assert_msg(scan_finish(scan) == expect, "%s: split at %zu gave %d", what, split,
	              !expect);
}

START_TEST(test_scan_splits)
{
	const ScanCase *c = &scan_cases[_i];
	gsize len = strlen(c->body);

	for (gsize split = 0; split <= len; split++)
		feed_split(c->body, split, c->expect, c->what);
}
END_TEST

START_TEST(test_scan_bytewise)
{
	const ScanCase *c = &scan_cases[_i];
	g_autoptr(Scan) scan = scan_new();

	for (const char *p = c->body; *p; p++)
		scan_feed(scan, p, 1);
	ck_assert_msg(scan_finish(scan) == c->expect, "%s", c->what);
}
END_TEST

START_TEST(test_scan_found_early)
{
	g_autoptr(Scan) scan = scan_new();
	const char *head = "--b1\r\nContent-Type: application/x-cti\r\n\r\n";

	scan_feed(scan, head, strlen(head));
	ck_assert(scan_found(scan));
	scan_feed(scan, "anything at all\r\n", 17);
	ck_assert(scan_finish(scan));
}
END_TEST

START_TEST(test_scan_overlong_field)
{
	g_autoptr(Scan) scan = scan_new();
	g_autoptr(GString) body = g_string_new("--b1\r\nContent-Type: text/plain; x=\"");

	for (int i = 0; i < SCAN_MAX_FIELD; i++)
		g_string_append_c(body, 'a');
	g_string_append(body, "\"\r\n\r\n");
	scan_feed(scan, body->str, body->len);
	ck_assert_msg(scan_finish(scan), "an unjudgeable field must count as a candidate");
}
END_TEST

START_TEST(test_scan_long_plain_mail)
{
	g_autoptr(Scan) scan = scan_new();
	g_autoptr(GString) body = g_string_new(PLAIN_PARTS);

	for (int i = 0; i < 20000; i++)
		g_string_append(body, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		                      "AAAAAAAAAAAAAAA\r\n");
	g_string_append(body, "--b1--\r\n");
	for (gsize off = 0; off < body->len; off += 65535)
		scan_feed(scan, body->str + off, MIN(65535, body->len - off));
	ck_assert(!scan_finish(scan));
}
END_TEST

typedef struct {
	const char *name;
	const char *value;
	gboolean expect;
} FieldCase;

static const FieldCase field_cases[] = {
    {"Content-Type", " application/x-cti", TRUE},
    {"content-type", "Application/X-Cti; charset=\"us-ascii\"", TRUE},
    {"Content-Type", " application/x-ctix", FALSE},
    {"Content-Type", " multipart/mixed; boundary=\"x.cti\"", FALSE},
    {"Content-Type", " application/octet-stream; name=req.cti", TRUE},
    {"Content-Disposition", " inline; filename=\"a b.Cti\"", TRUE},
    {"Content-Disposition", " attachment", FALSE},
    {"Subject", " application/x-cti", FALSE},
};

START_TEST(test_field_announces)
{
	const FieldCase *c = &field_cases[_i];

	ck_assert_msg(scan_field_announces_cti(c->name, c->value) == c->expect, "%s:%s", c->name,
	              c->value);
}
END_TEST

static Suite *scan_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("scan_feed");

	tcase_add_loop_test(tc, test_scan_splits, 0, G_N_ELEMENTS(scan_cases));
	tcase_add_loop_test(tc, test_scan_bytewise, 0, G_N_ELEMENTS(scan_cases));
	tcase_add_test(tc, test_scan_found_early);
	tcase_add_test(tc, test_scan_overlong_field);
	tcase_add_test(tc, test_scan_long_plain_mail);
	suite_add_tcase(s, tc);
	tc = tcase_create("scan_field_announces_cti");
	tcase_add_loop_test(tc, test_field_announces, 0, G_N_ELEMENTS(field_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	g_mime_init();
	sr = srunner_create(scan_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
