/* csta-xml - the small element tree under the CSTA codec.
 *
 * Parsing uses GLib's GMarkup; we keep only element local names (any
 * "prefix:" is dropped, xmlns attributes are ignored), the trimmed character
 * data, and the children in document order.  That is all CSTA XML needs and
 * it makes every namespace form peers send look the same.  Processing
 * instructions such as <?xml ...?> are skipped by GMarkup.  The tree owns all
 * of its strings; csta_node_free() frees a whole subtree.  Input is bounded
 * by the frame size and the depth by CSTA_XML_MAX_DEPTH.
 */
#include "csta.h"
#include "csta-private.h"

#include <string.h>

#define CSTA_XML_MAX_DEPTH 32

typedef struct {
	CstaNode *root;
	GPtrArray *stack; /* CstaNode* open elements, innermost last (transfer none) */
	GPtrArray *texts; /* GString* per open element */
	gboolean done;    /* the root element has closed */
} CstaXmlParse;

GQuark csta_error_quark(void)
{
	return g_quark_from_static_string("csta-error-quark");
}

static const char *local_name(const char *name)
{
	const char *colon = strrchr(name, ':');

	return colon ? colon + 1 : name;
}

/* csta_node_new - a detached element NAME with TEXT (may be NULL) */
CstaNode *csta_node_new(const char *name, const char *text)
{
	CstaNode *node = g_new0(CstaNode, 1);

	node->name = g_strdup(name);
	node->text = g_strdup(text ? text : "");
	node->children = g_ptr_array_new_with_free_func((GDestroyNotify)csta_node_free);
	return node;
}

/* csta_node_free - free a node and its subtree; NULL is a no-op */
void csta_node_free(CstaNode *node)
{
	if (node == NULL)
		return;
	g_free(node->name);
	g_free(node->text);
	g_ptr_array_unref(node->children);
	g_free(node);
}

/* csta_node_add - append a new child NAME with TEXT to PARENT */
CstaNode *csta_node_add(CstaNode *parent, const char *name, const char *text)
{
	CstaNode *child = csta_node_new(name, text);

	g_ptr_array_add(parent->children, child);
	return child;
}

static void on_start(GMarkupParseContext *ctx, const char *element, const char **attr_names,
                     const char **attr_values, gpointer user_data, GError **error)
{
	CstaXmlParse *p = user_data;
	CstaNode *node;

	if (p->done) {
		g_set_error(error, CSTA_ERROR, CSTA_ERROR_XML, "more than one root element");
		return;
	}
	if (p->stack->len >= CSTA_XML_MAX_DEPTH) {
		g_set_error(error, CSTA_ERROR, CSTA_ERROR_XML, "elements nested deeper than %d",
		            CSTA_XML_MAX_DEPTH);
		return;
	}
	node = csta_node_new(local_name(element), NULL);
	if (p->stack->len == 0)
		p->root = node;
	else
		g_ptr_array_add(
		    ((CstaNode *)g_ptr_array_index(p->stack, p->stack->len - 1))->children, node);
	g_ptr_array_add(p->stack, node);
	g_ptr_array_add(p->texts, g_string_new(NULL));
}

static void on_end(GMarkupParseContext *ctx, const char *element, gpointer user_data,
                   GError **error)
{
	CstaXmlParse *p = user_data;
	CstaNode *node = g_ptr_array_steal_index(p->stack, p->stack->len - 1);
	GString *text = g_ptr_array_steal_index(p->texts, p->texts->len - 1);

	g_free(node->text);
	node->text = g_strstrip(g_string_free(text, FALSE));
	if (p->stack->len == 0)
		p->done = TRUE;
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data,
                    GError **error)
{
	CstaXmlParse *p = user_data;

	if (p->texts->len > 0)
		g_string_append_len(g_ptr_array_index(p->texts, p->texts->len - 1), text, len);
}

static const GMarkupParser csta_xml_parser = {
    .start_element = on_start,
    .end_element = on_end,
    .text = on_text,
};

static void string_free_all(gpointer s)
{
	g_string_free(s, TRUE);
}

/* csta_xml_parse - parse an XML document into a tree (transfer full) or NULL + error */
CstaNode *csta_xml_parse(const char *xml, gssize len, GError **error)
{
	CstaXmlParse p = {0};
	GMarkupParseContext *ctx;
	gboolean ok;

	p.stack = g_ptr_array_new();
	p.texts = g_ptr_array_new_with_free_func(string_free_all);
	ctx = g_markup_parse_context_new(
	    &csta_xml_parser, G_MARKUP_TREAT_CDATA_AS_TEXT | G_MARKUP_PREFIX_ERROR_POSITION, &p,
	    NULL);
	ok = g_markup_parse_context_parse(ctx, xml, len, error) &&
	     g_markup_parse_context_end_parse(ctx, error);
	g_markup_parse_context_free(ctx);
	g_ptr_array_unref(p.stack);
	g_ptr_array_unref(p.texts);
	if (ok && !p.done) {
		g_set_error(error, CSTA_ERROR, CSTA_ERROR_XML, "no root element");
		ok = FALSE;
	}
	if (!ok) {
		csta_node_free(p.root);
		if (error && *error && (*error)->domain != CSTA_ERROR) {
			int code = CSTA_ERROR_XML;
			g_autofree char *msg = g_strdup((*error)->message);

			g_clear_error(error);
			g_set_error(error, CSTA_ERROR, code, "XML: %s", msg);
		}
		return NULL;
	}
	return p.root;
}

/* csta_node_child - first child whose local name equals NAME, case-insensitively */
const CstaNode *csta_node_child(const CstaNode *node, const char *name)
{
	if (node == NULL)
		return NULL;
	for (guint i = 0; i < node->children->len; i++) {
		const CstaNode *child = g_ptr_array_index(node->children, i);

		if (g_ascii_strcasecmp(child->name, name) == 0)
			return child;
	}
	return NULL;
}

/* csta_node_find - follow a "a/b/c" path of child names, or NULL */
const CstaNode *csta_node_find(const CstaNode *node, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);

	for (guint i = 0; parts[i] != NULL && node != NULL; i++)
		node = csta_node_child(node, parts[i]);
	return node;
}

/* csta_node_text - text of the element at PATH below NODE, or NULL when absent */
const char *csta_node_text(const CstaNode *node, const char *path)
{
	const CstaNode *found = csta_node_find(node, path);

	return found ? found->text : NULL;
}

static void node_write(GString *out, const CstaNode *node, const char *ns)
{
	g_string_append_printf(out, "<%s", node->name);
	if (ns != NULL) {
		g_autofree char *esc = g_markup_escape_text(ns, -1);

		g_string_append_printf(out, " xmlns=\"%s\"", esc);
	}
	if (node->children->len == 0 && node->text[0] == '\0') {
		g_string_append(out, "/>");
		return;
	}
	g_string_append_c(out, '>');
	if (node->text[0] != '\0') {
		g_autofree char *esc = g_markup_escape_text(node->text, -1);

		g_string_append(out, esc);
	}
	for (guint i = 0; i < node->children->len; i++)
		node_write(out, g_ptr_array_index(node->children, i), NULL);
	g_string_append_printf(out, "</%s>", node->name);
}

/* csta_node_to_xml - serialise with a default xmlns NS on the root, with an XML declaration */
char *csta_node_to_xml(const CstaNode *root, const char *ns)
{
	GString *out = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");

	node_write(out, root, ns);
	return g_string_free(out, FALSE);
}

/* csta_device_text - the device string of a DeviceID-like element, or NULL */
const char *csta_device_text(const CstaNode *node)
{
	static const char *const wrappers[] = {"deviceIdentifier", "numberDialed", "deviceID"};

	if (node == NULL)
		return NULL;
	for (guint i = 0; i < G_N_ELEMENTS(wrappers); i++) {
		const CstaNode *inner = csta_node_child(node, wrappers[i]);

		if (inner != NULL)
			return inner->text[0] != '\0' ? inner->text : NULL;
	}
	if (node->children->len > 0 || node->text[0] == '\0')
		return NULL;
	return node->text;
}
