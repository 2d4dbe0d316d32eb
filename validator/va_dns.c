/* SPDX-License-Identifier: ISC */
/* Address lookups for validation: A and AAAA queries on the worker's c-ares
 * channel, driven by poll(2) until answered or the deadline passes. */
#include "va.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>

#include "cb_log.h"
#include "va_int.h"

#define VA_DNS_CLASS_IN 1
#define VA_DNS_TYPE_A 1
#define VA_DNS_TYPE_AAAA 28

struct va_dns_query {
	int family;
	bool done;
	bool malformed;
	int status; /* ARES_* from the callback */
	struct va_addrs addrs;
};

int
va_dns_parse_addrs(
    const unsigned char *abuf, int alen, int family, struct va_addrs *out)
{
	struct ares_addrttl v4[CB_MAX_DNS_ANSWERS];
	struct ares_addr6ttl v6[CB_MAX_DNS_ANSWERS];
	int n = CB_MAX_DNS_ANSWERS, st;

	if (abuf == NULL || alen <= 0 || out->n < 0 ||
	    out->n > CB_MAX_DNS_ANSWERS)
		return -1;
	/* c-ares fills at most N entries, however many the answer holds. */
	if (family == AF_INET)
		st = ares_parse_a_reply(abuf, alen, NULL, v4, &n);
	else if (family == AF_INET6)
		st = ares_parse_aaaa_reply(abuf, alen, NULL, v6, &n);
	else
		return -1;
	if (st == ARES_ENODATA)
		return 0;
	if (st != ARES_SUCCESS)
		return -1;
	for (int i = 0; i < n && out->n < CB_MAX_DNS_ANSWERS; i++) {
		struct va_addr *a = &out->addr[out->n++];

		memset(a, 0, sizeof(*a));
		a->family = family;
		if (family == AF_INET)
			memcpy(a->bytes, &v4[i].ipaddr, 4);
		else
			memcpy(a->bytes, &v6[i].ip6addr, 16);
	}
	return 0;
}

const char *
va_addr_format(const struct va_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

socklen_t
va_addr_to_sockaddr(
    const struct va_addr *a, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	return sizeof(*sin6);
}

static void
va_dns_callback(
    void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct va_dns_query *q = arg;

	(void)timeouts;
	q->done = true;
	q->status = status;
	if (status == ARES_SUCCESS &&
	    va_dns_parse_addrs(abuf, alen, q->family, &q->addrs) != 0)
		q->malformed = true;
}

/* Polls the channel's sockets once, for at most the time c-ares or the
 * deadline allows, and lets c-ares process what happened. */
static int
va_dns_poll_once(ares_channel ch, int64_t left_ms)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	struct timeval maxtv, tvbuf, *tv;
	nfds_t n = 0;
	int bits, ms, r;

	_Static_assert(ARES_GETSOCK_MAXNUM * 2 <= 32, "getsock bits fit");

	bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
	for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		short ev = 0;
		/* ARES_GETSOCK_WRITABLE() shifts a signed 1 into the sign bit
		 * for the last socket; test the bits unsigned instead. */
		if (((unsigned)bits >> i) & 1u)
			ev |= POLLIN;
		if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
			ev |= POLLOUT;
		if (ev == 0)
			continue;
		pfd[n].fd = socks[i];
		pfd[n].events = ev;
		pfd[n].revents = 0;
		n++;
	}
	maxtv.tv_sec = (time_t)(left_ms / 1000);
	maxtv.tv_usec = (suseconds_t)(left_ms % 1000) * 1000;
	tv = ares_timeout(ch, &maxtv, &tvbuf);
	ms = (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000);
	r = poll(pfd, n, ms);
	if (r < 0 && errno != EINTR) {
		cb_log(LOG_ERR, "validator: poll: %s", strerror(errno));
		return -1;
	}
	if (r <= 0) {
		/* Nothing readable: let c-ares handle its timeouts. */
		ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		return 0;
	}
	for (nfds_t i = 0; i < n; i++) {
		short re = pfd[i].revents;
		ares_process_fd(ch,
		    (re & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd
		                                        : ARES_SOCKET_BAD,
		    (re & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
	}
	return 0;
}

static void
va_dns_wait(struct va_ctx *va, int64_t deadline_ms,
    const struct va_dns_query *q4, const struct va_dns_query *q6)
{
	while (!q4->done || !q6->done) {
		int64_t left = deadline_ms - va_now_ms();

		if (left <= 0 || va_dns_poll_once(va->channel, left) != 0)
			break;
	}
	/* Runs the callbacks of unfinished queries (ARES_ECANCELLED) before
	 * the query structs on our caller's stack go away. */
	if (!q4->done || !q6->done)
		ares_cancel(va->channel);
}

static bool
va_dns_timed_out(const struct va_dns_query *q)
{
	return q->status == ARES_ETIMEOUT || q->status == ARES_ECANCELLED;
}

/* A short, library-independent name for a failed lookup, or NULL when the
 * query simply found no address. */
static const char *
va_dns_failure(const struct va_dns_query *q)
{
	if (q->malformed)
		return "malformed response";
	switch (q->status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
		return NULL;
	case ARES_ESERVFAIL:
		return "SERVFAIL";
	case ARES_EREFUSED:
		return "REFUSED";
	case ARES_EBADNAME:
		return "invalid name";
	case ARES_ECONNREFUSED:
		return "networking error";
	default:
		return "lookup failure";
	}
}

/* Chooses the problem for a lookup that found no address. */
static int
va_dns_problem(const char *name, const struct va_dns_query *q4,
    const struct va_dns_query *q6, struct cb_problem *prob)
{
	const char *why;

	if (va_dns_timed_out(q6) || va_dns_timed_out(q4))
		return cb_problem_set(prob, CB_PROB_DNS,
		    "DNS problem: query timed out looking up %s for %s",
		    va_dns_timed_out(q4) ? "A" : "AAAA", name);
	why = va_dns_failure(q4);
	if (why != NULL)
		return cb_problem_set(prob, CB_PROB_DNS,
		    "DNS problem: %s looking up A for %s", why, name);
	why = va_dns_failure(q6);
	if (why != NULL)
		return cb_problem_set(prob, CB_PROB_DNS,
		    "DNS problem: %s looking up AAAA for %s", why, name);
	return cb_problem_set(
	    prob, CB_PROB_DNS, "No valid IP addresses found for %s", name);
}

int
va_dns_resolve(struct va_ctx *va, const char *name, int64_t deadline_ms,
    struct va_addrs *out, struct cb_problem *prob)
{
	struct va_dns_query q4 = {.family = AF_INET, .status = -1};
	struct va_dns_query q6 = {.family = AF_INET6, .status = -1};
	int cap6;

	out->n = 0;
	ares_query(va->channel, name, VA_DNS_CLASS_IN, VA_DNS_TYPE_A,
	    va_dns_callback, &q4);
	ares_query(va->channel, name, VA_DNS_CLASS_IN, VA_DNS_TYPE_AAAA,
	    va_dns_callback, &q6);
	va_dns_wait(va, deadline_ms, &q4, &q6);
	cb_log(LOG_DEBUG, "validator: resolve %s: A %s (%d), AAAA %s (%d)",
	    name, ares_strerror(q4.status), q4.addrs.n,
	    ares_strerror(q6.status), q6.addrs.n);
	/* IPv6 first (it is tried first), but keep room for IPv4 fallback. */
	cap6 = q4.addrs.n > 0 ? CB_MAX_DNS_ANSWERS / 2 : CB_MAX_DNS_ANSWERS;
	for (int i = 0; i < q6.addrs.n && out->n < cap6; i++)
		out->addr[out->n++] = q6.addrs.addr[i];
	for (int i = 0; i < q4.addrs.n && out->n < CB_MAX_DNS_ANSWERS; i++)
		out->addr[out->n++] = q4.addrs.addr[i];
	if (out->n > 0)
		return 0;
	return va_dns_problem(name, &q4, &q6, prob);
}
