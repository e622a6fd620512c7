/* Structured logging: one JSON object per line on stderr.
 *
 * A line is built in a fixed buffer on the caller's stack and written with a
 * single write(2), so lines from concurrent threads never interleave (each
 * is below PIPE_BUF) and logging never allocates. Values that do not fit are
 * truncated, never split.
 */
#ifndef CG_SERVER_LOG_H
#define CG_SERVER_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define LOG_LINE_MAX 4000

typedef struct log_line {
	char buf[LOG_LINE_MAX];
	size_t len;
} log_line;

/* Starts {"ts":"...","level":LEVEL,"msg":MSG */
void log_begin(log_line *l, const char *level, const char *msg);
void log_str(log_line *l, const char *key, const char *val);
void log_int(log_line *l, const char *key, long long val);
void log_bool(log_line *l, const char *key, bool val);
/* Closes the object and writes the line. */
void log_end(log_line *l);

/* One-call forms: {"level":LEVEL,"msg":MSG,"error":DETAIL}. */
void log_msg(const char *level, const char *msg, const char *detail);
void log_msgf(const char *level, const char *msg, const char *fmt, ...) CG_PRINTF(3, 4);

#endif
