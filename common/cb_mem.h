/* SPDX-License-Identifier: ISC */
/* Cobble's allocators: log and abort on out-of-memory, so callers never check.
 */
#ifndef CB_MEM_H
#define CB_MEM_H

#include <stddef.h>

#define CB_MUSTCHECK __attribute__((warn_unused_result))
#define CB_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* malloc(3) that aborts on failure. Caller owns the result. */
void *cb_malloc(size_t n);
/* calloc(3) that aborts on failure. Caller owns the result. */
void *cb_calloc(size_t nmemb, size_t size);
/* reallocarray(3) that aborts on failure or overflow. */
void *cb_reallocarray(void *p, size_t nmemb, size_t size);
/* strdup(3) that aborts on failure; NULL in gives NULL out. */
char *cb_strdup(const char *s);
/* strndup(3) that aborts on failure. */
char *cb_strndup(const char *s, size_t n);
/* asprintf(3) that aborts on failure. Caller owns the result. */
char *cb_asprintf(const char *fmt, ...) CB_PRINTF(1, 2);

#endif
