/* `capgate admission-policy`: the policy as ValidatingAdmissionPolicy (and
 * MutatingAdmissionPolicy) objects that kube-apiserver runs itself, for a
 * cluster without the webhook or as a safety net beside it.
 *
 * A command of its own rather than a `manifests` option: `manifests` renders
 * the webhook's deployment into a namespace; these objects are
 * cluster-scoped, need no namespace, image or certificate, and are used
 * precisely where the webhook is not deployed.
 *
 * Exit codes: 0 written, 1 the policy cannot be read or rendered for that
 * Kubernetes version (the message names the option or key), 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/render.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "common/buf.h"
#include "common/cleanup.h"
#include "policy/k8sname.h"
#include "policy/policy.h"
#include "yaml/yamldump.h"

#define MAX_POLICY_SIZE (1 << 20)

static const char usage_text[] =
	"usage: capgate admission-policy [--policy FILE] [--mutating]\n"
	"                                [--kubernetes-version 1.MINOR] [--name NAME]\n"
	"                                [-o yaml|json]\n"
	"Writes the policy (the embedded default without --policy) as a\n"
	"ValidatingAdmissionPolicy and its binding per mode the policy uses, and with\n"
	"--mutating a MutatingAdmissionPolicy and its binding, for kube-apiserver to\n"
	"run without the webhook. --kubernetes-version: default 1.36; 1.30 or later\n"
	"(1.34 or later with --mutating). --name: object name, default capgate.\n"
	"What the webhook does that these objects do not is written as comments and\n"
	"in the capgate.dev/not-rendered annotation; see docs/admission-policy.md.\n";

CG_MUST_CHECK static int load(const char *path, cg_policy **p, cg_error *err)
{
	if (path == NULL)
		return policy_load_default(p, err);
	cleanup_fclose FILE *f = fopen(path, "rb");
	if (f == NULL)
		return cg_error_set(err, errno, "%s: %s", path, strerror(errno));
	cleanup_free char *buf = malloc(MAX_POLICY_SIZE + 1);
	if (buf == NULL)
		return cg_error_set(err, ENOMEM, "%s: out of memory", path);
	size_t n = fread(buf, 1, MAX_POLICY_SIZE + 1, f);
	if (ferror(f))
		return cg_error_set(err, EIO, "%s: read error", path);
	if (n > MAX_POLICY_SIZE)
		return cg_error_set(err, EFBIG, "%s: larger than %d bytes", path, MAX_POLICY_SIZE);
	return policy_load(buf, n, path, p, err);
}

/* "1.30" (a "v" before it and a patch level after it are accepted). */
static int parse_version(const char *s, int *minor)
{
	if (*s == 'v')
		s++;
	char *end;
	errno = 0;
	long major = strtol(s, &end, 10);
	if (errno || end == s || major != 1 || *end != '.')
		return -1;
	s = end + 1;
	long m = strtol(s, &end, 10);
	if (errno || end == s || m < 0 || m > 999 || (*end != '\0' && *end != '.'))
		return -1;
	*minor = (int)m;
	return 0;
}

/* YAML: the notes as a comment, then the documents; JSON: a v1 List. */
CG_MUST_CHECK static int write_out(json_t *objs, json_t *notes, bool as_json, const char *src,
				   cg_error *err)
{
	cg_buf b = {0};
	int rc = 0;
	if (as_json) {
		json_t *list = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List",
					 "items", objs);
		char *s = list ? json_dumps(list, JSON_INDENT(2)) : NULL;
		json_decref(list);
		rc = s ? buf_puts(&b, s) | buf_puts(&b, "\n") : -1;
		free(s);
	} else {
		rc |= buf_printf(&b, "# capgate admission-policy, from %s.\n", src);
		size_t i;
		json_t *v;
		json_array_foreach(notes, i, v) rc |=
			buf_printf(&b, "# %s\n", json_string_value(v));
		json_array_foreach(objs, i, v)
		{
			rc |= buf_puts(&b, "---\n");
			if (rc == 0 && yamldump(v, &b, err) < 0) {
				buf_free(&b);
				return -1;
			}
		}
	}
	if (rc != 0) {
		buf_free(&b);
		return cg_error_set(err, ENOMEM, "out of memory");
	}
	bool ok = fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0;
	buf_free(&b);
	return ok ? 0 : cg_error_set(err, EIO, "write error");
}

int cmd_admission_policy(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"mutating", no_argument, NULL, 'm'},
		{"kubernetes-version", required_argument, NULL, 'k'},
		{"name", required_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *version = "1.36";
	admission_opts o = {.name = "capgate"};
	bool as_json = false;
	int c;
	opts_begin(argv, "capgate admission-policy");
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'm':
			o.mutating = true;
			break;
		case 'k':
			version = optarg;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "yaml") != 0 && strcmp(optarg, "json") != 0) {
				fprintf(stderr,
					"capgate admission-policy: -o must be yaml or json (got "
					"\"%s\")\n",
					optarg);
				return 2;
			}
			as_json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "capgate admission-policy: unexpected argument \"%s\"\n%s",
			argv[optind], usage_text);
		return 2;
	}
	if (parse_version(version, &o.minor) < 0) {
		fprintf(stderr,
			"capgate admission-policy: --kubernetes-version \"%s\" is not a version "
			"such as 1.30\n",
			version);
		return 2;
	}
	/* Binding names get a -enforce/-warn/-audit suffix: keep room for it. */
	if (strlen(o.name) > 240 || !k8sname_is_dns_subdomain(o.name, strlen(o.name))) {
		fprintf(stderr,
			"capgate admission-policy: --name \"%s\" is not an object name (lower-case "
			"letters, digits, '-' and '.', at most 240)\n",
			o.name);
		return 2;
	}
	o.source = policy_path ? policy_path : "the embedded default policy";
	cg_error err = {0};
	cleanup_policy cg_policy *p = NULL;
	cleanup_json json_t *objs = NULL;
	cleanup_json json_t *notes = NULL;
	if (load(policy_path, &p, &err) < 0 || admission_render(p, &o, &objs, &notes, &err) < 0 ||
	    write_out(objs, notes, as_json, o.source, &err) < 0) {
		fprintf(stderr, "capgate admission-policy: %s\n", err.msg);
		return 1;
	}
	return 0;
}
