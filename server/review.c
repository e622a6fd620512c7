#include "server/review.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "policy/engine.h"
#include "json/jsonsel.h"

/* What the engine reads of a review; everything else is validated and
 * skipped (managedFields, status, env, probes...). oldObject is read with
 * the object's schema: the engine compares the two pod templates (through
 * their digests, below) and looks up the ephemeral containers that already
 * exist. */
#define SEL_OBJ(name, ...)                                                                         \
	static const jsonsel_field name##_f[] = {__VA_ARGS__};                                     \
	static const jsonsel name = {JSONSEL_OBJECT, name##_f,                                     \
				     sizeof(name##_f) / sizeof(name##_f[0]), NULL, NULL}
#define ALL (&jsonsel_all)

SEL_OBJ(sel_port, {"containerPort", ALL});
static const jsonsel sel_ports = {JSONSEL_ARRAY, NULL, 0, &sel_port, NULL};
/* volumeMounts, resources and restartPolicy whole: capgate's own installer
 * is recognised by its whole spec, and the wrapper's volume must be exactly
 * capgate's, so volumes are read whole too (policy/wrapper.c). */
SEL_OBJ(sel_container, {"name", ALL}, {"image", ALL}, {"command", ALL}, {"args", ALL},
	{"ports", &sel_ports}, {"securityContext", ALL}, {"volumeMounts", ALL}, {"resources", ALL},
	{"restartPolicy", ALL});
static const jsonsel sel_containers = {JSONSEL_ARRAY, NULL, 0, &sel_container, NULL};
SEL_OBJ(sel_meta, {"name", ALL}, {"generateName", ALL}, {"namespace", ALL}, {"labels", ALL},
	{"annotations", ALL}, {"ownerReferences", ALL}, {"deletionTimestamp", ALL});
SEL_OBJ(sel_podspec, {"containers", &sel_containers}, {"initContainers", &sel_containers},
	{"ephemeralContainers", &sel_containers}, {"securityContext", ALL}, {"hostNetwork", ALL},
	{"hostUsers", ALL}, {"os", ALL}, {"volumes", ALL});
/* A pod template also carries the digest of its raw bytes: the engine
 * spares an UPDATE a denial only when the whole template is unchanged
 * (policy/engine.c), and the pruned trees alone would call two templates
 * that differ in a skipped field (an env value) equal. The apiserver
 * serialises object and oldObject with the same encoder, so equal templates
 * are equal bytes. */
static const jsonsel_field sel_template_f[] = {{"metadata", &sel_meta}, {"spec", &sel_podspec}};
static const jsonsel sel_template = {JSONSEL_OBJECT, sel_template_f,
				     sizeof(sel_template_f) / sizeof(sel_template_f[0]), NULL,
				     REVIEW_TEMPLATE_DIGEST};
SEL_OBJ(sel_job_spec, {"template", &sel_template});
SEL_OBJ(sel_job_template, {"spec", &sel_job_spec});
/* `spec` of any kind: a Pod's spec, or a workload's spec holding a template
 * (or a CronJob's jobTemplate). The kind is not known while parsing, and
 * the members do not collide. */
SEL_OBJ(sel_spec, {"containers", &sel_containers}, {"initContainers", &sel_containers},
	{"ephemeralContainers", &sel_containers}, {"securityContext", ALL}, {"hostNetwork", ALL},
	{"hostUsers", ALL}, {"os", ALL}, {"volumes", ALL}, {"template", &sel_template},
	{"jobTemplate", &sel_job_template});
SEL_OBJ(sel_object, {"apiVersion", ALL}, {"kind", ALL}, {"metadata", &sel_meta},
	{"spec", &sel_spec}, {"template", &sel_template});
SEL_OBJ(sel_request, {"uid", ALL}, {"kind", ALL}, {"subResource", ALL}, {"namespace", ALL},
	{"name", ALL}, {"operation", ALL}, {"dryRun", ALL}, {"object", &sel_object},
	{"oldObject", &sel_object});
SEL_OBJ(sel_review, {"apiVersion", ALL}, {"kind", ALL}, {"request", &sel_request});

const jsonsel *review_schema(void)
{
	return &sel_review;
}

/* Summary fields go into log lines: bounded, no quotes or control bytes. */
static void copy(char *dst, size_t n, const char *src)
{
	size_t k = 0;
	for (; src && src[k] && k + 1 < n; k++) {
		unsigned char c = (unsigned char)src[k];
		dst[k] = (c < 0x20 || c == '"' || c == '\\') ? '?' : (char)c;
	}
	dst[k] = '\0';
}

static const char *str_member(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Writing the answer failed: the server answers 500 (not 400, the body was
 * an AdmissionReview), which the apiserver treats per failurePolicy. */
static int oom(cg_error *err)
{
	cg_error_set(err, ENOMEM, "out of memory while writing the AdmissionResponse");
	return -ENOMEM;
}

/* The response body. The uid and apiVersion are echoed as received: a
 * wrong uid or kind is a webhook failure at the apiserver. */
static int write_response(cg_buf *out, const char *api_version, json_t *uid, bool allowed,
			  const engine_decision *d, int code, const char *message, bool patch,
			  cg_error *err)
{
	int rc = 0;
	buf_reset(out);
	rc |= buf_puts(out, "{\"apiVersion\":");
	rc |= buf_json_string(out, api_version, strlen(api_version));
	rc |= buf_puts(out, ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
	rc |= buf_json_string(out, json_string_value(uid), json_string_length(uid));
	rc |= buf_puts(out, allowed ? ",\"allowed\":true" : ",\"allowed\":false");
	if (!allowed) {
		rc |= buf_printf(out,
				 ",\"status\":{\"code\":%d,\"reason\":\"%s\",\"message\":", code,
				 code == 400 ? "BadRequest" : "Forbidden");
		rc |= buf_json_string(out, message, strlen(message));
		rc |= buf_puts(out, "}");
	}
	if (patch && d && d->patch && json_array_size(d->patch) > 0) {
		cg_buf tmp = {0};
		if (buf_json_value(&tmp, d->patch, 0) < 0) {
			buf_free(&tmp);
			return oom(err);
		}
		rc |= buf_puts(out, ",\"patchType\":\"JSONPatch\",\"patch\":\"");
		/* EVP_EncodeBlock writes 4 bytes per 3, no newlines, and a NUL,
		 * straight into reserved space. */
		size_t enc = (tmp.len + 2) / 3 * 4;
		if (tmp.len > INT_MAX || buf_reserve(out, enc + 1) < 0) {
			buf_free(&tmp);
			return oom(err);
		}
		EVP_EncodeBlock((unsigned char *)out->data + out->len,
				(const unsigned char *)tmp.data, (int)tmp.len);
		out->len += enc;
		rc |= buf_puts(out, "\"");
		buf_free(&tmp);
	}
	if (d && json_array_size(d->warnings) > 0) {
		rc |= buf_puts(out, ",\"warnings\":[");
		size_t i;
		json_t *w;
		json_array_foreach(d->warnings, i, w)
		{
			rc |= buf_puts(out, i ? "," : "");
			rc |= buf_json_string(out, json_string_value(w), json_string_length(w));
		}
		rc |= buf_puts(out, "]");
	}
	if (d && json_object_size(d->audit) > 0) {
		rc |= buf_puts(out, ",\"auditAnnotations\":{");
		const char *k;
		json_t *v;
		bool first = true;
		json_object_foreach(d->audit, k, v)
		{
			rc |= buf_puts(out, first ? "" : ",");
			rc |= buf_json_string(out, k, strlen(k));
			rc |= buf_puts(out, ":");
			rc |= buf_json_string(out, json_string_value(v), json_string_length(v));
			first = false;
		}
		rc |= buf_puts(out, "}");
	}
	rc |= buf_puts(out, "}}");
	return rc ? oom(err) : 0;
}

/* What /validate asks for: would /mutate change anything? */
static void validate_message(const engine_decision *d, char *msg, size_t n)
{
	size_t k = (size_t)snprintf(msg, n, "capgate: not compliant with the capability policy:");
	size_t i;
	json_t *ch;
	json_array_foreach(d->changes, i, ch)
	{
		if (k >= n)
			break;
		const char *c = str_member(ch, "container");
		k += (size_t)snprintf(msg + k, n - k, "%s %s%s%s%s", i ? ";" : "",
				      c && c[0] ? "container \"" : "", c ? c : "",
				      c && c[0] ? "\": " : "", str_member(ch, "what"));
	}
}

static int judge(const cg_policy *p, enum review_endpoint ep, json_t *review, bool nul, cg_buf *out,
		 review_summary *sum, cg_error *err)
{
	if (!json_is_object(review))
		return cg_error_set(err, EINVAL, "the body is not a JSON object");
	const char *api = str_member(review, "apiVersion");
	const char *kind = str_member(review, "kind");
	if (api == NULL || (strcmp(api, "admission.k8s.io/v1") != 0 &&
			    strcmp(api, "admission.k8s.io/v1beta1") != 0))
		return cg_error_set(err, EINVAL,
				    "apiVersion must be admission.k8s.io/v1 (got %s%.40s%s)",
				    api ? "\"" : "", api ? api : "none", api ? "\"" : "");
	if (kind == NULL || strcmp(kind, "AdmissionReview") != 0)
		return cg_error_set(err, EINVAL, "kind must be AdmissionReview");
	json_t *req = json_object_get(review, "request");
	if (!json_is_object(req))
		return cg_error_set(err, EINVAL, "the review has no request object");
	json_t *uid = json_object_get(req, "uid");
	if (!json_is_string(uid) || json_string_length(uid) == 0)
		return cg_error_set(err, EINVAL, "request.uid is missing or not a string");
	copy(sum->uid, sizeof(sum->uid), json_string_value(uid));

	/* From here on the uid can be echoed: whatever is wrong is answered
	 * with the policy's onError, never with an HTTP error that a
	 * failurePolicy: Ignore would turn into an allowance. */
	json_t *gvk = json_object_get(req, "kind");
	json_t *obj = json_object_get(req, "object");
	const char *op = str_member(req, "operation");
	const char *okind = str_member(gvk, "kind");
	json_t *dry = json_object_get(req, "dryRun");
	sum->dry_run = json_is_true(dry);
	copy(sum->kind, sizeof(sum->kind), okind);
	copy(sum->operation, sizeof(sum->operation), op);
	copy(sum->namespace, sizeof(sum->namespace), str_member(req, "namespace"));
	const char *name = str_member(req, "name");
	if (name == NULL || !name[0])
		name = str_member(json_object_get(obj, "metadata"), "name");
	if (name == NULL || !name[0])
		name = str_member(json_object_get(obj, "metadata"), "generateName");
	copy(sum->name, sizeof(sum->name), name);

	cg_error why = {0};
	int rc = -1;
	engine_decision d = {0};
	if (nul)
		/* Names with U+0000 would compare as their prefix in C. */
		cg_error_set(&why, EINVAL, "a string in the request holds a NUL character");
	else if (op == NULL)
		cg_error_set(&why, EINVAL, "request.operation is missing");
	else if (okind == NULL)
		cg_error_set(&why, EINVAL, "request.kind.kind is missing");
	else if (obj == NULL || json_is_null(obj))
		cg_error_set(&why, EINVAL, "request.object is missing");
	else if (dry != NULL && !json_is_boolean(dry))
		cg_error_set(&why, EINVAL, "request.dryRun is not a boolean");
	else {
		engine_request er = {.kind = okind,
				     .operation = op,
				     .namespace = str_member(req, "namespace"),
				     .sub_resource = str_member(req, "subResource"),
				     .object = obj,
				     .old_object = json_object_get(req, "oldObject"),
				     .explain = ep == REVIEW_VALIDATE};
		if (json_is_null(er.old_object))
			er.old_object = NULL;
		if (er.namespace == NULL)
			er.namespace = "";
		if (er.sub_resource == NULL)
			er.sub_resource = "";
		rc = engine_decide(p, &er, &d, &why);
	}
	if (rc < 0) {
		if (err)
			*err = why;
		bool allow = p->on_error == POLICY_ERROR_ALLOW;
		char msg[600];
		snprintf(msg, sizeof(msg), "capgate cannot judge this request: %s", why.msg);
		sum->decision = "error";
		return write_response(out, api, uid, allow, NULL, 400, msg, false, err);
	}
	bool allowed = d.allowed;
	int code = d.status_code;
	char msg[2048];
	snprintf(msg, sizeof(msg), "%s", d.message ? d.message : "");
	bool has_patch = d.patch && json_array_size(d.patch) > 0;
	if (ep == REVIEW_VALIDATE && allowed && has_patch) {
		/* /validate refuses what /mutate would change: the record says
		 * denied, and the "removed ..." warnings describe a mutation
		 * that does not happen here (the message lists what is needed). */
		allowed = false;
		code = 403;
		validate_message(&d, msg, sizeof(msg));
		json_array_clear(d.warnings);
		json_object_set_new(d.audit, "decision", json_string("denied"));
		json_object_del(d.audit, "stripped");
		json_object_del(d.audit, "nonroot");
	}
	sum->decision = !allowed			     ? "denied"
			: (ep == REVIEW_MUTATE && has_patch) ? "patched"
			: json_array_size(d.warnings)	     ? "warned"
							     : "allowed";
	sum->patch_ops = ep == REVIEW_MUTATE && allowed ? (int)json_array_size(d.patch) : 0;
	sum->warnings = (int)json_array_size(d.warnings);
	rc = write_response(out, api, uid, allowed, &d, code, msg, ep == REVIEW_MUTATE && allowed,
			    err);
	engine_decision_clear(&d);
	return rc;
}

int review_handle(const cg_policy *p, enum review_endpoint ep, const char *body, size_t len,
		  cg_buf *out, review_summary *sum, cg_error *err)
{
	memset(sum, 0, sizeof(*sum));
	sum->decision = "invalid";
	arena_install_json();
	arena_begin();
	json_t *review = NULL;
	jsonsel_info info;
	cg_error e = {0};
	int rc = jsonsel_parse(body, len, &sel_review, REVIEW_MAX_DEPTH, &review, &info, &e);
	if (rc < 0 && e.code == ENOMEM)
		rc = -ENOMEM; /* not the body's fault: e says out of memory */
	else if (rc < 0)
		cg_error_prefix(&e, "malformed JSON");
	else
		rc = judge(p, ep, review, info.nul_in_string, out, sum, &e);
	arena_end();
	if (rc < 0 && e.msg[0] == '\0')
		cg_error_set(&e, rc == -ENOMEM ? ENOMEM : EINVAL, "%s",
			     rc == -ENOMEM ? "out of memory" : "not an AdmissionReview");
	if (err != NULL)
		*err = e;
	return rc;
}
