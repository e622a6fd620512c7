#include "server/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Room kept for the closing "}\n" so a truncated line is still valid JSON. */
#define LOG_TAIL 3

static size_t room(const log_line *l)
{
	return sizeof(l->buf) - LOG_TAIL - l->len;
}

static void put(log_line *l, const char *s, size_t n)
{
	if (n > room(l))
		n = room(l);
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* Writes s as a JSON string. A string that does not fit is cut at a
 * character boundary of the escaping so the line stays parseable. */
static void put_json(log_line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t avail = room(l);
	if (avail < 2)
		return;
	char *o = l->buf + l->len;
	size_t n = 0;
	o[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		char esc[7];
		size_t k = 0;
		if (*p == '"' || *p == '\\') {
			esc[k++] = '\\';
			esc[k++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(esc, "\\u00", 4);
			k = 4;
			esc[k++] = hex[*p >> 4];
			esc[k++] = hex[*p & 15];
		} else {
			esc[k++] = (char)*p;
		}
		if (n + k + 1 > avail)
			break;
		memcpy(o + n, esc, k);
		n += k;
	}
	o[n++] = '"';
	l->len += n;
}

/* Writes ,"key": when the key and a value of at least value_min bytes fit;
 * otherwise the whole field is left out, so a full line stays valid JSON.
 * Keys are constants of plain characters. */
static bool put_key(log_line *l, const char *key, size_t value_min)
{
	if (room(l) < strlen(key) + 4 + value_min)
		return false;
	put(l, ",", 1);
	put_json(l, key);
	put(l, ":", 1);
	return true;
}

void log_begin(log_line *l, const char *level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char t[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + n, sizeof(t) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	l->len = 0;
	put(l, "{\"ts\":", 6);
	put_json(l, t);
	log_str(l, "level", level);
	log_str(l, "msg", msg);
}

void log_str(log_line *l, const char *key, const char *val)
{
	if (put_key(l, key, 2))
		put_json(l, val);
}

void log_int(log_line *l, const char *key, long long val)
{
	char n[24];
	int k = snprintf(n, sizeof(n), "%lld", val);
	if (put_key(l, key, (size_t)k))
		put(l, n, (size_t)k);
}

void log_bool(log_line *l, const char *key, bool val)
{
	if (put_key(l, key, 5))
		put(l, val ? "true" : "false", val ? 4 : 5);
}

void log_end(log_line *l)
{
	l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	/* Nothing sensible to do when stderr is gone. */
	ssize_t w = write(STDERR_FILENO, l->buf, l->len);
	(void)w;
}

void log_msg(const char *level, const char *msg, const char *detail)
{
	log_line l;
	log_begin(&l, level, msg);
	if (detail != NULL)
		log_str(&l, "error", detail);
	log_end(&l);
}

void log_msgf(const char *level, const char *msg, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_msg(level, msg, detail);
}
