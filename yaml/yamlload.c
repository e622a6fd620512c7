/* Loading YAML as sigs.k8s.io/yaml does, with libyaml's event API; see
 * yamlload.h.
 *
 * Loading walks parser events rather than libyaml's document tree so that
 * every node keeps its mark for errors and alias expansion can be counted
 * (and refused) before it allocates. Aliases are deep-copied: the caller
 * may edit one place of a document without changing another. */
#include "yaml/yamlload.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/cleanup.h"
#include "yaml/yamlscalar.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct anchor {
	char *name;
	json_t *node;
	size_t nodes; /* nodes in the subtree, for the alias budget */
	int height;   /* collection nesting inside the subtree */
} anchor;

typedef struct ctx {
	yaml_parser_t parser;
	const char *name;
	const char *buf;
	size_t len;
	size_t doc;  /* documents started so far */
	bool in_doc; /* between DOCUMENT-START and DOCUMENT-END */
	anchor *anchors;
	size_t nanchors, cap;
	size_t alias_nodes;
	cg_error *err;
} ctx;

static int fail_at(ctx *c, yaml_mark_t m, const char *fmt, ...) CG_PRINTF(3, 4);
static int fail_at(ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cg_error_set(c->err, EINVAL, "%s:%zu:%zu: %s (document %zu)", c->name, m.line + 1,
			    m.column + 1, what, c->doc + (c->in_doc ? 0 : 1));
}

static void anchors_clear(ctx *c)
{
	for (size_t i = 0; i < c->nanchors; i++) {
		free(c->anchors[i].name);
		json_decref(c->anchors[i].node);
	}
	c->nanchors = 0;
}

static int next_event(ctx *c, yaml_event_t *ev)
{
	if (yaml_parser_parse(&c->parser, ev))
		return 0;
	yaml_parser_t *p = &c->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		yaml_mark_t m = {0};
		for (size_t i = 0; i < p->problem_offset && i < c->len; i++) {
			bool nl = c->buf[i] == '\n';
			m.line += nl;
			m.column = nl ? 0 : m.column + 1;
		}
		return fail_at(c, m, "%s", problem);
	}
	if (p->context != NULL)
		return fail_at(c, p->problem_mark, "%s (%s started at line %zu)", problem,
			       p->context, p->context_mark.line + 1);
	return fail_at(c, p->problem_mark, "%s", problem);
}

static const char *event_name(yaml_event_type_t t)
{
	return t == YAML_MAPPING_START_EVENT	? "a mapping"
	       : t == YAML_SEQUENCE_START_EVENT ? "a sequence"
						: "an alias";
}

/* The value of a scalar event, honouring the core tags. */
static json_t *scalar_value(ctx *c, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *core = tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0
				   ? tag + strlen(TAG_PREFIX)
				   : NULL;
	bool typed = core && (strcmp(core, "null") == 0 || strcmp(core, "bool") == 0 ||
			      strcmp(core, "int") == 0 || strcmp(core, "float") == 0);
	yamlscalar r = {.t = YAMLSCALAR_STR};
	/* Quoted scalars, and tags other than the core ones, are strings
	 * (go-yaml v2 resolves only plain scalars and resolvable tags). */
	if (core && strcmp(core, "binary") == 0) {
		fail_at(c, ev->start_mark, "!!binary values are not supported");
		return NULL;
	}
	if (typed || (tag == NULL && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
		cg_error oom;
		if (yamlscalar_resolve(s, len, &r, &oom) < 0) {
			fail_at(c, ev->start_mark, "out of memory");
			return NULL;
		}
	}
	if (typed) {
		bool ok = (core[0] == 'n' && r.t == YAMLSCALAR_NULL) ||
			  (core[0] == 'b' && r.t == YAMLSCALAR_BOOL) ||
			  (core[0] == 'i' && r.t == YAMLSCALAR_INT) ||
			  (core[0] == 'f' && (r.t == YAMLSCALAR_FLOAT || r.t == YAMLSCALAR_INT ||
					      r.t == YAMLSCALAR_NONJSON));
		if (!ok) {
			fail_at(c, ev->start_mark, "cannot read \"%.*s\" as !!%s",
				(int)(len > 60 ? 60 : len), s, core);
			return NULL;
		}
		if (core[0] == 'f' && r.t == YAMLSCALAR_INT) {
			r.t = YAMLSCALAR_FLOAT;
			r.d = (double)r.i;
		}
	}
	json_t *v = NULL;
	switch (r.t) {
	case YAMLSCALAR_STR:
		v = json_stringn(s, len);
		break;
	case YAMLSCALAR_NULL:
		v = json_null();
		break;
	case YAMLSCALAR_BOOL:
		v = json_boolean(r.b);
		break;
	case YAMLSCALAR_INT:
		v = json_integer(r.i);
		break;
	case YAMLSCALAR_FLOAT:
		v = json_real(r.d);
		break;
	case YAMLSCALAR_NONJSON:
		fail_at(c, ev->start_mark, "%.*s is a float that JSON cannot represent", (int)len,
			s);
		return NULL;
	case YAMLSCALAR_UINT64:
		fail_at(c, ev->start_mark, "integer %.*s does not fit in 64 bits", (int)len, s);
		return NULL;
	}
	if (v == NULL)
		fail_at(c, ev->start_mark, "invalid string");
	return v;
}

static json_t *load_node(ctx *c, yaml_event_t *ev, int depth, size_t *nodes, int *height);

static json_t *load_event(ctx *c, int depth, size_t *nodes, int *height, yaml_event_t *first)
{
	yaml_event_t ev;
	if (next_event(c, &ev) < 0)
		return NULL;
	if (first != NULL)
		*first = ev; /* only its type and marks are used after this */
	return load_node(c, &ev, depth, nodes, height);
}

/* Go's strconv.FormatFloat(f, 'g', -1, 32), as sigs.k8s.io/yaml writes a
 * float mapping key. */
static void go_float32(double d, char *out, size_t n)
{
	float f = (float)d;
	char e[32];
	int prec = 1;
	for (; prec < 9; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
		if ((float)strtod(e, NULL) == f)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
	int x = atoi(strchr(e, 'e') + 1);
	if (x < -4 || x >= 6)
		snprintf(out, n, "%s", e);
	else
		snprintf(out, n, "%.*f", prec - 1 - x > 0 ? prec - 1 - x : 0, (double)f);
}

/* The string form of a scalar mapping key, as sigs.k8s.io/yaml converts it
 * (`1: a` -> "1", `yes: a` -> "true"). */
static int key_string(ctx *c, const json_t *k, yaml_mark_t m, char *buf, size_t bufsz,
		      const char **key, size_t *klen)
{
	switch (json_typeof(k)) {
	case JSON_STRING:
		*key = json_string_value(k);
		*klen = json_string_length(k);
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		*key = json_is_true(k) ? "true" : "false";
		break;
	case JSON_INTEGER:
		snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
		*key = buf;
		break;
	case JSON_REAL:
		go_float32(json_real_value(k), buf, bufsz);
		*key = buf;
		break;
	default:
		return fail_at(c, m, "a mapping key must be a string, not %s",
			       json_is_null(k) ? "null" : "a collection");
	}
	*klen = strlen(*key);
	return 0;
}

/* Merge keys: `<<: *base` or `<<: [*a, *b]`. Keys already in obj win, and
 * so do earlier maps over later ones (YAML merge key spec). */
static int merge_into(ctx *c, json_t *obj, json_t *src, yaml_mark_t m)
{
	if (json_is_array(src)) {
		for (size_t i = 0; i < json_array_size(src); i++) {
			json_t *one = json_array_get(src, i);
			if (!json_is_object(one))
				return fail_at(c, m, "a merge key (<<) needs mappings");
			if (merge_into(c, obj, one, m) < 0)
				return -1;
		}
		return 0;
	}
	if (!json_is_object(src))
		return fail_at(c, m, "a merge key (<<) needs a mapping or a list of mappings");
	const char *k;
	size_t kl;
	json_t *v;
	json_object_keylen_foreach(src, k, kl, v)
	{
		if (json_object_getn(obj, k, kl) == NULL && json_object_setn(obj, k, kl, v) < 0)
			return fail_at(c, m, "out of memory");
	}
	return 0;
}

static json_t *load_mapping(ctx *c, int depth, size_t *nodes, int *height)
{
	cleanup_json json_t *obj = json_object();
	cleanup_json json_t *merges = json_array();
	yaml_mark_t merge_mark = {0};
	for (;;) {
		yaml_event_t kev;
		if (next_event(c, &kev) < 0)
			return NULL;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		yaml_mark_t km = kev.start_mark;
		if (kev.type != YAML_SCALAR_EVENT) {
			yaml_event_type_t t = kev.type;
			yaml_event_delete(&kev);
			fail_at(c, km, "a mapping key must be a string, not %s", event_name(t));
			return NULL;
		}
		bool is_merge = kev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				kev.data.scalar.length == 2 &&
				memcmp(kev.data.scalar.value, "<<", 2) == 0 &&
				(kev.data.scalar.tag == NULL ||
				 strcmp((char *)kev.data.scalar.tag, TAG_PREFIX "merge") == 0);
		size_t kn;
		int kh;
		cleanup_json json_t *k = load_node(c, &kev, depth, &kn, &kh);
		if (k == NULL)
			return NULL;
		size_t vn;
		int vh;
		cleanup_json json_t *v = load_event(c, depth, &vn, &vh, NULL);
		if (v == NULL)
			return NULL;
		*nodes += vn + 1;
		*height = vh + 1 > *height ? vh + 1 : *height;
		if (is_merge) {
			merge_mark = km;
			if (json_array_append(merges, v) < 0)
				return NULL;
			continue;
		}
		char buf[64];
		const char *key = NULL;
		size_t klen = 0;
		if (key_string(c, k, km, buf, sizeof(buf), &key, &klen) < 0)
			return NULL;
		if (json_object_getn(obj, key, klen) != NULL) {
			fail_at(c, km, "duplicate key \"%.*s\"", (int)(klen > 80 ? 80 : klen), key);
			return NULL;
		}
		if (json_object_setn_new(obj, key, klen, cg_steal(v)) < 0) {
			fail_at(c, km, "invalid key");
			return NULL;
		}
	}
	for (size_t i = 0; i < json_array_size(merges); i++)
		if (merge_into(c, obj, json_array_get(merges, i), merge_mark) < 0)
			return NULL;
	return cg_steal(obj);
}

static json_t *load_sequence(ctx *c, int depth, size_t *nodes, int *height)
{
	cleanup_json json_t *arr = json_array();
	for (;;) {
		yaml_event_t ev;
		if (next_event(c, &ev) < 0)
			return NULL;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return cg_steal(arr);
		}
		size_t n;
		int h;
		json_t *v = load_node(c, &ev, depth, &n, &h);
		if (v == NULL || json_array_append_new(arr, v) < 0)
			return NULL;
		*nodes += n;
		*height = h + 1 > *height ? h + 1 : *height;
	}
}

static json_t *expand_alias(ctx *c, const char *name, yaml_mark_t m, int depth, size_t *nodes,
			    int *height)
{
	for (size_t i = c->nanchors; i-- > 0;) {
		anchor *a = &c->anchors[i];
		if (strcmp(a->name, name) != 0)
			continue;
		if (depth + a->height > YAMLLOAD_MAX_DEPTH) {
			fail_at(c, m, "alias *%s nests deeper than %d levels", name,
				YAMLLOAD_MAX_DEPTH);
			return NULL;
		}
		c->alias_nodes += a->nodes;
		if (c->alias_nodes > YAMLLOAD_MAX_ALIAS_NODES) {
			fail_at(c, m, "aliases expand to more than %d nodes; refusing the document",
				YAMLLOAD_MAX_ALIAS_NODES);
			return NULL;
		}
		*nodes = a->nodes;
		*height = a->height;
		return json_deep_copy(a->node);
	}
	fail_at(c, m, "unknown anchor \"%s\"", name);
	return NULL;
}

/* Builds the node that starts with ev (which this consumes). depth counts
 * the collections around it. */
static json_t *load_node(ctx *c, yaml_event_t *ev, int depth, size_t *nodes, int *height)
{
	json_t *v = NULL;
	const char *anchor_name = NULL;
	yaml_mark_t m = ev->start_mark;
	*nodes = 1;
	*height = 0;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor_name = (const char *)ev->data.scalar.anchor;
		v = scalar_value(c, ev);
		break;
	case YAML_ALIAS_EVENT:
		v = expand_alias(c, (const char *)ev->data.alias.anchor, m, depth, nodes, height);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		anchor_name = (const char *)(ev->type == YAML_MAPPING_START_EVENT
						     ? ev->data.mapping_start.anchor
						     : ev->data.sequence_start.anchor);
		if (depth + 1 > YAMLLOAD_MAX_DEPTH) {
			fail_at(c, m, "nesting deeper than %d levels", YAMLLOAD_MAX_DEPTH);
			break;
		}
		*height = 1;
		v = ev->type == YAML_MAPPING_START_EVENT
			    ? load_mapping(c, depth + 1, nodes, height)
			    : load_sequence(c, depth + 1, nodes, height);
		break;
	default:
		fail_at(c, m, "unexpected YAML event %d", (int)ev->type);
		break;
	}
	if (v != NULL && anchor_name != NULL) {
		if (c->nanchors == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 8;
			anchor *a = realloc(c->anchors, cap * sizeof(*a));
			if (a == NULL) {
				json_decref(v);
				v = NULL;
				fail_at(c, m, "out of memory");
				goto out;
			}
			c->anchors = a;
			c->cap = cap;
		}
		anchor *a = &c->anchors[c->nanchors];
		a->name = strdup(anchor_name);
		if (a->name == NULL) {
			json_decref(v);
			v = NULL;
			fail_at(c, m, "out of memory");
			goto out;
		}
		a->node = json_incref(v);
		a->nodes = *nodes;
		a->height = *height;
		c->nanchors++;
	}
out:
	yaml_event_delete(ev);
	return v;
}

/* Appends a non-null document and its line; *cap tracks *lines. */
static int add_doc(json_t *docs, size_t **lines, size_t *cap, json_t *v, size_t line)
{
	if (json_is_null(v))
		return 0;
	size_t i = json_array_size(docs);
	if (lines != NULL && i == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		size_t *l = realloc(*lines, ncap * sizeof(*l));
		if (l == NULL)
			return -ENOMEM;
		*lines = l;
		*cap = ncap;
	}
	if (lines != NULL)
		(*lines)[i] = line;
	return json_array_append(docs, v) < 0 ? -ENOMEM : 0;
}

static int load_stream(ctx *c, json_t *docs, size_t **lines)
{
	size_t cap = 0;
	for (;;) {
		yaml_event_t ev;
		if (next_event(c, &ev) < 0)
			return -1;
		yaml_event_type_t t = ev.type;
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			return 0;
		if (t != YAML_DOCUMENT_START_EVENT)
			continue;
		c->doc++;
		c->in_doc = true;
		size_t n;
		int h;
		yaml_event_t first;
		cleanup_json json_t *root = load_event(c, 0, &n, &h, &first);
		if (root == NULL)
			return -1;
		anchors_clear(c);
		if (next_event(c, &ev) < 0)
			return -1;
		yaml_event_delete(&ev);
		c->in_doc = false;
		if (add_doc(docs, lines, &cap, root, first.start_mark.line + 1) < 0)
			return fail_at(c, first.start_mark, "out of memory");
	}
}

static int json_height(const json_t *v)
{
	int h = 0;
	const char *k;
	json_t *x;
	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, x)
		{
			int d = json_height(x);
			h = d > h ? d : h;
		}
	for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
		int d = json_height(json_array_get(v, i));
		h = d > h ? d : h;
	}
	return json_is_object(v) || json_is_array(v) ? h + 1 : 0;
}

/* libyaml reads YAML 1.1, whose "\u" escapes cannot be UTF-16 surrogates,
 * so it refuses JSON that escapes a character outside the BMP as a pair
 * ("\ud83d\ude00", as Python's json.dumps writes by default). Input that
 * is a stream of JSON values is then read by jansson, with the same rules:
 * no duplicate keys, null documents skipped, the same depth limit. */
static int load_json_stream(const char *buf, size_t len, const char *name, json_t *docs,
			    size_t **lines, cg_error *err)
{
	size_t off = 0, line = 1, cap = 0, doc = 0;
	for (;;) {
		for (; off < len && strchr(" \t\r\n", buf[off]) != NULL && buf[off]; off++)
			line += buf[off] == '\n';
		if (off >= len)
			return 0;
		doc++;
		json_error_t je;
		cleanup_json json_t *v = json_loadb(buf + off, len - off,
						    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK |
							    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
						    &je);
		if (v == NULL) {
			/* jansson counts from off; on off's own line, add its column. */
			size_t col = 0;
			while (je.line <= 1 && col < off && buf[off - col - 1] != '\n')
				col++;
			return cg_error_set(err, EINVAL, "%s:%zu:%zu: %s (document %zu)", name,
					    line + (size_t)(je.line > 1 ? je.line - 1 : 0),
					    col + (size_t)(je.column > 0 ? je.column : 1), je.text,
					    doc);
		}
		if (json_height(v) > YAMLLOAD_MAX_DEPTH)
			return cg_error_set(
				err, EINVAL,
				"%s:%zu:1: nesting deeper than %d levels (document %zu)", name,
				line, YAMLLOAD_MAX_DEPTH, doc);
		if (add_doc(docs, lines, &cap, v, line) < 0)
			return cg_error_set(err, ENOMEM, "%s: out of memory", name);
		for (size_t i = 0; i < (size_t)je.position && off < len; i++, off++)
			line += buf[off] == '\n';
	}
}

int yamlload_all_lines(const char *buf, size_t len, const char *name, json_t **docs, size_t **lines,
		       cg_error *err)
{
	*docs = NULL;
	if (lines != NULL)
		*lines = NULL;
	ctx c = {.name = name ? name : "-", .buf = buf, .len = len, .err = err};
	if (!yaml_parser_initialize(&c.parser))
		return cg_error_set(err, ENOMEM, "%s: out of memory", c.name);
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)buf, len);
	cleanup_json json_t *arr = json_array();
	int r = arr ? load_stream(&c, arr, lines) : cg_error_set(err, ENOMEM, "out of memory");
	size_t lead = 0;
	while (lead < len && buf[lead] != '\0' && strchr(" \t\r\n", buf[lead]) != NULL)
		lead++;
	if (r < 0 && c.parser.error == YAML_SCANNER_ERROR && c.parser.problem != NULL &&
	    strcmp(c.parser.problem, "found invalid Unicode character escape code") == 0 &&
	    lead < len && (buf[lead] == '{' || buf[lead] == '[')) {
		json_array_clear(arr);
		r = load_json_stream(buf, len, c.name, arr, lines, err);
	}
	anchors_clear(&c);
	free(c.anchors);
	yaml_parser_delete(&c.parser);
	if (r < 0) {
		if (lines != NULL) {
			free(*lines);
			*lines = NULL;
		}
		return -1;
	}
	*docs = cg_steal(arr);
	return 0;
}

int yamlload_all(const char *buf, size_t len, const char *name, json_t **docs, cg_error *err)
{
	return yamlload_all_lines(buf, len, name, docs, NULL, err);
}
