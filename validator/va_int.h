/* SPDX-License-Identifier: ISC */
/* Declarations shared inside the validator module (and its tests and fuzz
 * targets). */
#ifndef VA_INT_H
#define VA_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ares.h>
#include <curl/curl.h>

#include "cb_limits.h"
#include "cb_problem.h"
#include "pa.h"
#include "va.h"

struct va_ctx {
	struct va_config cfg; /* dns_server points at dns_server_buf */
	char *dns_server_buf; /* owned copy of cfg.dns_server */
	struct pa_addr_policy addr_policy;
	ares_channel channel;
	CURL *curl;       /* reused for every request of this worker */
	bool curl_global; /* curl_global_init() succeeded */
	char curl_err[CURL_ERROR_SIZE];   /* curl's message, for logs only */
	char pinned[CB_MAX_DNS_NAME + 8]; /* "host:port" of the last pin */
};

/* One resolved address. */
struct va_addr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char bytes[16]; /* 4 or 16 bytes in network order */
};

/* Addresses from DNS answers, at most CB_MAX_DNS_ANSWERS. */
struct va_addrs {
	int n;
	struct va_addr addr[CB_MAX_DNS_ANSWERS];
};

/* Milliseconds on the monotonic clock. */
int64_t va_now_ms(void);

/* Parses the raw DNS answer ABUF (ALEN bytes) to a query of type A
 * (FAMILY AF_INET) or AAAA (AF_INET6) with c-ares' reply parser, and
 * appends the addresses of that family to OUT until it holds
 * CB_MAX_DNS_ANSWERS. A well-formed answer without addresses adds none.
 * Returns 0, or -1 when the answer is malformed or FAMILY is neither. */
int va_dns_parse_addrs(const unsigned char *abuf, int alen, int family,
    struct va_addrs *out) CB_MUSTCHECK;
/* Resolves NAME to its A and AAAA addresses with VA's channel, waiting at
 * most until DEADLINE_MS (va_now_ms() clock). OUT holds IPv6 addresses
 * first, then IPv4. Returns 0 with at least one address, or -1 with a dns
 * problem in PROB (no addresses, NXDOMAIN, timeout, server failure). */
int va_dns_resolve(struct va_ctx *va, const char *name, int64_t deadline_ms,
    struct va_addrs *out, struct cb_problem *prob) CB_MUSTCHECK;
/* Formats A as text into BUF (INET6_ADDRSTRLEN bytes). Returns BUF. */
const char *va_addr_format(const struct va_addr *a, char *buf, size_t len);
/* Fills SS from A with PORT; returns the address length. */
socklen_t va_addr_to_sockaddr(
    const struct va_addr *a, int port, struct sockaddr_storage *ss);

/* One HTTP-01 request target, parsed and checked. */
struct va_target {
	char *url;  /* owned; printable ASCII */
	char *host; /* owned; a lowercase DNS name */
	int port;
};

/* Percent-encodes spaces, control and non-ASCII bytes of IN, a Location
 * value (as browsers do), so the URL is plain ASCII. Caller owns the
 * result; NULL when IN is longer than CB_MAX_URL_LEN. */
char *va_url_escape(const char *in);
/* Parses REF, the first URL or a redirect's Location (resolved against
 * BASE when BASE is not NULL), into T and applies DESIGN.md's redirect
 * rules: http or https only, ports 80 and 443 (and VA's http01_port for
 * http), a DNS name below a public suffix and never an IP literal, at most
 * CB_MAX_URL_LEN characters; credentials and the fragment are dropped.
 * Returns 0, or -1 with a connection problem in PROB (serverInternal when
 * curl cannot allocate) and T zeroed. Exposed for tests and fuzzing. */
int va_target_parse(const struct va_ctx *va, const char *base, const char *ref,
    struct va_target *t, struct cb_problem *prob) CB_MUSTCHECK;
/* Frees what T owns and zeroes it; safe on a zeroed struct. */
void va_target_clear(struct va_target *t);

/* The HTTP-01 check of TASK (see va_validate). Fills RES; returns 0, or -1
 * on an internal failure with RES->prob set to serverInternal. */
int va_http01_validate(struct va_ctx *va, const struct va_task *task,
    int64_t deadline_ms, struct va_result *res) CB_MUSTCHECK;

#endif
