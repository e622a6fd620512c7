/* Naming the wrapper's image in a policy's text, for `capgate manifests`.
 *
 * The manifests deploy one capgate image; the policy they carry must name
 * that image in spec.nonRoot.ambient.image, or every pod that gets the
 * wrapper's init container would pull an image the cluster may not have.
 * The text is rewritten through libyaml's event stream, so every scalar
 * keeps its text and style (what the policy loader reads is unchanged) and
 * only the missing keys are added; comments are not kept.
 */
#ifndef CG_POLICY_IMAGE_H
#define CG_POLICY_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum policy_image_result {
	POLICY_IMAGE_ADDED,	/* *out is the policy with the image added */
	POLICY_IMAGE_SAME,	/* the policy names this image already: *out is NULL */
	POLICY_IMAGE_DIFFERENT, /* it names another one (*other): *out is NULL */
};

/* text (len bytes, a policy that loads; name for messages) with
 * spec.nonRoot.ambient.image set to image. On success returns 0, *res says
 * which case, *out (malloc'ed, NUL-terminated) the new text when added, and
 * *other (malloc'ed) the image the policy names when different. */
int policy_image_render(const char *text, size_t len, const char *name, const char *image,
			enum policy_image_result *res, char **out, char **other,
			cg_error *err) CG_MUST_CHECK;

#endif
