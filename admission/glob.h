/* Image globs as RE2 patterns, for CEL's matches().
 *
 * The webhook matches exemptions.images with glibc fnmatch(pattern, image,
 * 0) in the C locale: byte-wise, `*` and `?` match '/' and '\n' too, `\x`
 * is x, `[...]` is a bracket expression (`!` or `^` negates, a leading `]`
 * is a member, ranges, [:class:]), and a `[` without its `]` is a plain
 * character. CEL's matches() runs RE2 over code points, so the translation
 * is exact for ASCII images (image references are ASCII) and never matches
 * more than fnmatch on others: `?` and bracket expressions match one ASCII
 * character only, where fnmatch would match one byte of a multi-byte
 * character. An exemption can thus only be narrower in CEL, never wider.
 */
#ifndef CG_GLOB_H
#define CG_GLOB_H

#include "common/buf.h"
#include "common/error.h"

/* Appends an anchored RE2 pattern equivalent to glob (as above) to out.
 * Fails, naming the construct, on what fnmatch reads in a way this cannot
 * reproduce: a trailing backslash, [=x=] and [.x.], unknown [:classes:],
 * and non-ASCII bytes inside a bracket expression. */
int glob_to_re2(const char *glob, cg_buf *out, cg_error *err) CG_MUST_CHECK;

#endif
