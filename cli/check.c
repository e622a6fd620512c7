/* `capgate check`: the engine run offline on manifests, for CI pipelines
 * and developers. Reads kubectl, `helm template` or `kustomize build`
 * output (multi-document YAML or JSON, List kinds), shows what capgate
 * would change and why, or prints the patches or the mutated objects.
 *
 * Exit codes: 0 nothing to change, 1 something would be changed or denied,
 * or is not compliant where capgate may not change it (an immutable
 * template on UPDATE, a controller's copy), 2 bad input or policy (the
 * message names the file and document).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "common/buf.h"
#include "common/cleanup.h"
#include "common/file.h"
#include "json/jsonpatch_apply.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "yaml/yamldump.h"
#include "yaml/yamlload.h"

#define CHECK_MAX_INPUT (64u << 20)

enum output { OUT_REPORT, OUT_PATCH, OUT_YAML, OUT_JSON };

struct check {
	const cg_policy *policy;
	enum output out;
	const char *namespace; /* --namespace: for objects that name none */
	const char *operation;
	const char *subresource; /* --subresource: "" or e.g. ephemeralcontainers */
	json_t *old_objects;	 /* --old-object: the objects as stored before */
	size_t objects, changed, denied, held;
	json_t *patches; /* -o patch */
	cg_buf text;	 /* -o yaml / json */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: capgate check [--policy FILE] [-o report|patch|yaml|json]\n"
		   "                     [--namespace NS] [--operation CREATE|UPDATE]\n"
		   "                     [--subresource ephemeralcontainers] [--old-object FILE]\n"
		   "                     FILE... | -\n\n"
		   "Evaluates Kubernetes manifests against a capability policy (the embedded\n"
		   "default when --policy is not given) and shows what capgate would do.\n"
		   "  --operation UPDATE  judge the objects as an update of what is stored:\n"
		   "                      --old-object FILE holds the stored objects (matched by\n"
		   "                      kind, namespace and name), as the apiserver sends them\n"
		   "                      in oldObject; --subresource ephemeralcontainers is what\n"
		   "                      `kubectl debug` sends for a Pod\n"
		   "  -o report  per object and container, what would change and why (default)\n"
		   "  -o patch   the JSON patches, as a JSON array\n"
		   "  -o yaml    the objects as capgate would leave them, document order kept\n"
		   "  -o json    the same as a stream of JSON documents\n"
		   "Exit status: 0 nothing to change, 1 something would change or be denied (or\n"
		   "is not compliant where capgate may not change it), 2 bad input or policy.\n");
}

/* Reads a whole file ("-" is stdin) into *data (free() it). */
static int read_all(const char *path, char **data, size_t *len, cg_error *err)
{
	if (strcmp(path, "-") == 0)
		return file_read_fd(STDIN_FILENO, path, CHECK_MAX_INPUT, 0, data, len, err);
	return file_read(path, CHECK_MAX_INPUT, 0, data, len, err);
}

static const char *meta_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
	return s ? s : "";
}

static void report(struct check *ck, const char *where, json_t *obj, const engine_decision *d)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *name = meta_str(obj, "name");
	if (!name[0])
		name = meta_str(obj, "generateName");
	const char *ns = meta_str(obj, "namespace");
	size_t ops = json_array_size(d->patch);
	const char *verdict = !d->allowed ? "denied" : ops ? "would be patched" : "compliant";
	char left[128];
	if (d->skipped) {
		snprintf(left, sizeof(left), "left alone (%s)", d->skipped);
		verdict = left;
	}
	char held[160];
	if (d->allowed && !ops && d->unpatched) {
		snprintf(held, sizeof(held), "not compliant, left as it is (%s)", d->unpatched);
		verdict = held;
	} else if (d->allowed && !ops && json_array_size(d->changes) > 0) {
		verdict = "would change (policy mode is not enforce: nothing patched)";
	}
	printf("%s: %s %s%s%s: %s", where, kind, ns, ns[0] ? "/" : "", name[0] ? name : "?",
	       verdict);
	if (ops)
		printf(" (%zu operation%s)", ops, ops == 1 ? "" : "s");
	printf("\n");
	size_t i;
	json_t *v;
	json_array_foreach(d->changes, i, v)
	{
		const char *c = json_string_value(json_object_get(v, "container"));
		printf("  %s%s%s%s\n", c && c[0] ? "container \"" : "pod: ", c ? c : "",
		       c && c[0] ? "\": " : "", json_string_value(json_object_get(v, "what")));
	}
	if (!d->allowed)
		printf("  denied: %s\n", d->message);
	json_array_foreach(d->warnings, i, v) printf("  warning: %s\n", json_string_value(v));
	(void)ck;
}

/* The stored object obj would replace on UPDATE: same kind, namespace and
 * name in --old-object, or NULL. */
static json_t *old_object(struct check *ck, json_t *obj, const char *ns)
{
	size_t i;
	json_t *o;
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_array_foreach(ck->old_objects, i, o)
	{
		const char *ok = json_string_value(json_object_get(o, "kind"));
		const char *ons = ck->namespace ? ck->namespace : meta_str(o, "namespace");
		if (!ons[0])
			ons = "default";
		if (ok && kind && strcmp(ok, kind) == 0 && strcmp(ons, ns) == 0 &&
		    strcmp(meta_str(o, "name"), meta_str(obj, "name")) == 0)
			return o;
	}
	return NULL;
}

/* Judges one object; *mutated is the object as capgate leaves it. */
static int judge(struct check *ck, const char *where, json_t *obj, json_t **mutated, cg_error *err)
{
	*mutated = json_incref(obj);
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (!json_is_object(obj) || kind == NULL)
		return cg_error_set(err, EINVAL, "%s: not a Kubernetes object (no kind)", where);
	const char *ns = ck->namespace;
	if (ns == NULL)
		ns = meta_str(obj, "namespace")[0] ? meta_str(obj, "namespace") : "default";
	engine_request req = {.kind = kind,
			      .operation = ck->operation,
			      .namespace = ns,
			      .sub_resource = ck->subresource,
			      .object = obj,
			      .old_object = old_object(ck, obj, ns),
			      .explain = true};
	engine_decision d;
	if (engine_decide(ck->policy, &req, &d, err) < 0)
		return cg_error_prefix(err, "%s: capgate cannot judge this object", where);
	ck->objects++;
	size_t ops = json_array_size(d.patch);
	if (!d.allowed)
		ck->denied++;
	else if (!ops && d.unpatched)
		ck->held++;
	else if (ops || json_array_size(d.changes) > 0)
		ck->changed++;
	if (ops) {
		json_t *after = NULL;
		if (jsonpatch_apply(obj, d.patch, &after, err) < 0) {
			engine_decision_clear(&d);
			return cg_error_prefix(err, "%s: capgate's own patch does not apply",
					       where);
		}
		json_decref(*mutated);
		*mutated = after;
	}
	if (ck->out == OUT_REPORT)
		report(ck, where, obj, &d);
	if (ck->out == OUT_PATCH && ops) {
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:O}", "source", where, "kind", kind,
				      "namespace", meta_str(obj, "namespace"), "name",
				      meta_str(obj, "name"), "patch", d.patch);
		json_array_append_new(ck->patches, e);
	}
	engine_decision_clear(&d);
	return 0;
}

/* sigs.k8s.io/yaml reads `1e3` as the float 1000 and Go's encoder writes
 * it back as 1000; capgate's YAML reader keeps it a real, which jansson
 * writes as 1000.0, and Go refuses 1000.0 for an int64 field (kubectl apply
 * of the output would fail). Integral values go out as integers. */
static void integral_reals(json_t *v)
{
	size_t i;
	const char *k;
	json_t *x;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			if (json_is_real(x)) {
				double d = json_real_value(x);
				if (d == trunc(d) && fabs(d) < 9.2e18)
					json_object_set_new_nocheck(v, k,
								    json_integer((json_int_t)d));
			} else {
				integral_reals(x);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			if (json_is_real(x)) {
				double d = json_real_value(x);
				if (d == trunc(d) && fabs(d) < 9.2e18)
					json_array_set_new(v, i, json_integer((json_int_t)d));
			} else {
				integral_reals(x);
			}
		}
	}
}

static int emit(struct check *ck, json_t *doc, cg_error *err)
{
	integral_reals(doc);
	if (ck->out == OUT_YAML) {
		if (ck->text.len > 0 && buf_puts(&ck->text, "---\n") < 0)
			return cg_error_set(err, ENOMEM, "out of memory");
		return yamldump(doc, &ck->text, err);
	}
	if (ck->out == OUT_JSON) {
		char *s = json_dumps(doc, JSON_INDENT(2));
		int rc = s ? buf_puts(&ck->text, s) | buf_puts(&ck->text, "\n") : -1;
		free(s);
		return rc < 0 ? cg_error_set(err, ENOMEM, "out of memory") : 0;
	}
	return 0;
}

static int check_file(struct check *ck, const char *path, cg_error *err)
{
	cleanup_free char *in = NULL;
	size_t in_len = 0;
	json_t *docs = NULL;
	size_t *lines = NULL;
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	int rc = read_all(path, &in, &in_len, err);
	if (rc == 0)
		rc = yamlload_all_lines(in, in_len, name, &docs, &lines, err);
	size_t i;
	json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		if (rc < 0)
			break;
		char where[600];
		snprintf(where, sizeof(where), "%s: document %zu (line %zu)", name, i + 1,
			 lines ? lines[i] : 0);
		json_t *items = json_object_get(doc, "items");
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		size_t kl = kind ? strlen(kind) : 0;
		json_t *out_doc = NULL;
		if (kl >= 4 && strcmp(kind + kl - 4, "List") == 0 && json_is_array(items)) {
			/* kubectl's List: judge each item, keep the list around them. */
			out_doc = json_deep_copy(doc);
			json_t *out_items = json_object_get(out_doc, "items");
			size_t k;
			json_t *item;
			json_array_foreach(items, k, item)
			{
				char w[700];
				snprintf(w, sizeof(w), "%s item %zu", where, k + 1);
				json_t *m = NULL;
				rc = judge(ck, w, item, &m, err);
				if (rc == 0)
					json_array_set_new(out_items, k, m);
				else
					json_decref(m);
				if (rc < 0)
					break;
			}
		} else {
			rc = judge(ck, where, doc, &out_doc, err);
		}
		if (rc == 0)
			rc = emit(ck, out_doc, err);
		json_decref(out_doc);
	}
	json_decref(docs);
	free(lines);
	return rc;
}

/* Every object of a file, List items included, as one array. */
static int load_objects(const char *path, json_t **out, cg_error *err)
{
	cleanup_free char *in = NULL;
	size_t in_len = 0;
	json_t *docs = NULL;
	int rc = read_all(path, &in, &in_len, err);
	if (rc == 0)
		rc = yamlload_all(in, in_len, path, &docs, err);
	if (rc < 0)
		return rc;
	json_t *all = json_array();
	size_t i, k;
	json_t *doc, *item;
	json_array_foreach(docs, i, doc)
	{
		json_t *items = json_object_get(doc, "items");
		if (json_is_array(items))
			json_array_foreach(items, k, item) json_array_append(all, item);
		else
			json_array_append(all, doc);
	}
	json_decref(docs);
	*out = all;
	return all ? 0 : cg_error_set(err, ENOMEM, "out of memory");
}

static int load_policy(const char *path, cg_policy **p, cg_error *err)
{
	if (path == NULL)
		return policy_load_default(p, err);
	cleanup_free char *text = NULL;
	size_t len = 0;
	if (read_all(path, &text, &len, err) < 0)
		return -1;
	return policy_load(text, len, path, p, err);
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"output", required_argument, NULL, 'o'},
		{"namespace", required_argument, NULL, 'n'},
		{"operation", required_argument, NULL, 'O'},
		{"subresource", required_argument, NULL, 'S'},
		{"old-object", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *old_path = NULL;
	struct check ck = {.out = OUT_REPORT, .operation = "CREATE", .subresource = ""};
	int c;
	opts_begin(argv, "capgate check");
	while ((c = getopt_long(argc, argv, "p:o:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "report") == 0)
				ck.out = OUT_REPORT;
			else if (strcmp(optarg, "patch") == 0)
				ck.out = OUT_PATCH;
			else if (strcmp(optarg, "yaml") == 0)
				ck.out = OUT_YAML;
			else if (strcmp(optarg, "json") == 0)
				ck.out = OUT_JSON;
			else {
				fprintf(stderr,
					"capgate check: -o must be report, patch, yaml or json "
					"(got \"%s\")\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			ck.namespace = optarg;
			break;
		case 'O':
			if (strcmp(optarg, "CREATE") != 0 && strcmp(optarg, "UPDATE") != 0) {
				fprintf(stderr,
					"capgate check: --operation must be CREATE or UPDATE\n");
				return 2;
			}
			ck.operation = optarg;
			break;
		case 'S':
			if (strcmp(optarg, "ephemeralcontainers") != 0) {
				fprintf(stderr,
					"capgate check: --subresource must be "
					"ephemeralcontainers (the only one capgate judges)\n");
				return 2;
			}
			ck.subresource = optarg;
			break;
		case 'P':
			old_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr,
			"capgate check: no input: give one or more files, or - for stdin\n");
		usage(stderr);
		return 2;
	}
	if ((ck.subresource[0] || old_path) && strcmp(ck.operation, "UPDATE") != 0) {
		fprintf(stderr, "capgate check: --subresource and --old-object need --operation "
				"UPDATE\n");
		return 2;
	}
	cg_error err = {0};
	cleanup_policy cg_policy *policy = NULL;
	if (load_policy(policy_path, &policy, &err) < 0) {
		fprintf(stderr, "capgate check: policy: %s\n", err.msg);
		return 2;
	}
	if (old_path && load_objects(old_path, &ck.old_objects, &err) < 0) {
		fprintf(stderr, "capgate check: --old-object: %s\n", err.msg);
		return 2;
	}
	ck.policy = policy;
	ck.patches = json_array();
	int rc = 0;
	for (int i = optind; i < argc && rc == 0; i++)
		rc = check_file(&ck, argv[i], &err);
	json_decref(ck.old_objects);
	if (rc < 0) {
		fprintf(stderr, "capgate check: %s\n", err.msg);
		json_decref(ck.patches);
		buf_free(&ck.text);
		return 2;
	}
	if (ck.out == OUT_PATCH) {
		char *s = json_dumps(ck.patches, JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
	} else if (ck.text.len > 0) {
		fwrite(ck.text.data, 1, ck.text.len, stdout);
	}
	if (ck.out == OUT_REPORT) {
		printf("%zu object%s: %zu would change, %zu denied", ck.objects,
		       ck.objects == 1 ? "" : "s", ck.changed, ck.denied);
		if (ck.held)
			printf(", %zu not compliant but left as %s", ck.held,
			       ck.held == 1 ? "it is" : "they are");
		printf("\n");
	}
	json_decref(ck.patches);
	buf_free(&ck.text);
	return (ck.changed || ck.denied || ck.held) ? 1 : 0;
}
