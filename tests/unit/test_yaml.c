/* yaml/yamlload, yaml/yamldump: what kubectl, helm and kustomize print must read as the
 * apiserver would read it, errors must point at line and column, hostile
 * input must be refused, and dump must read back to the same value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "yaml/yamldump.h"
#include "yaml/yamlload.h"

#define DATA "tests/data/yaml/"

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
	if (j == NULL)
		fail_msg("bad test JSON: %s: %s", je.text, text);
	return j;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* Loads text, failing the test on error. */
static json_t *load(const char *text, size_t **lines)
{
	json_t *docs = NULL;
	cg_error err = {0};
	int r = lines ? yamlload_all_lines(text, strlen(text), "t.yaml", &docs, lines, &err)
		      : yamlload_all(text, strlen(text), "t.yaml", &docs, &err);
	if (r < 0)
		fail_msg("load failed: %s\n--- input:\n%s", err.msg, text);
	assert_int_equal(r, 0);
	assert_true(json_is_array(docs));
	return docs;
}

/* Loads text, which must fail with exactly want. */
static void expect_load_err(const char *text, const char *want)
{
	json_t *docs = (json_t *)0x1;
	size_t *lines = (size_t *)0x1;
	cg_error err = {0};
	int r = yamlload_all_lines(text, strlen(text), "t.yaml", &docs, &lines, &err);
	if (r == 0)
		fail_msg("loaded, want error %s\n--- input:\n%s", want, text);
	assert_int_equal(r, -1);
	assert_null(docs);
	assert_null(lines);
	if (strcmp(err.msg, want) != 0)
		fail_msg("got  \"%s\"\nwant \"%s\"", err.msg, want);
}

static void assert_json(const json_t *got, const json_t *want)
{
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
		char *w = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
		fail_msg("got  %s\nwant %s", g, w);
	}
}

/* <name>.yaml against <name>.expected.json {"docs": [...], "lines": [...]}. */
static void test_data_file(void **state)
{
	const char *name = *state;
	char path[256];
	size_t len;
	snprintf(path, sizeof(path), DATA "%s.yaml", name);
	cleanup_free char *text = read_file(path, &len);
	snprintf(path, sizeof(path), DATA "%s.expected.json", name);
	json_error_t je;
	cleanup_json json_t *want = json_load_file(path, 0, &je);
	assert_non_null(want);
	cleanup_json json_t *docs = NULL;
	cleanup_free size_t *lines = NULL;
	cg_error err = {0};
	if (yamlload_all_lines(text, len, name, &docs, &lines, &err) < 0)
		fail_msg("%s", err.msg);
	assert_json(docs, json_object_get(want, "docs"));
	json_t *wl = json_object_get(want, "lines");
	assert_int_equal(json_array_size(wl), json_array_size(docs));
	for (size_t i = 0; i < json_array_size(wl); i++)
		assert_int_equal(lines[i], json_integer_value(json_array_get(wl, i)));
}

/* JSON is YAML: kubectl -o json output must read exactly as jansson reads
 * it (numbers keep their integer or real type). */
static void test_kubectl_json(void **state)
{
	(void)state;
	size_t len;
	cleanup_free char *text = read_file(DATA "kubectl-list.json", &len);
	json_error_t je;
	cleanup_json json_t *want = json_loadb(text, len, 0, &je);
	assert_non_null(want);
	cleanup_json json_t *docs = NULL;
	cg_error err = {0};
	if (yamlload_all(text, len, "kubectl-list.json", &docs, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(json_array_size(docs), 1);
	assert_json(json_array_get(docs, 0), want);
	/* JSON with a surrogate pair escape (Python's json.dumps), which
	 * YAML 1.1 cannot read, still loads, several values in one stream */
	size_t *lines = NULL;
	cleanup_json json_t *sp =
		load(" {\"a\": \"\\ud83d\\ude00 \\u00e9\"}\n\n[1,\n 2.5, \"x\"]\nnull\n{\"b\": {}}",
		     &lines);
	cleanup_json json_t *sp_want =
		parse("[{\"a\":\"\xf0\x9f\x98\x80 \xc3\xa9\"},[1,2.5,\"x\"],{\"b\":{}}]");
	assert_json(sp, sp_want);
	assert_int_equal(lines[0], 1);
	assert_int_equal(lines[1], 3);
	assert_int_equal(lines[2], 6);
	free(lines);
	expect_load_err("{\"a\": \"\\ud83d\\ude00\"}\n{\"b\": 1,\n \"b\": 2}",
			"t.yaml:3:4: duplicate object key near '\"b\"' (document 2)");
	expect_load_err("[\"\\ud83d\\ude00\"] [\"\\ud83d\"]",
			"t.yaml:1:26: invalid Unicode '\\uD83D' near '\"\\ud83d\"' (document 2)");
	char deep[512] = "[\"\\ud83d\\ude00\",";
	for (int i = 0; i < 64; i++)
		strcat(deep, "[");
	for (int i = 0; i < 65; i++)
		strcat(deep, "]");
	expect_load_err(deep, "t.yaml:1:1: nesting deeper than 64 levels (document 1)");
	/* and compact JSON, several objects in one stream */
	cleanup_json json_t *d2 =
		load("{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null}}\n---\n[true,false]\n", NULL);
	cleanup_json json_t *w2 = parse("[{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null}},[true,false]]");
	assert_json(d2, w2);
}

static void test_empty_documents(void **state)
{
	(void)state;
	size_t *lines = NULL;
	cleanup_json json_t *docs =
		load("---\n---\n# only a comment\n---\na: 1\n...\n---\nnull\n--- "
		     "~\n---\n\n\n  b: 2\n--- # trailing\n",
		     &lines);
	cleanup_json json_t *want = parse("[{\"a\":1},{\"b\":2}]");
	assert_json(docs, want);
	assert_int_equal(lines[0], 5);
	assert_int_equal(lines[1], 13);
	free(lines);
	/* Windows line ends and a byte order mark, as an editor may save. */
	lines = NULL;
	cleanup_json json_t *crlf = load("\xef\xbb\xbf"
					 "a: 1\r\nb:\r\n  - x\r\n---\r\nc: |\r\n  l1\r\n  l2\r\n",
					 &lines);
	cleanup_json json_t *crlf_want = parse("[{\"a\":1,\"b\":[\"x\"]},{\"c\":\"l1\\nl2\\n\"}]");
	assert_json(crlf, crlf_want);
	assert_int_equal(lines[1], 5);
	free(lines);
	const char *nothing[] = {"", "\n\n", "# just\n# comments\n", "---\n", "--- \n...\n---\n"};
	for (size_t i = 0; i < sizeof(nothing) / sizeof(nothing[0]); i++) {
		lines = (size_t *)0x1;
		cleanup_json json_t *none = load(nothing[i], &lines);
		assert_int_equal(json_array_size(none), 0);
		assert_null(lines);
	}
}

/* Each plain or quoted scalar against the JSON that sigs.k8s.io/yaml
 * produces for it. */
static void test_scalars(void **state)
{
	(void)state;
	static const char *cases[][2] = {
		{"null", "null"},
		{"Null", "null"},
		{"NULL", "null"},
		{"~", "null"},
		{"", "null"},
		{"nULL", "\"nULL\""},
		{"true", "true"},
		{"True", "true"},
		{"TRUE", "true"},
		{"yes", "true"},
		{"Yes", "true"},
		{"YES", "true"},
		{"y", "true"},
		{"Y", "true"},
		{"on", "true"},
		{"On", "true"},
		{"ON", "true"},
		{"false", "false"},
		{"False", "false"},
		{"FALSE", "false"},
		{"no", "false"},
		{"No", "false"},
		{"NO", "false"},
		{"n", "false"},
		{"N", "false"},
		{"off", "false"},
		{"Off", "false"},
		{"OFF", "false"},
		{"tRUE", "\"tRUE\""},
		{"yEs", "\"yEs\""},
		{"oN", "\"oN\""},
		{"0", "0"},
		{"-0", "0"},
		{"+12", "12"},
		{"-17", "-17"},
		{"0x1F", "31"},
		{"0X1f", "31"},
		{"-0x10", "-16"},
		{"0o17", "15"},
		{"0O17", "15"},
		{"017", "15"},
		{"0b101", "5"},
		{"-0b11", "-3"},
		{"1_000", "1000"},
		{"0x_1F", "31"},
		{"_1", "\"_1\""},
		{"0x", "\"0x\""},
		{"0xG", "\"0xG\""},
		{"08", "8.0"},
		{"09.5", "9.5"},
		{"9223372036854775807", "9223372036854775807"},
		{"-9223372036854775808", "-9223372036854775808"},
		{"-9223372036854775809", "-9.223372036854775809e18"},
		{"99999999999999999999", "1e20"},
		{"1.5", "1.5"},
		{"1.", "1.0"},
		{".5", "0.5"},
		{"-.5", "-0.5"},
		{"+.5e1", "5.0"},
		{"1e3", "1000.0"},
		{"1E-2", "0.01"},
		{"6.02e+23", "6.02e23"},
		{"1e999", "\"1e999\""},
		{".5_0", "\".5_0\""},
		{"1_0.5", "10.5"},
		{"1.2.3", "\"1.2.3\""},
		{".Nan", "\".Nan\""},
		{"e3", "\"e3\""},
		{"2001-12-14", "\"2001-12-14\""},
		{"2001-12-14T21:59:43.10-05:00", "\"2001-12-14T21:59:43.10-05:00\""},
		{"12:30", "\"12:30\""},
		{"<<", "\"<<\""},
		{"+", "\"+\""},
		{"nginx:1.25", "\"nginx:1.25\""},
		{"10.96.0.10", "\"10.96.0.10\""},
		{"\"true\"", "\"true\""},
		{"'80'", "\"80\""},
		{"\"null\"", "\"null\""},
		{"''", "\"\""},
		{"\"1.0\"", "\"1.0\""},
		{"\"\\t\\u00e9\\x41\"", "\"\\t\\u00e9A\""},
		{"|-\n  12", "\"12\""},
		{">-\n  yes", "\"yes\""},
		{"!!str 12", "\"12\""},
		{"!!str yes", "\"yes\""},
		{"!!int \"12\"", "12"},
		{"!!float 3", "3.0"},
		{"!!bool 'yes'", "true"},
		{"!!null ''", "null"},
		{"!custom 12", "\"12\""},
		{"!custom yes", "\"yes\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "v: %s\n", cases[i][0]);
		cleanup_json json_t *docs = load(text, NULL);
		cleanup_json json_t *want = parse(cases[i][1]);
		json_t *got = json_object_get(json_array_get(docs, 0), "v");
		if (got == NULL || !json_equal(got, want)) {
			char *g = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
			fail_msg("v: %s -> %s, want %s", cases[i][0], g ? g : "(none)",
				 cases[i][1]);
		}
	}
}

static void test_keys(void **state)
{
	(void)state;
	cleanup_json json_t *docs =
		load("yes: a\nn: b\n1: c\n0x10: d\n1.5: e\n1e6: f\n'': g\n\"1.0\": h\n"
		     "!!str 017: i\n~x: j\n\"a\\0b\": k\n",
		     NULL);
	cleanup_json json_t *want =
		parse("{\"true\":\"a\",\"false\":\"b\",\"1\":\"c\",\"16\":\"d\",\"1.5\":\"e\","
		      "\"1e+06\":\"f\",\"\":\"g\",\"1.0\":\"h\",\"017\":\"i\",\"~x\":\"j\"}");
	/* A NUL in a key survives; json_equal cannot see such keys (it looks
	 * keys up as C strings), so it is checked on its own. */
	json_t *got = json_array_get(docs, 0);
	assert_string_equal(json_string_value(json_object_getn(got, "a\0b", 3)), "k");
	assert_int_equal(json_object_deln(got, "a\0b", 3), 0);
	assert_json(got, want);
	/* key order is kept */
	const char *k = NULL;
	json_t *v;
	size_t i = 0;
	json_object_foreach(json_array_get(docs, 0), k, v)
	{
		if (i++ == 2)
			break;
	}
	assert_string_equal(k, "1");
}

static void test_anchors_and_merge(void **state)
{
	(void)state;
	cleanup_json json_t *docs = load("base: &b\n  x: 1\n  v: [1, 2]\n"
					 "extra: &e {z: 3, x: 7}\n"
					 "copy: *b\n"
					 "m1:\n  x: 9\n  <<: *b\n"
					 "m2:\n  <<: [*e, *b]\n  w: 0\n"
					 "m3:\n  <<: {k: v}\n",
					 NULL);
	cleanup_json json_t *want =
		parse("{\"base\":{\"x\":1,\"v\":[1,2]},\"extra\":{\"z\":3,\"x\":7},"
		      "\"copy\":{\"x\":1,\"v\":[1,2]},\"m1\":{\"x\":9,\"v\":[1,2]},"
		      "\"m2\":{\"w\":0,\"z\":3,\"x\":7,\"v\":[1,2]},\"m3\":{\"k\":\"v\"}}");
	json_t *d = json_array_get(docs, 0);
	assert_json(d, want);
	/* an alias is a copy: changing one place leaves the other alone */
	json_object_set_new(json_object_get(d, "copy"), "x", json_integer(5));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "base"), "x")), 1);
	/* anchors do not cross documents */
	expect_load_err("a: &x 1\n---\nb: *x\n", "t.yaml:3:4: unknown anchor \"x\" (document 2)");
	expect_load_err("m:\n  <<: 5\n", "t.yaml:2:3: a merge key (<<) needs a mapping or a list "
					 "of mappings (document 1)");
}

static void test_errors(void **state)
{
	(void)state;
	expect_load_err(
		"kind: Pod\nspec:\n  containers:\n  - name: a\n    image: x\n    image: y\n",
		"t.yaml:6:5: duplicate key \"image\" (document 1)");
	expect_load_err("a: 1\n---\n---\n# c\nb: 1\n\"b\": 2\n",
			"t.yaml:6:1: duplicate key \"b\" (document 3)");
	expect_load_err("1: a\n'1': b\n", "t.yaml:2:1: duplicate key \"1\" (document 1)");
	expect_load_err("yes: a\ntrue: b\n", "t.yaml:2:1: duplicate key \"true\" (document 1)");
	expect_load_err("{\"a\": 1, \"a\": 2}", "t.yaml:1:10: duplicate key \"a\" (document 1)");
	expect_load_err("a: [1, 2\nb: 3\n",
			"t.yaml:2:2: did not find expected ',' or ']' (while "
			"parsing a flow sequence started at line 1) (document 1)");
	expect_load_err("a:\n  b: 1\n c: 2\n",
			"t.yaml:3:2: did not find expected key (while "
			"parsing a block mapping started at line 1) (document "
			"1)");
	expect_load_err("ok: 1\n---\na:\n\tb: 1\n",
			"t.yaml:4:1: found character that cannot start any token (while scanning "
			"for the next token started at line 4) (document 2)");
	expect_load_err("a: b\nc: \"x\xff\"\n",
			"t.yaml:2:6: invalid leading UTF-8 octet (document 1)");
	expect_load_err("? [a]\n: 1\n",
			"t.yaml:1:3: a mapping key must be a string, not a sequence (document 1)");
	expect_load_err("{a: 1}: 1\n",
			"t.yaml:1:1: a mapping key must be a string, not a mapping (document 1)");
	expect_load_err("x: &a 1\n*a : 2\n",
			"t.yaml:2:1: a mapping key must be a string, not an alias (document 1)");
	expect_load_err("~: 1\n",
			"t.yaml:1:1: a mapping key must be a string, not null (document 1)");
	expect_load_err("a: *nope\n", "t.yaml:1:4: unknown anchor \"nope\" (document 1)");
	expect_load_err("a:\n  - .inf\n",
			"t.yaml:2:5: .inf is a float that JSON cannot represent (document 1)");
	expect_load_err("a: -.Inf\n",
			"t.yaml:1:4: -.Inf is a float that JSON cannot represent (document 1)");
	expect_load_err(
		"a: 18446744073709551615\n",
		"t.yaml:1:4: integer 18446744073709551615 does not fit in 64 bits (document 1)");
	expect_load_err("a: !!int x1\n", "t.yaml:1:4: cannot read \"x1\" as !!int (document 1)");
	expect_load_err("a: !!binary aGk=\n",
			"t.yaml:1:4: !!binary values are not supported (document 1)");
	/* the name given is the one reported */
	json_t *docs;
	cg_error err = {0};
	assert_int_equal(yamlload_all("a: [", 4, "chart/x.yaml", &docs, &err), -1);
	assert_string_equal(err.msg, "chart/x.yaml:2:1: did not find expected node content (while "
				     "parsing a flow node started at line 2) (document 1)");
}

/* Each lolN is ten copies of lol(N-1): about 10^9 nodes if expanded. */
static void test_alias_bomb(void **state)
{
	(void)state;
	char text[2048];
	size_t n = (size_t)snprintf(text, sizeof(text), "lol0: &l0 [lol, lol, lol]\n");
	for (int i = 1; i <= 9; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "lol%d: &l%d [", i, i);
		for (int j = 0; j < 10; j++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "*l%d%s", i - 1,
					      j < 9 ? ", " : "]\n");
	}
	clock_t t0 = clock();
	cg_error err = {0};
	json_t *docs = NULL;
	assert_int_equal(yamlload_all(text, n, "bomb.yaml", &docs, &err), -1);
	assert_null(docs);
	assert_non_null(strstr(err.msg, "aliases expand to more than 100000 nodes"));
	assert_non_null(strstr(err.msg, "bomb.yaml:6:"));
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	/* the same shape four levels deep (~40000 nodes) is fine */
	char *cut = strstr(text, "lol5:");
	assert_non_null(cut);
	cleanup_json json_t *ok = NULL;
	assert_int_equal(yamlload_all(text, (size_t)(cut - text), "ok.yaml", &ok, &err), 0);
	assert_int_equal(
		json_array_size(json_array_get(json_object_get(json_array_get(ok, 0), "lol4"), 9)),
		10);
}

static char *nested(int depth, bool flow)
{
	char *s = malloc((size_t)depth * (size_t)(flow ? 2 : depth + 8) + 16);
	size_t n = 0;
	for (int i = 0; i < depth; i++) {
		if (flow)
			s[n++] = '[';
		else
			n += (size_t)sprintf(s + n, "%*sk:\n", i * 2, "");
	}
	if (flow) {
		for (int i = 0; i < depth; i++)
			s[n++] = ']';
		s[n++] = '\n';
	} else {
		n += (size_t)sprintf(s + n, "%*sx\n", depth * 2, "");
	}
	s[n] = '\0';
	return s;
}

static void test_depth_limit(void **state)
{
	(void)state;
	cleanup_free char *f64 = nested(YAMLLOAD_MAX_DEPTH, true);
	cleanup_free char *b64 = nested(YAMLLOAD_MAX_DEPTH, false);
	cleanup_json json_t *a = load(f64, NULL);
	cleanup_json json_t *b = load(b64, NULL);
	cleanup_free char *f65 = nested(YAMLLOAD_MAX_DEPTH + 1, true);
	cleanup_free char *b65 = nested(YAMLLOAD_MAX_DEPTH + 1, false);
	expect_load_err(f65, "t.yaml:1:65: nesting deeper than 64 levels (document 1)");
	/* block mapping number 65 starts at the 65th key */
	expect_load_err(b65, "t.yaml:65:129: nesting deeper than 64 levels (document 1)");
	/* an alias cannot be used to nest deeper either */
	expect_load_err(
		"a: &d "
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
		"b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*d]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		"t.yaml:2:34: alias *d nests deeper than 64 levels (document 1)");
}

static char *dump(const json_t *v)
{
	cg_buf b = {0};
	cg_error err = {0};
	if (yamldump(v, &b, &err) < 0)
		fail_msg("dump: %s", err.msg);
	return b.data;
}

static void test_dump_text(void **state)
{
	(void)state;
	cleanup_json json_t *v = parse(
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"labels\":{\"on\":"
		"\"true\",\"z\":\"1\",\"a\":\"y\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
		"\"ports\":[{\"containerPort\":80}],\"args\":[\"80\",\"\",\"null\",\"1.0\","
		"\"a: b\",\"#c\",\"sh\\necho\\n\",\"1e999\",\"2\"]}],\"e\":{},\"l\":[],"
		"\"n\":null,\"f\":0.1,\"g\":2.0,\"i\":-7,\"b\":false}}");
	cleanup_free char *got = dump(v);
	const char *want = "apiVersion: v1\n"
			   "kind: Pod\n"
			   "metadata:\n"
			   "  labels:\n"
			   "    'on': 'true'\n"
			   "    z: '1'\n"
			   "    a: 'y'\n"
			   "spec:\n"
			   "  containers:\n"
			   "  - name: c\n"
			   "    ports:\n"
			   "    - containerPort: 80\n"
			   "    args:\n"
			   "    - '80'\n"
			   "    - ''\n"
			   "    - 'null'\n"
			   "    - '1.0'\n"
			   "    - 'a: b'\n"
			   "    - '#c'\n"
			   "    - |\n"
			   "      sh\n"
			   "      echo\n"
			   "    - '1e999'\n"
			   "    - '2'\n"
			   "  e: {}\n"
			   "  l: []\n"
			   "  'n': null\n"
			   "  f: 0.1\n"
			   "  g: 2.0\n"
			   "  i: -7\n"
			   "  b: false\n";
	assert_string_equal(got, want);
	/* dump appends */
	cg_buf b = {0};
	cg_error err = {0};
	assert_int_equal(buf_puts(&b, "---\n"), 0);
	cleanup_json json_t *s = json_string("x");
	assert_int_equal(yamldump(s, &b, &err), 0);
	assert_int_equal(buf_puts(&b, "---\n"), 0);
	assert_int_equal(yamldump(s, &b, &err), 0);
	cleanup_json json_t *again = load(b.data, NULL);
	cleanup_json json_t *two = parse("[\"x\",\"x\"]");
	assert_json(again, two);
	buf_free(&b);
	assert_int_equal(yamldump(NULL, &b, &err), -1);
	/* NUL and other control bytes come back through escapes */
	cleanup_json json_t *ctl = json_stringn("a\0b\x01\x1b\xc2\x85", 7);
	cleanup_free char *ctl_text = dump(ctl);
	cleanup_json json_t *ctl_back = load(ctl_text, NULL);
	assert_true(json_equal(json_array_get(ctl_back, 0), ctl));
}

static const char *const tricky[] = {
	"",	"true", "True",	      "y",     "N",	     "on",	    "OFF",	    "null",
	"~",	"80",	"-1",	      "0x1F",  "0o17",	     "017",	    "08",	    "1_000",
	"1.0",	".5",	"1e3",	      "1e999", ".inf",	     "-.Inf",	    ".nan",	    "<<",
	"-",	"- x",	"?",	      ": x",   "a: b",	     "a #b",	    "#c",	    "---",
	"...",	"@x",	"`x",	      "%x",    "!x",	     "&x",	    "*x",	    "|",
	">",	"[a]",	"{a}",	      "'q'",   "\"dq\"",     " lead",	    "trail ",	    "\t",
	"a\nb", "a\n",	"\n",	      "a\n\n", "\n a",	     "caf\xc3\xa9", "\xe2\x80\xa8", "\x01",
	"\x7f", "a\\b", "2001-12-14", "12:30", "nginx:1.25", "a,b",	    "x\r\ny",
};

static json_t *random_value(int depth)
{
	int kind = rand() % (depth > 3 ? 6 : 8);
	switch (kind) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rand() % 2);
	case 2: {
		static const json_int_t edge[] = {
			0, -1, 1, 80, 0x7fffffffffffffffLL, -0x7fffffffffffffffLL - 1};
		return rand() % 2 ? json_integer(edge[rand() % 6])
				  : json_integer((json_int_t)rand() - RAND_MAX / 2);
	}
	case 3: {
		static const double edge[] = {0.0, -0.0, 1.0, 0.1, 1e300, 5e-324, -2.5, 1e16, 1e21};
		return json_real(rand() % 2 ? edge[rand() % 9]
					    : (double)rand() / (rand() + 1) *
						      (rand() % 2 ? 1 : -1e-3));
	}
	case 4:
	case 5: {
		if (rand() % 2)
			return json_string(
				tricky[rand() % (int)(sizeof(tricky) / sizeof(*tricky))]);
		char s[12];
		size_t n = (size_t)(rand() % 8);
		for (size_t i = 0; i < n; i++)
			s[i] = " \n-:#'\"0123yn.~x"[rand() % 16];
		s[n] = '\0';
		return json_string(s);
	}
	case 6: {
		json_t *a = json_array();
		for (int i = rand() % 4; i > 0; i--)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (int i = rand() % 5; i > 0; i--) {
			json_t *k = random_value(4);
			const char *key = json_is_string(k) ? json_string_value(k) : "k";
			json_object_set_new(o, key, random_value(depth + 1));
			json_decref(k);
		}
		return o;
	}
	}
}

static void test_round_trip_random(void **state)
{
	(void)state;
	srand(1123);
	for (int i = 0; i < 400; i++) {
		cleanup_json json_t *v = random_value(0);
		cleanup_free char *text = dump(v);
		json_t *docs = NULL;
		cg_error err = {0};
		if (yamlload_all(text, strlen(text), "dump", &docs, &err) < 0)
			fail_msg("case %d: %s\n%s", i, err.msg, text);
		cleanup_json json_t *d = docs;
		/* a null document is skipped like an empty one */
		json_t *back = json_is_null(v) ? json_null() : json_array_get(docs, 0);
		assert_int_equal(json_array_size(docs), json_is_null(v) ? 0 : 1);
		if (!json_equal(back, v)) {
			char *w = json_dumps(v, JSON_ENCODE_ANY);
			char *g = json_dumps(back, JSON_ENCODE_ANY);
			fail_msg("case %d: %s\n-- yaml:\n%s-- back: %s", i, w, text, g);
		}
	}
}

/* A dumped manifest, loaded again, is the same manifest: for every
 * document of the data files. */
static void test_round_trip_files(void **state)
{
	(void)state;
	const char *files[] = {DATA "helm.yaml", DATA "kubectl-list.yaml",
			       DATA "kubectl-list.json"};
	for (size_t f = 0; f < 3; f++) {
		size_t len;
		cleanup_free char *text = read_file(files[f], &len);
		cleanup_json json_t *docs = NULL;
		cg_error err = {0};
		assert_int_equal(yamlload_all(text, len, files[f], &docs, &err), 0);
		cg_buf all = {0};
		for (size_t i = 0; i < json_array_size(docs); i++) {
			assert_int_equal(buf_puts(&all, "---\n"), 0);
			assert_int_equal(yamldump(json_array_get(docs, i), &all, &err), 0);
		}
		cleanup_json json_t *back = load(all.data, NULL);
		assert_json(back, docs);
		buf_free(&all);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{.name = "helm template output",
		 .test_func = test_data_file,
		 .initial_state = "helm"},
		{.name = "kustomize build output",
		 .test_func = test_data_file,
		 .initial_state = "kustomize"},
		{.name = "kubectl List yaml",
		 .test_func = test_data_file,
		 .initial_state = "kubectl-list"},
		cmocka_unit_test(test_kubectl_json),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_anchors_and_merge),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_dump_text),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_round_trip_files),
	};
	return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
