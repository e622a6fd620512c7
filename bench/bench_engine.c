/* `make bench`, part 1: the cost of one review, stage by stage, on a
 * realistic Pod AdmissionReview. Prints microseconds per review and the heap
 * one review needs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/buf.h"
#include "json/jsonsel.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "server/review.h"

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	static char buf[8 << 20];
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	size_t len;
	char *body = argc > 1 ? slurp(argv[1], &len) : NULL;
	if (body == NULL) {
		fprintf(stderr, "usage: bench-engine REVIEW.json\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 20000;
	cg_error err = {0};
	cg_policy *p = NULL;
	arena_install_json();
	if (policy_load_default(&p, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	cg_buf out = {0};
	review_summary sum;
	double t0, parse = 0, decide = 0, whole = 0, loadb = 0;
	size_t arena_bytes = 0, patch_ops = 0;

	for (int round = 0; round < 2; round++) { /* round 0 warms up */
		parse = decide = whole = loadb = 0;
		for (int i = 0; i < n; i++) {
			arena_begin();
			json_t *rv = NULL;
			jsonsel_info info;
			t0 = now_us();
			if (jsonsel_parse(body, len, review_schema(), REVIEW_MAX_DEPTH, &rv, &info,
					  &err) < 0) {
				fprintf(stderr, "parse: %s\n", err.msg);
				return 1;
			}
			parse += now_us() - t0;
			json_t *req = json_object_get(rv, "request");
			engine_request er = {
				.kind = json_string_value(
					json_object_get(json_object_get(req, "kind"), "kind")),
				.operation = json_string_value(json_object_get(req, "operation")),
				.namespace = json_string_value(json_object_get(req, "namespace")),
				.sub_resource = "",
				.object = json_object_get(req, "object")};
			engine_decision d;
			t0 = now_us();
			if (engine_decide(p, &er, &d, &err) < 0) {
				fprintf(stderr, "decide: %s\n", err.msg);
				return 1;
			}
			decide += now_us() - t0;
			patch_ops = json_array_size(d.patch);
			engine_decision_clear(&d);
			arena_end();

			t0 = now_us();
			if (review_handle(p, REVIEW_MUTATE, body, len, &out, &sum, &err) < 0) {
				fprintf(stderr, "review: %s\n", err.msg);
				return 1;
			}
			whole += now_us() - t0;
			arena_bytes = arena_used();
		}
		for (int i = 0; i < n / 10; i++) {
			json_error_t je;
			t0 = now_us();
			json_t *j = json_loadb(body, len, 0, &je);
			loadb += now_us() - t0;
			json_decref(j);
		}
	}
	double serialise = whole - parse - decide;
	printf("reviews                      %d (%zu bytes each, %zu patch ops, decision %s)\n", n,
	       len, patch_ops, sum.decision);
	printf("parse (selective, arena)     %7.2f us\n", parse / n);
	printf("decide + build patch         %7.2f us   (target < 10 us)\n", decide / n);
	printf("serialise response           %7.2f us   (whole minus the two stages above)\n",
	       serialise / n);
	printf("whole review_handle          %7.2f us   (target < 50 us)\n", whole / n);
	printf("heap per review              %7zu bytes (arena %zu + response buffer %zu; target < "
	       "65536)\n",
	       arena_bytes + out.cap, arena_bytes, out.cap);
	printf("for comparison: json_loadb   %7.2f us   (jansson's own full parse, malloc)\n",
	       loadb / (n / 10));
	buf_free(&out);
	policy_free(p);
	arena_release();
	return 0;
}
