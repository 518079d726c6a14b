/* xml.c - the simulator's XML reader and writer.
 *
 * Reading: a small element tree built with GMarkup.  Peers differ in how they use
 * namespaces (default xmlns, none, declared-but-unused prefixes, prefixed
 * elements) so every element is stored under its local name and lookups compare
 * local names case-insensitively.  The tree owns all its strings; free it with
 * xml_node_free().  Parsing fails (GError) on malformed XML or an empty document.
 *
 * Writing: helpers that append escaped elements to a caller-owned GString.
 * Elements are unprefixed under a default xmlns, or, after xml_set_prefix(),
 * every element carries "PREFIX:" and the root declares xmlns:PREFIX (as some
 * switches send).  The prefix is process-wide: it is a simulator setting.
 * pbx-sim shares no code with ctid's codec on purpose.
 */
#include "xml.h"

#include <string.h>

/* CSTA messages nest a few levels; a limit keeps hostile input cheap. */
#define XML_MAX_DEPTH 32

static char *xml_prefix; /* element prefix for everything written, or NULL */

typedef struct {
	XmlNode *root;
	XmlNode *cur;
	int depth;
	GSList *scopes; /* GHashTable* prefix -> uri, innermost first */
} XmlBuild;

static XmlNode *
node_new(const char *lname, XmlNode *parent)
{
	XmlNode *n = g_new0(XmlNode, 1);
	n->name = g_strdup(lname);
	n->text = g_string_new(NULL);
	n->children = g_ptr_array_new_with_free_func((GDestroyNotify)xml_node_free);
	n->parent = parent;
	return n;
}

/* xml_node_free - free a node and its subtree; NULL is a no-op */
void
xml_node_free(XmlNode *node)
{
	if (node == NULL)
		return;
	g_free(node->name);
	g_free(node->ns);
	g_string_free(node->text, TRUE);
	g_strfreev(node->attr_names);
	g_strfreev(node->attr_values);
	g_ptr_array_unref(node->children);
	g_free(node);
}

static const char *
scope_lookup(GSList *scopes, const char *prefix)
{
	for (GSList *l = scopes; l != NULL; l = l->next) {
		const char *uri = g_hash_table_lookup(l->data, prefix);
		if (uri != NULL)
			return uri;
	}
	return NULL;
}

static void
build_start(GMarkupParseContext *ctx, const char *element, const char **names,
	    const char **values, gpointer user, GError **error)
{
	XmlBuild *b = user;
	if (++b->depth > XML_MAX_DEPTH) {
		g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
			    "elements nested deeper than %d", XML_MAX_DEPTH);
		return;
	}
	GHashTable *scope = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], "xmlns") == 0)
			g_hash_table_insert(scope, g_strdup(""), g_strdup(values[i]));
		else if (g_str_has_prefix(names[i], "xmlns:"))
			g_hash_table_insert(scope, g_strdup(names[i] + 6), g_strdup(values[i]));
	}
	b->scopes = g_slist_prepend(b->scopes, scope);

	const char *colon = strchr(element, ':');
	g_autofree char *prefix = colon ? g_strndup(element, colon - element) : g_strdup("");
	XmlNode *n = node_new(colon ? colon + 1 : element, b->cur);
	n->ns = g_strdup(scope_lookup(b->scopes, prefix));
	n->attr_names = g_strdupv((char **)names);
	n->attr_values = g_strdupv((char **)values);
	if (b->cur == NULL) {
		if (b->root != NULL) {
			g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
				    "more than one root element");
			xml_node_free(n);
			return;
		}
		b->root = n;
	} else {
		g_ptr_array_add(b->cur->children, n);
	}
	b->cur = n;
}

static void
build_end(GMarkupParseContext *ctx, const char *element, gpointer user, GError **error)
{
	XmlBuild *b = user;
	b->depth--;
	GHashTable *scope = b->scopes->data;
	b->scopes = g_slist_delete_link(b->scopes, b->scopes);
	g_hash_table_unref(scope);
	b->cur = b->cur->parent;
}

static void
build_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user, GError **error)
{
	XmlBuild *b = user;
	if (b->cur != NULL)
		g_string_append_len(b->cur->text, text, len);
}

static const GMarkupParser build_parser = {
	.start_element = build_start,
	.end_element = build_end,
	.text = build_text,
};

/* xml_parse - parse one XML document into a tree (transfer full) */
XmlNode *
xml_parse(const char *text, gsize len, GError **error)
{
	XmlBuild b = { 0 };
	GMarkupParseContext *ctx = g_markup_parse_context_new(&build_parser, 0, &b, NULL);
	gboolean ok = g_markup_parse_context_parse(ctx, text, len, error) &&
		      g_markup_parse_context_end_parse(ctx, error);
	g_markup_parse_context_free(ctx);
	g_slist_free_full(b.scopes, (GDestroyNotify)g_hash_table_unref);
	if (ok && b.root == NULL) {
		g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_EMPTY, "no root element");
		ok = FALSE;
	}
	if (!ok) {
		xml_node_free(b.root);
		return NULL;
	}
	return b.root;
}

/* xml_child - first child with local name LNAME (case-insensitive), or NULL */
XmlNode *
xml_child(const XmlNode *node, const char *lname)
{
	if (node == NULL)
		return NULL;
	for (guint i = 0; i < node->children->len; i++) {
		XmlNode *c = g_ptr_array_index(node->children, i);
		if (g_ascii_strcasecmp(c->name, lname) == 0)
			return c;
	}
	return NULL;
}

/* xml_is_leaf - TRUE when the node has no element children */
gboolean
xml_is_leaf(const XmlNode *node)
{
	return node != NULL && node->children->len == 0;
}

/* xml_text - the node's text with surrounding whitespace removed; NULL for NULL */
const char *
xml_text(const XmlNode *node)
{
	if (node == NULL)
		return NULL;
	/* Trim in place once: element text in CSTA is never whitespace-significant. */
	GString *t = node->text;
	gsize start = 0;
	while (start < t->len && g_ascii_isspace(t->str[start]))
		start++;
	g_string_erase(t, 0, start);
	while (t->len > 0 && g_ascii_isspace(t->str[t->len - 1]))
		g_string_truncate(t, t->len - 1);
	return t->str;
}

/* xml_child_text - trimmed text of child LNAME, or NULL when absent */
const char *
xml_child_text(const XmlNode *node, const char *lname)
{
	XmlNode *c = xml_child(node, lname);
	return c ? xml_text(c) : NULL;
}

/* xml_path_text - trimmed text at a '/'-separated path of local names, or NULL */
const char *
xml_path_text(const XmlNode *node, const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	const XmlNode *n = node;
	for (int i = 0; parts[i] != NULL && n != NULL; i++)
		n = xml_child(n, parts[i]);
	return n ? xml_text(n) : NULL;
}

/* xml_escape_append - append TEXT with &, <, >, " escaped */
void
xml_escape_append(GString *out, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		case '"': g_string_append(out, "&quot;"); break;
		default: g_string_append_c(out, *p); break;
		}
	}
}

/* xml_set_prefix - write every element as PREFIX:name from now on; NULL or "" for none */
void
xml_set_prefix(const char *prefix)
{
	g_free(xml_prefix);
	xml_prefix = prefix != NULL && *prefix != '\0' ? g_strdup(prefix) : NULL;
}

/* xml_prefix_valid - TRUE when PREFIX can be written as an XML name prefix */
gboolean
xml_prefix_valid(const char *prefix)
{
	if (prefix == NULL || !(g_ascii_isalpha(*prefix) || *prefix == '_'))
		return FALSE;
	for (const char *p = prefix; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && strchr("_-.", *p) == NULL)
			return FALSE;
	return strlen(prefix) < 32 && g_ascii_strncasecmp(prefix, "xml", 3) != 0;
}

static void
put_name(GString *out, const char *name)
{
	if (xml_prefix != NULL)
		g_string_append_printf(out, "%s:", xml_prefix);
	g_string_append(out, name);
}

static void
put_root(GString *out, const char *name, const char *ns)
{
	g_string_append_c(out, '<');
	put_name(out, name);
	if (xml_prefix != NULL)
		g_string_append_printf(out, " xmlns:%s=\"", xml_prefix);
	else
		g_string_append(out, " xmlns=\"");
	xml_escape_append(out, ns);
	g_string_append_c(out, '"');
}

/* xml_open_root - append a root start tag declaring namespace NS */
void
xml_open_root(GString *out, const char *name, const char *ns)
{
	put_root(out, name, ns);
	g_string_append_c(out, '>');
}

/* xml_empty_root - append an empty root element declaring namespace NS */
void
xml_empty_root(GString *out, const char *name, const char *ns)
{
	put_root(out, name, ns);
	g_string_append(out, "/>");
}

/* xml_open - append a start tag */
void
xml_open(GString *out, const char *name)
{
	g_string_append_c(out, '<');
	put_name(out, name);
	g_string_append_c(out, '>');
}

/* xml_close - append an end tag */
void
xml_close(GString *out, const char *name)
{
	g_string_append(out, "</");
	put_name(out, name);
	g_string_append_c(out, '>');
}

/* xml_empty - append an empty element */
void
xml_empty(GString *out, const char *name)
{
	g_string_append_c(out, '<');
	put_name(out, name);
	g_string_append(out, "/>");
}

/* xml_leaf - append <name>escaped text</name> */
void
xml_leaf(GString *out, const char *name, const char *text)
{
	xml_open(out, name);
	xml_escape_append(out, text);
	xml_close(out, name);
}

/* xml_conn_id - append a ConnectionID element (callID then deviceID; either may be NULL) */
void
xml_conn_id(GString *out, const char *name, const char *call, const char *device)
{
	xml_open(out, name);
	if (call != NULL)
		xml_leaf(out, "callID", call);
	if (device != NULL)
		xml_leaf(out, "deviceID", device);
	xml_close(out, name);
}

/* xml_ext_device - append an ExtendedDeviceID (deviceIdentifier, or notKnown for NULL) */
void
xml_ext_device(GString *out, const char *name, const char *device)
{
	xml_open(out, name);
	if (device != NULL)
		xml_leaf(out, "deviceIdentifier", device);
	else
		xml_empty(out, "notKnown");
	xml_close(out, name);
}
