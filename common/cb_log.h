/* SPDX-License-Identifier: ISC */
/* Logging with syslog levels to stderr; the level is set once in main. */
#ifndef CB_LOG_H
#define CB_LOG_H

#include <syslog.h>

#include "cb_mem.h"

/* The current threshold; set once by cb_log_set_level() before threads. */
extern int cb_log_threshold;

/* Sets the threshold (LOG_ERR..LOG_DEBUG). Call before starting threads. */
void cb_log_set_level(int level);
/* Parses "err", "warning", "notice", "info", "debug"; -1 if unknown. */
int cb_log_level_parse(const char *name);
/* Writes one line at LEVEL; use the cb_log() macro instead. Thread-safe. */
void cb_log_write(int level, const char *fmt, ...) CB_PRINTF(2, 3);
/* Copies S into OUT (size N), escaping control and non-ASCII bytes, so
 * client-supplied strings cannot forge log lines. Returns OUT. */
const char *cb_log_escape(const char *s, char *out, size_t n);

/* Checks the level before evaluating the arguments. */
#define cb_log(level, ...)                                                     \
	do {                                                                   \
		if ((level) <= cb_log_threshold)                               \
			cb_log_write((level), __VA_ARGS__);                    \
	} while (0)

#endif
