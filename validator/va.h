/* SPDX-License-Identifier: ISC */
/* The validator: proves control of identifiers. HTTP-01 now; DNS-01,
 * TLS-ALPN-01 and CAA later. Knows no SQL: a task comes in, a result with
 * its validation record goes out. */
#ifndef VA_H
#define VA_H

#include <stdbool.h>
#include <stddef.h>

#include "cb_mem.h"
#include "cb_problem.h"

struct va_config {
	int http01_port;        /* 80 unless in test mode */
	const char *dns_server; /* "IP" or "IP:PORT"; NULL/"" = system */
	bool allow_loopback;
	bool allow_private;
	int timeout_ms;    /* whole validation attempt */
	bool always_valid; /* test mode: skip the check, report valid */
	int delay_ms;      /* test mode: sleep before validating */
};

/* One per worker thread: holds a c-ares channel and a curl handle. */
struct va_ctx;

/* Creates a validator; CFG is copied (strings are duplicated). NULL on
 * failure (logged). Not thread-safe: use one per thread. */
struct va_ctx *va_new(const struct va_config *cfg);
void va_free(struct va_ctx *va);

struct va_task {
	const char *challenge_type;    /* "http-01" */
	const char *ident_type;        /* "dns" */
	const char *ident_value;       /* "www.example.com" */
	const char *token;             /* the challenge token */
	const char *key_authorization; /* token.thumbprint */
};

struct va_result {
	bool valid;
	struct cb_problem prob; /* why not valid (connection, dns,
	                           unauthorized, incorrectResponse...) */
	char *record_json; /* owned: the RFC 8555 8.3 validationRecord array
	                      (url, hostname, port, addressesResolved,
	                      addressUsed), one entry per request made */
};

/* Validates TASK: resolves the name (A and AAAA through c-ares at the
 * configured server), refuses disallowed addresses, fetches
 * http://NAME:PORT/.well-known/acme-challenge/TOKEN following up to 10
 * redirects under DESIGN.md's rules, reads at most CB_MAX_HTTP01_BODY
 * bytes, trims trailing whitespace and compares with the key
 * authorization. Returns 0 with RES filled (valid or not); -1 only for an
 * internal failure (RES->prob is serverInternal). */
int va_validate(struct va_ctx *va, const struct va_task *task,
    struct va_result *res) CB_MUSTCHECK;
/* Frees what RES owns; safe on a zeroed struct. */
void va_result_clear(struct va_result *res);
/* The HTTP-01 body check alone: true when BODY (LEN bytes) equals
 * KEY_AUTHORIZATION after trimming trailing whitespace. Exposed for the
 * fuzz target and unit tests. */
bool va_http01_body_matches(
    const char *body, size_t len, const char *key_authorization);

#endif
