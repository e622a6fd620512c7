/* policy_load on arbitrary bytes.
 *
 * Oracles: an error always reads "NAME:line:col: sentence" (with line and
 * column from 1); a policy that loads holds what the loader promises for the
 * spec and every rule (nothing both allowed and dropped by name, defaultAdd
 * within allowed, ALL never allowed), and a review judged with it is
 * answered.
 */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "fuzz/fuzz.h"
#include "policy/caps.h"
#include "policy/policy.h"
#include "server/review.h"

#define NAME "fuzz.yaml"

/* A non-root pod in namespace netops with a container that adds too much:
 * goes through rules, the non-root strategies and the patch builder. */
static const char review[] =
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
	"\"uid\":\"u1\",\"kind\":{\"kind\":\"Pod\"},\"namespace\":\"netops\",\"operation\":"
	"\"CREATE\",\"object\":{\"metadata\":{\"name\":\"p\",\"labels\":{\"team\":\"net\"}},"
	"\"spec\":{\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":3000},\"containers\":["
	"{\"name\":\"web\",\"image\":\"docker.io/library/"
	"nginx:1.27\",\"ports\":[{\"containerPort\":"
	"80}],\"securityContext\":{\"capabilities\":{\"add\":[\"NET_BIND_SERVICE\",\"net_raw\","
	"\"SYS_ADMIN\"]}}},{\"name\":\"probe\",\"image\":\"busybox:1\",\"command\":[\"ping\"],"
	"\"securityContext\":{\"capabilities\":{\"add\":[\"NET_RAW\"],\"drop\":[\"all\"]}}}]}}}}";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	arena_install_json();
	return 0;
}

static bool digits(const char **s)
{
	const char *b = *s;
	while (**s >= '0' && **s <= '9')
		(*s)++;
	return *s > b && *b != '0';
}

static void check_error(const cg_error *err)
{
	const char *m = err->msg;
	size_t n = strlen(NAME);
	FUZZ_CHECK(strncmp(m, NAME ":", n + 1) == 0, "error without the name: %s", m);
	const char *s = m + n + 1;
	if (strcmp(s, " out of memory") == 0)
		return;
	FUZZ_CHECK(digits(&s) && *s++ == ':' && digits(&s) && s[0] == ':' && s[1] == ' ' && s[2],
		   "error not in NAME:line:col: form: %s", m);
}

static void check_spec(const policy_spec *sp, const char *where)
{
	caps_set named_drop = sp->required_drop & CAPS_KNOWN_MASK;
	FUZZ_CHECK((sp->allowed & named_drop) == 0, "%s: allowed and dropped by name", where);
	FUZZ_CHECK((sp->default_add & ~sp->allowed) == 0, "%s: defaultAdd not within allowed",
		   where);
	FUZZ_CHECK(!(sp->allowed & CAPS_BIT(CAPS_ALL)), "%s: ALL allowed", where);
	FUZZ_CHECK(((sp->allowed | sp->required_drop) & ~CAPS_KNOWN_MASK & ~CAPS_BIT(CAPS_ALL)) ==
			   0,
		   "%s: bits that are no capability", where);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cg_policy *p = NULL;
	cg_error err = {0};
	if (policy_load((const char *)data, size, NAME, &p, &err) < 0) {
		FUZZ_CHECK(p == NULL, "failed load returned a policy");
		check_error(&err);
		return 0;
	}
	FUZZ_CHECK(p != NULL && p->name != NULL, "loaded policy without a name");
	check_spec(&p->spec, "spec");
	for (size_t i = 0; i < p->n_rules; i++) {
		FUZZ_CHECK(p->rules[i].name != NULL, "rule %zu without a name", i);
		check_spec(&p->rules[i].spec, p->rules[i].name);
	}
	for (size_t i = 0; i < p->nonroot.n_entrypoints; i++)
		FUZZ_CHECK(p->nonroot.entrypoints[i].image != NULL, "entrypoint without image");

	cg_buf out = {0};
	review_summary sum;
	FUZZ_CHECK(review_handle(p, REVIEW_MUTATE, review, sizeof(review) - 1, &out, &sum, &err) ==
			   0,
		   "a well-formed review is refused: %s", err.msg);
	json_error_t je;
	json_t *resp = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &je);
	FUZZ_CHECK(resp != NULL, "response is not JSON: %s", je.text);
	json_decref(resp);
	buf_free(&out);
	policy_free(p);
	return 0;
}
