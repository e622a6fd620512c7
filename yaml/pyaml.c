#include "yaml/pyaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

int pyaml_fail(const pyaml *y, const yaml_node_t *at, const char *path, const char *fmt, ...)
{
	char sentence[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sentence, sizeof(sentence), fmt, ap);
	va_end(ap);
	const char *sep = path[0] != '\0' ? ": " : "";
	if (at == NULL)
		return cg_error_set(y->err, EINVAL, "%s: %s%s%s", y->name, path, sep, sentence);
	return cg_error_set(y->err, EINVAL, "%s:%zu:%zu: %s%s%s", y->name, at->start_mark.line + 1,
			    at->start_mark.column + 1, path, sep, sentence);
}

const char *pyaml_quote(const yaml_node_t *n, char *out, size_t outsz)
{
	const size_t shown = 64;
	if (outsz < 8)
		return "";
	if (n->type != YAML_SCALAR_NODE) {
		snprintf(out, outsz, "%s", n->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
		return out;
	}
	const unsigned char *s = n->data.scalar.value;
	size_t len = n->data.scalar.length, k = 0;
	out[k++] = '"';
	for (size_t i = 0; i < len && k + 5 < outsz; i++) {
		if (i == shown) {
			memcpy(out + k, "...", 3);
			k += 3;
			break;
		}
		/* Never echo a control byte into a log line or terminal. */
		out[k++] = (s[i] < 0x20 || s[i] >= 0x7f) ? '?' : (char)s[i];
	}
	out[k++] = '"';
	out[k] = '\0';
	return out;
}

/* libyaml reader errors carry a byte offset but no mark. */
static void offset_mark(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	size_t start = 0;
	for (size_t i = 0; i < off && i < len; i++)
		if (buf[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	*col = off - start + 1;
}

static int parser_fail(pyaml *y, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	size_t line, col;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return cg_error_set(y->err, ENOMEM, "%s: out of memory", y->name);
	case YAML_READER_ERROR:
		offset_mark(buf, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return cg_error_set(y->err, EINVAL, "%s:%zu:%zu: invalid YAML: %s (#%X)",
					    y->name, line, col, problem,
					    (unsigned)p->problem_value);
		return cg_error_set(y->err, EINVAL, "%s:%zu:%zu: invalid YAML: %s", y->name, line,
				    col, problem);
	default:
		line = p->problem_mark.line + 1;
		col = p->problem_mark.column + 1;
		if (p->context != NULL)
			return cg_error_set(
				y->err, EINVAL,
				"%s:%zu:%zu: invalid YAML: %s (%s that started at %zu:%zu)",
				y->name, line, col, problem, p->context, p->context_mark.line + 1,
				p->context_mark.column + 1);
		return cg_error_set(y->err, EINVAL, "%s:%zu:%zu: invalid YAML: %s", y->name, line,
				    col, problem);
	}
}

static int load_one(pyaml *y, yaml_parser_t *parser, const char *buf, size_t len)
{
	if (!yaml_parser_load(parser, &y->doc))
		return parser_fail(y, parser, buf, len);
	y->loaded = true;
	if (yaml_document_get_root_node(&y->doc) == NULL)
		return cg_error_set(y->err, EINVAL, "%s:1:1: the policy is empty", y->name);

	/* A second document would be silently ignored by a reader of the
	 * first one only: refuse it. */
	yaml_document_t next;
	if (!yaml_parser_load(parser, &next))
		return parser_fail(y, parser, buf, len);
	const yaml_node_t *extra = yaml_document_get_root_node(&next);
	int rc = 0;
	if (extra != NULL)
		rc = pyaml_fail(y, extra, "",
				"a second YAML document; a policy file holds exactly one policy");
	yaml_document_delete(&next);
	return rc;
}

int pyaml_load(pyaml *y, const char *buf, size_t len, const char *name, cg_error *err)
{
	*y = (pyaml){.name = name, .err = err};
	if (len > PYAML_MAX_INPUT)
		return cg_error_set(err, EFBIG, "%s: the policy is larger than %u bytes", name,
				    PYAML_MAX_INPUT);
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return cg_error_set(err, ENOMEM, "%s: out of memory", name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	int rc = load_one(y, &parser, buf, len);
	yaml_parser_delete(&parser);
	if (rc < 0)
		pyaml_free(y);
	return rc;
}

void pyaml_free(pyaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *pyaml_root(pyaml *y)
{
	return yaml_document_get_root_node(&y->doc);
}

/* An explicit tag (!!int, !foo) would ask for a type capgate does not
 * resolve; the loader gives untagged nodes the default tag of their kind. */
static int check_tag(pyaml *y, const yaml_node_t *n, const char *path)
{
	const char *want = n->type == YAML_SCALAR_NODE	   ? YAML_DEFAULT_SCALAR_TAG
			   : n->type == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
							   : YAML_DEFAULT_MAPPING_TAG;
	const char *tag = (const char *)n->tag;
	if (tag == NULL || strcmp(tag, want) == 0)
		return 0;
	/* Show the tag as it was written for the core schema (!!int). */
	const char *core = "tag:yaml.org,2002:";
	bool short_form = strncmp(tag, core, strlen(core)) == 0;
	return pyaml_fail(y, n, path, "YAML tags are not supported (found %s%.64s)",
			  short_form ? "!!" : "", short_form ? tag + strlen(core) : tag);
}

size_t pyaml_list_len(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *pyaml_list_at(pyaml *y, const yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

size_t pyaml_map_len(const yaml_node_t *map)
{
	return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

void pyaml_pair_at(pyaml *y, const yaml_node_t *map, size_t i, yaml_node_t **key, yaml_node_t **val)
{
	const yaml_node_pair_t *pair = &map->data.mapping.pairs.start[i];
	*key = yaml_document_get_node(&y->doc, pair->key);
	*val = yaml_document_get_node(&y->doc, pair->value);
}

int pyaml_mapping(pyaml *y, yaml_node_t *n, const char *path, const char *what)
{
	if (n->type != YAML_MAPPING_NODE)
		return pyaml_fail(y, n, path, "expected a mapping of %s", what);
	if (check_tag(y, n, path) < 0)
		return -1;
	if (pyaml_map_len(n) > PYAML_MAX_ITEMS)
		return pyaml_fail(y, n, path, "more than %d entries", PYAML_MAX_ITEMS);
	for (size_t i = 0; i < pyaml_map_len(n); i++) {
		yaml_node_t *k, *v;
		pyaml_pair_at(y, n, i, &k, &v);
		if (k->type != YAML_SCALAR_NODE)
			return pyaml_fail(y, k, path, "a key must be a string, not %s",
					  k->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
		if (check_tag(y, k, path) < 0)
			return -1;
	}
	return 0;
}

int pyaml_list(pyaml *y, yaml_node_t *n, const char *path, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return pyaml_fail(y, n, path, "expected a list of %s", what);
	if (check_tag(y, n, path) < 0)
		return -1;
	if (pyaml_list_len(n) > PYAML_MAX_ITEMS)
		return pyaml_fail(y, n, path, "more than %d entries", PYAML_MAX_ITEMS);
	return 0;
}

static bool same_text(const yaml_node_t *a, const yaml_node_t *b)
{
	return a->data.scalar.length == b->data.scalar.length &&
	       memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

int pyaml_unique_key(pyaml *y, const yaml_node_t *map, size_t i, const char *path)
{
	yaml_node_t *k, *v;
	pyaml_pair_at(y, map, i, &k, &v);
	for (size_t j = 0; j < i; j++) {
		yaml_node_t *kj, *vj;
		pyaml_pair_at(y, map, j, &kj, &vj);
		if (same_text(k, kj)) {
			char q[80];
			return pyaml_fail(y, k, path, "duplicate key %s (first at line %zu)",
					  pyaml_quote(k, q, sizeof(q)), kj->start_mark.line + 1);
		}
	}
	return 0;
}

static void join(const char *const *names, char *out, size_t outsz)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; names[i] != NULL; i++) {
		int n = snprintf(out + k, outsz - k, "%s%s", i ? ", " : "", names[i]);
		if (n < 0 || (size_t)n >= outsz - k)
			return;
		k += (size_t)n;
	}
}

int pyaml_fields(pyaml *y, yaml_node_t *map, const char *path, const char *const *keys,
		 yaml_node_t **vals)
{
	char valid[256], q[80];
	size_t nkeys = 0;
	while (keys[nkeys] != NULL)
		vals[nkeys++] = NULL;
	join(keys, valid, sizeof(valid));
	if (map->type != YAML_MAPPING_NODE)
		return pyaml_fail(y, map, path, "expected a mapping with the keys %s", valid);
	if (pyaml_mapping(y, map, path, "") < 0)
		return -1;
	for (size_t i = 0; i < pyaml_map_len(map); i++) {
		yaml_node_t *k, *v;
		pyaml_pair_at(y, map, i, &k, &v);
		size_t j = 0;
		while (j < nkeys &&
		       !(strcmp(keys[j], sval(k)) == 0 && strlen(keys[j]) == k->data.scalar.length))
			j++;
		/* Typos must never be ignored: a misspelt key would otherwise
		 * leave its default silently in force. */
		if (j == nkeys)
			return pyaml_fail(y, k, path, "unknown key %s; valid keys are %s",
					  pyaml_quote(k, q, sizeof(q)), valid);
		if (vals[j] != NULL)
			return pyaml_unique_key(y, map, i, path);
		vals[j] = v;
	}
	return 0;
}

int pyaml_required(pyaml *y, const yaml_node_t *map, const char *path, const char *key,
		   const yaml_node_t *val)
{
	if (val != NULL)
		return 0;
	return pyaml_fail(y, map, path, "missing required key \"%s\"", key);
}

static int scalar(pyaml *y, yaml_node_t *n, const char *path, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		return pyaml_fail(y, n, path, "expected %s, not %s", what,
				  n->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
	return check_tag(y, n, path);
}

int pyaml_string(pyaml *y, yaml_node_t *n, const char *path, const char *what, enum pyaml_text kind,
		 size_t max, const char **s, size_t *len)
{
	if (scalar(y, n, path, what) < 0)
		return -1;
	const unsigned char *v = n->data.scalar.value;
	size_t l = n->data.scalar.length;
	/* "\0" is a valid escape in a double-quoted YAML string; C strings
	 * would silently cut the value there. */
	if (memchr(v, '\0', l) != NULL)
		return pyaml_fail(y, n, path, "a string must not contain a NUL character");
	if (kind == PYAML_TEXT_LINE)
		for (size_t i = 0; i < l; i++)
			if (v[i] < 0x20 || v[i] == 0x7f)
				return pyaml_fail(y, n, path,
						  "control characters are not allowed here");
	if (l > max)
		return pyaml_fail(y, n, path, "%s is longer than %zu characters", what, max);
	*s = (const char *)v;
	if (len != NULL)
		*len = l;
	return 0;
}

int pyaml_bool(pyaml *y, yaml_node_t *n, const char *path, bool *out)
{
	char q[80];
	if (scalar(y, n, path, "true or false") < 0)
		return -1;
	bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (plain && strcmp(sval(n), "true") == 0)
		*out = true;
	else if (plain && strcmp(sval(n), "false") == 0)
		*out = false;
	else if (!plain)
		return pyaml_fail(y, n, path, "expected true or false, not the quoted string %s",
				  pyaml_quote(n, q, sizeof(q)));
	else
		return pyaml_fail(y, n, path, "expected true or false, not %s",
				  pyaml_quote(n, q, sizeof(q)));
	return 0;
}

int pyaml_int(pyaml *y, yaml_node_t *n, const char *path, long min, long max, int *out)
{
	char q[80];
	if (scalar(y, n, path, "a decimal integer") < 0)
		return -1;
	const char *s = sval(n);
	size_t len = n->data.scalar.length, i = (s[0] == '-');
	bool ok = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && len > i && len - i <= 9;
	/* No leading zeros: YAML 1.1 readers take 010 as octal 8. */
	ok = ok && !(s[i] == '0' && len - i > 1);
	for (; ok && i < len; i++)
		ok = s[i] >= '0' && s[i] <= '9';
	if (!ok)
		return pyaml_fail(y, n, path, "expected a decimal integer, not %s",
				  pyaml_quote(n, q, sizeof(q)));
	long v = strtol(s, NULL, 10);
	if (v < min || v > max)
		return pyaml_fail(y, n, path, "%ld is out of range; expected %ld to %ld", v, min,
				  max);
	*out = (int)v;
	return 0;
}

int pyaml_enum(pyaml *y, yaml_node_t *n, const char *path, const char *const *names, int *out)
{
	char valid[256], q[80];
	join(names, valid, sizeof(valid));
	char what[300];
	snprintf(what, sizeof(what), "one of %s", valid);
	if (scalar(y, n, path, what) < 0)
		return -1;
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], sval(n)) == 0 && strlen(names[i]) == n->data.scalar.length) {
			*out = i;
			return 0;
		}
	return pyaml_fail(y, n, path, "%s is not one of %s", pyaml_quote(n, q, sizeof(q)), valid);
}

int pyaml_dup(pyaml *y, const char *s, size_t len, char **out)
{
	char *d = strndup(s, len);
	if (d == NULL)
		return cg_error_set(y->err, ENOMEM, "%s: out of memory", y->name);
	free(*out);
	*out = d;
	return 0;
}

const char *pyaml_path(char *out, size_t outsz, const char *path, const char *key)
{
	if (snprintf(out, outsz, "%s%s%s", path, path[0] != '\0' ? "." : "", key) < 0)
		out[0] = '\0';
	return out;
}

int pyaml_line(pyaml *y, yaml_node_t *n, const char *path, size_t max, char **out)
{
	const char *s;
	size_t len;
	if (pyaml_string(y, n, path, "a string", PYAML_TEXT_LINE, max, &s, &len) < 0)
		return -1;
	return pyaml_dup(y, s, len, out);
}
