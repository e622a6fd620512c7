/* JSON values written as block YAML with libyaml's emitter; see yamldump.h. */
#include "yaml/yamldump.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yaml/yamlscalar.h"

static int emit(yaml_emitter_t *e, yaml_event_t *ev, cg_error *err)
{
	if (yaml_emitter_emit(e, ev))
		return 0;
	return cg_error_set(err, EINVAL, "cannot write YAML: %s",
			    e->problem ? e->problem : "emitter error");
}

/* Quoted when the plain form would read back as something else; otherwise
 * libyaml picks plain when the syntax allows it and quotes when not. A
 * string with line breaks asks for a literal block, which libyaml turns
 * into a quoted one where a block cannot hold it (keys, trailing spaces). */
static int emit_string(yaml_emitter_t *e, const char *s, size_t n, bool key, cg_error *err)
{
	yamlscalar r;
	if (yamlscalar_resolve(s, n, &r, err) < 0)
		return -1;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	if (r.t != YAMLSCALAR_STR || r.numeric || (key && n == 2 && memcmp(s, "<<", 2) == 0))
		style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	else if (!key && memchr(s, '\n', n) != NULL)
		style = YAML_LITERAL_SCALAR_STYLE;
	if (n > 0x7fffffff)
		return cg_error_set(err, E2BIG, "cannot write YAML: string too long");
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style))
		return cg_error_set(err, ENOMEM, "out of memory");
	return emit(e, &ev, err);
}

static int emit_plain(yaml_emitter_t *e, const char *s, cg_error *err)
{
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
					  YAML_PLAIN_SCALAR_STYLE))
		return cg_error_set(err, ENOMEM, "out of memory");
	return emit(e, &ev, err);
}

/* The shortest text that reads back as the same double, and as a float:
 * "1" would come back as an integer, so it becomes "1.0". */
static void format_real(double d, char *out, size_t n)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, n, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (strpbrk(out, ".e") == NULL)
		strncat(out, ".0", n - strlen(out) - 1);
}

static int dump_node(yaml_emitter_t *e, const json_t *v, cg_error *err)
{
	yaml_event_t ev;
	char num[64];
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							 YAML_BLOCK_MAPPING_STYLE) ||
		    emit(e, &ev, err) < 0)
			return -1;
		const char *k;
		size_t kl;
		json_t *x;
		json_object_keylen_foreach((json_t *)v, k, kl, x)
		{
			if (emit_string(e, k, kl, true, err) < 0 || dump_node(e, x, err) < 0)
				return -1;
		}
		yaml_mapping_end_event_initialize(&ev);
		return emit(e, &ev, err);
	}
	case JSON_ARRAY:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_BLOCK_SEQUENCE_STYLE) ||
		    emit(e, &ev, err) < 0)
			return -1;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (dump_node(e, json_array_get(v, i), err) < 0)
				return -1;
		yaml_sequence_end_event_initialize(&ev);
		return emit(e, &ev, err);
	case JSON_STRING:
		return emit_string(e, json_string_value(v), json_string_length(v), false, err);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_plain(e, num, err);
	case JSON_REAL:
		format_real(json_real_value(v), num, sizeof(num));
		return emit_plain(e, num, err);
	case JSON_TRUE:
		return emit_plain(e, "true", err);
	case JSON_FALSE:
		return emit_plain(e, "false", err);
	case JSON_NULL:
		return emit_plain(e, "null", err);
	}
	return cg_error_set(err, EINVAL, "cannot write YAML: unknown JSON type");
}

static int write_buf(void *data, unsigned char *p, size_t n)
{
	return buf_append(data, p, n) == 0;
}

int yamldump(const json_t *v, cg_buf *out, cg_error *err)
{
	if (v == NULL)
		return cg_error_set(err, EINVAL, "cannot write YAML: no value");
	yaml_emitter_t e;
	if (!yaml_emitter_initialize(&e))
		return cg_error_set(err, ENOMEM, "out of memory");
	/* Into a scratch buffer, so a failure appends nothing to out. */
	cg_buf tmp = {0};
	yaml_emitter_set_output(&e, write_buf, &tmp);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_event_t ev;
	int r = 0;
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    emit(&e, &ev, err) < 0 ||
	    !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    emit(&e, &ev, err) < 0 || dump_node(&e, v, err) < 0 ||
	    !yaml_document_end_event_initialize(&ev, 1) || emit(&e, &ev, err) < 0 ||
	    !yaml_stream_end_event_initialize(&ev) || emit(&e, &ev, err) < 0 ||
	    !yaml_emitter_flush(&e))
		r = -1;
	yaml_emitter_delete(&e);
	if (r == 0 && buf_append(out, tmp.data, tmp.len) < 0)
		r = cg_error_set(err, ENOMEM, "out of memory");
	else if (r < 0 && err != NULL && err->msg[0] == '\0')
		cg_error_set(err, ENOMEM, "cannot write YAML: out of memory");
	buf_free(&tmp);
	return r;
}
