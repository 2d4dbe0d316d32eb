/* SPDX-License-Identifier: ISC */
/* Log lines to stderr, one write(2) per line so threads do not interleave. */
#include "cb_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cb_log_threshold = LOG_INFO;

static const char *const cb_level_names[] = {
    "emerg",
    "alert",
    "crit",
    "err",
    "warning",
    "notice",
    "info",
    "debug",
};

void
cb_log_set_level(int level)
{
	cb_log_threshold = level;
}

int
cb_log_level_parse(const char *name)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (strcmp(name, cb_level_names[i]) == 0)
			return i;
	return -1;
}

void
cb_log_write(int level, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t off;
	int n;

	if (level < 0 || level > LOG_DEBUG)
		level = LOG_ERR;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	off = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + off, sizeof(line) - off,
	    ".%03ldZ %s: ", ts.tv_nsec / 1000000, cb_level_names[level]);
	off += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	off += (size_t)n;
	if (off > sizeof(line) - 2)
		off = sizeof(line) - 2;
	line[off++] = '\n';
	(void)!write(STDERR_FILENO, line, off);
}

const char *
cb_log_escape(const char *s, char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return out;
	for (; s != NULL && *s != '\0' && o + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}
