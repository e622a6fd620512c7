#include "cli/policy_image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/buf.h"

#define MAX_DEPTH 128

/* The keys from the document's root to the image. */
static const char *const chain[] = {"spec", "nonRoot", "ambient", "image"};
#define CHAIN_LEN 4

typedef struct frame {
	bool map;
	int match;     /* chain[match] is the key this mapping may hold; -1: off the chain */
	bool want_key; /* a mapping's next node is a key */
	bool pending;  /* the key just read is chain[match] */
	bool found;    /* chain[match] is a key of this mapping */
} frame;

typedef struct render {
	yaml_emitter_t em;
	cg_buf out;
	frame st[MAX_DEPTH];
	int depth;
	const char *image;
	char *have; /* the image the policy names */
	const char *name;
	cg_error *err;
} render;

static int write_out(void *data, unsigned char *buffer, size_t size)
{
	return buf_append(&((render *)data)->out, buffer, size) == 0;
}

/* The emitter takes ev, also when it fails. */
static int emit(render *r, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&r->em, ev)) {
		return cg_error_set(r->err, EIO, "%s: writing the policy failed: %s", r->name,
				    r->em.problem ? r->em.problem : "?");
	}
	return 0;
}

static int emit_scalar(render *r, const char *s)
{
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
					  YAML_ANY_SCALAR_STYLE))
		return cg_error_set(r->err, ENOMEM, "out of memory");
	return emit(r, &ev);
}

static int emit_mapping(render *r, bool start)
{
	yaml_event_t ev;
	if (start ? !yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE)
		  : !yaml_mapping_end_event_initialize(&ev))
		return cg_error_set(r->err, ENOMEM, "out of memory");
	return emit(r, &ev);
}

/* Adds chain[m] and what lies below it, down to the image. */
static int inject(render *r, int m)
{
	if (emit_scalar(r, chain[m]) < 0)
		return -1;
	if (m == CHAIN_LEN - 1)
		return emit_scalar(r, r->image);
	return emit_mapping(r, true) < 0 || inject(r, m + 1) < 0 || emit_mapping(r, false) < 0 ? -1
											       : 0;
}

/* A node starts (ev: scalar, alias, mapping or sequence start) under the
 * top frame; returns the chain index a mapping node would have. */
static int node_start(render *r, const yaml_event_t *ev, int *match)
{
	*match = r->depth == 0 ? 0 : -1;
	if (r->depth == 0)
		return 0;
	frame *f = &r->st[r->depth - 1];
	if (!f->map)
		return 0;
	if (f->want_key) {
		if (ev->type != YAML_SCALAR_EVENT)
			return cg_error_set(r->err, EINVAL, "%s: a mapping key is not a string",
					    r->name);
		const char *k = (const char *)ev->data.scalar.value;
		f->pending = f->match >= 0 && strlen(k) == ev->data.scalar.length &&
			     strcmp(k, chain[f->match]) == 0;
		f->found |= f->pending;
		f->want_key = false;
		return 1; /* a key: complete already */
	}
	if (!f->pending)
		return 0;
	if (f->match == CHAIN_LEN - 1) {
		if (ev->type == YAML_SCALAR_EVENT) {
			free(r->have);
			r->have = strndup((const char *)ev->data.scalar.value,
					  ev->data.scalar.length);
		}
		return 0;
	}
	/* An alias would share the mapping with another place. */
	if (ev->type != YAML_MAPPING_START_EVENT)
		return cg_error_set(r->err, EINVAL,
				    "%s: %s is not a mapping written out in the policy; set "
				    "spec.nonRoot.ambient.image yourself",
				    r->name,
				    f->match == 0   ? "spec"
				    : f->match == 1 ? "spec.nonRoot"
						    : "spec.nonRoot.ambient");
	/* An anchored mapping is shared with its aliases: adding a key here
	 * would add it there too. */
	if (ev->data.mapping_start.anchor != NULL)
		return cg_error_set(r->err, EINVAL,
				    "%s: %s carries an anchor (&%s) that other places share; set "
				    "spec.nonRoot.ambient.image yourself",
				    r->name,
				    f->match == 0   ? "spec"
				    : f->match == 1 ? "spec.nonRoot"
						    : "spec.nonRoot.ambient",
				    (const char *)ev->data.mapping_start.anchor);
	*match = f->match + 1;
	return 0;
}

static void node_end(render *r)
{
	if (r->depth > 0 && r->st[r->depth - 1].map)
		r->st[r->depth - 1].want_key = true;
}

/* Passes one event on, with what must come before it. Consumes ev. */
static int step(render *r, yaml_event_t *ev)
{
	int match = -1, rc = 0;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
		if ((rc = node_start(r, ev, &match)) == 0)
			node_end(r);
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		rc = node_start(r, ev, &match);
		if (rc >= 0 && r->depth == MAX_DEPTH)
			rc = cg_error_set(r->err, EINVAL, "%s: nested too deep", r->name);
		if (rc >= 0) {
			bool map = ev->type == YAML_MAPPING_START_EVENT;
			r->st[r->depth++] =
				(frame){.map = map, .match = map ? match : -1, .want_key = true};
		}
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT: {
		frame *f = &r->st[r->depth - 1];
		if (f->map && f->match >= 0 && !f->found)
			rc = inject(r, f->match);
		r->depth--;
		node_end(r);
		break;
	}
	default:
		break;
	}
	if (rc < 0) {
		yaml_event_delete(ev);
		return -1;
	}
	return emit(r, ev);
}

int policy_image_render(const char *text, size_t len, const char *name, const char *image,
			enum policy_image_result *res, char **out, char **other, cg_error *err)
{
	render r = {.image = image, .name = name, .err = err};
	yaml_parser_t parser;
	*out = *other = NULL;
	if (!yaml_parser_initialize(&parser))
		return cg_error_set(err, ENOMEM, "out of memory");
	if (!yaml_emitter_initialize(&r.em)) {
		yaml_parser_delete(&parser);
		return cg_error_set(err, ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_emitter_set_output(&r.em, write_out, &r);
	yaml_emitter_set_unicode(&r.em, 1);
	yaml_emitter_set_width(&r.em, -1);
	int rc = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = cg_error_set(err, EINVAL, "%s: %s", name,
					  parser.problem ? parser.problem : "invalid YAML");
			break;
		}
		bool end = ev.type == YAML_STREAM_END_EVENT;
		if ((rc = step(&r, &ev)) < 0)
			break;
		if (end)
			break;
	}
	yaml_parser_delete(&parser);
	yaml_emitter_delete(&r.em);
	if (rc == 0 && r.have != NULL) {
		*res = strcmp(r.have, image) == 0 ? POLICY_IMAGE_SAME : POLICY_IMAGE_DIFFERENT;
		if (*res == POLICY_IMAGE_DIFFERENT) {
			*other = r.have;
			r.have = NULL;
		}
	} else if (rc == 0) {
		*res = POLICY_IMAGE_ADDED;
		if (r.out.data == NULL) {
			rc = cg_error_set(err, EINVAL, "%s: the policy is empty", name);
		} else {
			*out = r.out.data; /* NUL-terminated by buf_append */
			r.out.data = NULL;
		}
	}
	free(r.have);
	buf_free(&r.out);
	return rc;
}
