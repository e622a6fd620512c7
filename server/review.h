/* The AdmissionReview codec: AdmissionReview in, AdmissionReview out, the
 * whole webhook call without the HTTP around it. Here, in server/, errors
 * become AdmissionResponses (the policy's onError); the engine below only
 * describes them (common/error.h).
 *
 * review_handle() decodes the body with a selective parser that validates
 * every byte but builds jansson values only for the fields the engine reads
 * (managedFields, status, volumes, env and probes are checked and
 * skipped), in a per-thread arena, judges the object and writes the response.
 * Thread-safe: any number of threads may call it with the same policy.
 */
#ifndef CG_REVIEW_H
#define CG_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/policy.h"

enum review_endpoint { REVIEW_MUTATE, REVIEW_VALIDATE };

/* What the server logs and counts for one review (strings truncated). */
typedef struct review_summary {
	char uid[128];
	char kind[64];
	char namespace[64];
	char name[254];
	char operation[16];
	const char *decision; /* "allowed", "patched", "denied", "warned", "error" */
	int patch_ops;
	int warnings;
	bool dry_run;
} review_summary;

/* Returns 0 when out holds an AdmissionReview to send with HTTP 200: an
 * allowance, a patch, a denial, or the policy's onError answer for an object
 * that cannot be judged (err then says why, for the log). Returns a negative
 * value when the body is not an AdmissionReview (malformed JSON, too deep,
 * no request, uid or object): err names what is wrong, the caller answers
 * 400; or -ENOMEM when memory ran out (err says so, err->code is ENOMEM):
 * the body may well be an AdmissionReview, the caller answers 500. Every
 * negative return fills err. At most REVIEW_MAX_DEPTH levels of nesting are
 * accepted. */
int review_handle(const cg_policy *p, enum review_endpoint ep, const char *body, size_t len,
		  cg_buf *out, review_summary *sum, cg_error *err) CG_MUST_CHECK;

#define REVIEW_MAX_DEPTH 64

/* The member review_schema() adds to every pod template it builds: the
 * SHA-256 of the template's raw bytes (see json/jsonsel.h). */
#define REVIEW_TEMPLATE_DIGEST "capgate.dev/template-sha256"

/* The stages of review_handle(), for the benchmark and the fuzzer. */
struct jsonsel;
const struct jsonsel *review_schema(void);

#endif
