/* Writing CEL text (see cel_expr.h). */
#include "admission/cel_expr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cel_put(cel_expr *e, const char *s)
{
	if (e->rc == 0 && buf_puts(&e->b, s) < 0)
		e->rc = -ENOMEM;
}

void cel_putf(cel_expr *e, const char *fmt, ...)
{
	if (e->rc != 0)
		return;
	char small[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(small))
		e->rc = -ENAMETOOLONG; /* formats here are short; text goes via cel_quote() */
	else
		cel_put(e, small);
}

void cel_quote(cel_expr *e, const char *s)
{
	cel_put(e, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p && e->rc == 0; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[3] = {'\\', (char)*p, '\0'};
			cel_put(e, esc);
		} else if (*p < 0x20 || *p == 0x7f) {
			cel_putf(e, "\\x%02x", *p);
		} else if (buf_putc(&e->b, (char)*p) < 0) {
			e->rc = -ENOMEM;
		}
	}
	cel_put(e, "\"");
}

void cel_strlist(cel_expr *e, const policy_strlist *l)
{
	cel_put(e, "[");
	for (size_t i = 0; i < l->n; i++) {
		cel_put(e, i ? ", " : "");
		cel_quote(e, l->v[i]);
	}
	cel_put(e, "]");
}

void cel_capslist(cel_expr *e, caps_set s)
{
	bool first = true;
	cel_put(e, "[");
	for (int i = 0; i < 64; i++) {
		if (!(s & CAPS_BIT(i)) || caps_name(i) == NULL)
			continue;
		cel_put(e, first ? "" : ", ");
		cel_quote(e, caps_name(i));
		first = false;
	}
	cel_put(e, "]");
}

/* Whether the array's elements are not all of one JSON type. */
static bool mixed(const json_t *a)
{
	size_t i;
	const json_t *v;
	json_array_foreach(a, i, v)
	{
		if (json_typeof(v) != json_typeof(json_array_get(a, 0)) &&
		    !(json_is_boolean(v) && json_is_boolean(json_array_get(a, 0))))
			return true;
	}
	return false;
}

void cel_json(cel_expr *e, const json_t *v)
{
	size_t i;
	const char *k;
	const json_t *x;
	switch (json_typeof(v)) {
	case JSON_STRING:
		cel_quote(e, json_string_value(v));
		break;
	case JSON_INTEGER:
		cel_putf(e, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		cel_putf(e, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		cel_put(e, "true");
		break;
	case JSON_FALSE:
		cel_put(e, "false");
		break;
	case JSON_NULL:
		cel_put(e, "null");
		break;
	case JSON_ARRAY: {
		bool dyn = mixed(v);
		cel_put(e, "[");
		json_array_foreach(v, i, x)
		{
			cel_put(e, i ? ", " : "");
			cel_put(e, dyn ? "dyn(" : "");
			cel_json(e, x);
			cel_put(e, dyn ? ")" : "");
		}
		cel_put(e, "]");
		break;
	}
	case JSON_OBJECT: {
		bool first = true;
		cel_put(e, "{");
		json_object_foreach((json_t *)v, k, x)
		{
			cel_put(e, first ? "" : ", ");
			first = false;
			cel_quote(e, k);
			cel_put(e, ": dyn(");
			cel_json(e, x);
			cel_put(e, ")");
		}
		cel_put(e, "}");
		break;
	}
	}
}

/* root.k1.k2...: the member when every step is present and not null, else
 * null. */
void cel_member(cel_expr *e, const char *root, const char *const *keys, size_t n)
{
	char path[256];
	size_t k = (size_t)snprintf(path, sizeof(path), "%s", root);
	cel_put(e, "(");
	for (size_t i = 0; i < n && k < sizeof(path); i++) {
		cel_putf(e, "%shas(%s.%s) && %s.%s != null", i ? " && " : "", path, keys[i], path,
			 keys[i]);
		k += (size_t)snprintf(path + k, sizeof(path) - k, ".%s", keys[i]);
	}
	if (k >= sizeof(path))
		e->rc = -ENAMETOOLONG;
	cel_putf(e, " ? %s : null)", path);
}

/* The webhook replaces each byte outside 0x20..0x7e with '?' (a character
 * of N UTF-8 bytes becomes N of them) and cuts by bytes: once every
 * character is ASCII, characters are bytes and substring() cuts the same.
 * split("") yields code points (cel-go: Go's strings.Split).
 * [x].map(...)[0] evaluates x once (CEL has no let in every apiserver). */
void cel_printable(cel_expr *e, const char *x, size_t max, bool ellipsis)
{
	cel_put(e, "[");
	cel_put(e, x);
	cel_put(e, "].map(p_s, p_s.matches(\"^[ -~]*$\") ? p_s :\n"
		   "    p_s.split(\"\").map(p_c, p_c.matches(\"^[ -~]$\") ? p_c :\n"
		   "      [\"?\", \"??\", \"???\", \"????\"][bytes(p_c).size() - 1]).join(\"\"))");
	cel_putf(e, ".map(p_s,\n    p_s.size() > %zu ? p_s.substring(0, %zu)%s : p_s)[0]", max, max,
		 ellipsis ? " + \"...\"" : "");
}

int cel_add_var(json_t *vars, const char *name, cel_expr *e, cg_error *err)
{
	if (e->rc != 0) {
		int rc = e->rc;
		buf_free(&e->b);
		e->rc = 0;
		return cg_error_set(err, -rc, "variable %s: %s", name,
				    rc == -ENOMEM ? "out of memory" : "text too long");
	}
	json_t *v = json_pack("{s:s, s:s}", "name", name, "expression", e->b.data);
	buf_free(&e->b);
	if (v == NULL || json_array_append_new(vars, v) < 0)
		return cg_error_set(err, ENOMEM, "out of memory");
	return 0;
}

char *cel_take(cel_expr *e)
{
	if (e->rc != 0) {
		buf_free(&e->b);
		return NULL;
	}
	char *s = e->b.data; /* owned by the caller now */
	e->b = (cg_buf){0};
	return s;
}
