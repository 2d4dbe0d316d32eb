/* SPDX-License-Identifier: ISC */
/* The built-in challenge responder: one thread with epoll answering from
 * a hash table that the workers fill before answering a challenge. For
 * HTTP-01 (RFC 8555 8.3) it answers GET /.well-known/acme-challenge/TOKEN,
 * one response per connection ("Connection: close"), as validators open a
 * connection per validation anyway; for TLS-ALPN-01 (RFC 8737) it runs
 * the TLS handshake of bench_alpn.c, keyed by the name in SNI, and
 * closes. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cb_log.h"

#define BENCH_RESP_BUCKETS 4096
/* Longest key: a token, or a DNS name for TLS-ALPN-01. */
#define BENCH_RESP_MAX_KEY 255
#define BENCH_RESP_MAX_REQUEST 4096
#define BENCH_RESP_EVENTS 64
#define BENCH_RESP_PREFIX "/.well-known/acme-challenge/"
/* What a validator gets per connection (ms): one that stalls is dropped,
 * so a stuck or hostile client cannot hold sockets until the run ends. */
#define BENCH_RESP_CONN_TIMEOUT_MS 10000
/* The thread wakes at least this often (ms) to drop them. */
#define BENCH_RESP_TICK_MS 1000

struct bench_resp_entry {
	struct bench_resp_entry *next;
	char *token;   /* owned */
	char *keyauth; /* owned */
};

/* One accepted connection; on the list R->conns. */
struct bench_resp_conn {
	struct bench_resp_conn *prev, *next;
	int fd;
	int64_t accepted_us; /* bench_now_us() at accept */
	char in[BENCH_RESP_MAX_REQUEST];
	size_t inlen;
	char *out; /* owned; the response, once the request is complete */
	size_t outlen, outoff;
	SSL *ssl;        /* owned; TLS-ALPN-01 only */
	bool want_write; /* the handshake waits for room to send */
	bool watched;    /* in the epoll set */
};

struct bench_responder {
	int lfd;    /* listening socket */
	int port;   /* its port */
	int epfd;   /* epoll instance */
	int stopfd; /* eventfd: written to stop the thread */
	pthread_t thread;
	bool started;
	struct bench_alpn *alpn; /* owned; NULL for HTTP-01 */
	pthread_mutex_t lock;
	/* guards: table */
	struct bench_resp_entry *table[BENCH_RESP_BUCKETS];
	struct bench_resp_conn *conns; /* the thread's own */
	atomic_ulong found, missing;
};

/* FNV-1a: tokens are random, any spread will do. */
static size_t
bench_resp_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h % BENCH_RESP_BUCKETS;
}

int
bench_responder_add(
    struct bench_responder *r, const char *token, const char *keyauth)
{
	struct bench_resp_entry *e;
	size_t len = strlen(token), b;

	if (len == 0 || len > BENCH_RESP_MAX_KEY)
		return -1;
	e = cb_calloc(1, sizeof(*e));
	e->token = cb_strdup(token);
	e->keyauth = cb_strdup(keyauth);
	b = bench_resp_hash(token, len);
	pthread_mutex_lock(&r->lock);
	e->next = r->table[b];
	r->table[b] = e;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void
bench_responder_remove(struct bench_responder *r, const char *token)
{
	struct bench_resp_entry **pp, *e = NULL;
	size_t b = bench_resp_hash(token, strlen(token));

	pthread_mutex_lock(&r->lock);
	for (pp = &r->table[b]; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->token, token) == 0) {
			e = *pp;
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (e != NULL) {
		free(e->token);
		free(e->keyauth);
		free(e);
	}
}

void
bench_responder_counts(
    struct bench_responder *r, uint64_t *found, uint64_t *missing)
{
	*found = atomic_load(&r->found);
	*missing = atomic_load(&r->missing);
}

/* The key authorization for TOKEN (LEN bytes), copied; NULL if unknown. */
static char *
bench_resp_lookup(struct bench_responder *r, const char *token, size_t len)
{
	struct bench_resp_entry *e;
	char *ka = NULL;

	pthread_mutex_lock(&r->lock);
	for (e = r->table[bench_resp_hash(token, len)]; e != NULL;
	     e = e->next) {
		if (strlen(e->token) == len &&
		    memcmp(e->token, token, len) == 0) {
			ka = cb_strdup(e->keyauth);
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ka;
}

char *
bench_responder_find(struct bench_responder *r, const char *key)
{
	char *ka = bench_resp_lookup(r, key, strlen(key));

	atomic_fetch_add(ka != NULL ? &r->found : &r->missing, 1);
	return ka;
}

char *
bench_responder_reply(struct bench_responder *r, const char *req)
{
	const char *path = NULL, *end;
	char *ka = NULL, *out;
	size_t plen = strlen(BENCH_RESP_PREFIX);

	if (strncmp(req, "GET ", 4) == 0)
		path = req + 4;
	end = path != NULL ? strchr(path, ' ') : NULL;
	if (end != NULL && (size_t)(end - path) > plen &&
	    strncmp(path, BENCH_RESP_PREFIX, plen) == 0)
		ka = bench_resp_lookup(
		    r, path + plen, (size_t)(end - path) - plen);
	if (ka == NULL) {
		atomic_fetch_add(&r->missing, 1);
		return cb_strdup("HTTP/1.1 404 Not Found\r\n"
		                 "Content-Length: 0\r\n"
		                 "Connection: close\r\n\r\n");
	}
	atomic_fetch_add(&r->found, 1);
	out = cb_asprintf("HTTP/1.1 200 OK\r\n"
	                  "Content-Type: text/plain\r\n"
	                  "Content-Length: %zu\r\n"
	                  "Connection: close\r\n\r\n%s",
	    strlen(ka), ka);
	free(ka);
	return out;
}

/* Builds the response to the complete request in C->in. */
static void
bench_resp_answer(struct bench_responder *r, struct bench_resp_conn *c)
{
	c->out = bench_responder_reply(r, c->in);
	c->outlen = strlen(c->out);
}

static void
bench_resp_close(struct bench_responder *r, struct bench_resp_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	SSL_free(c->ssl);
	close(c->fd); /* also leaves the epoll set */
	free(c->out);
	free(c);
}

/* Watches C for what it waits for next: the rest of the request, or room
 * for the rest of the response. Returns false on failure. */
static bool
bench_resp_watch(struct bench_responder *r, struct bench_resp_conn *c)
{
	struct epoll_event ev = {.data.ptr = c};

	ev.events = c->out != NULL || c->want_write ? EPOLLOUT : EPOLLIN;
	if (epoll_ctl(r->epfd, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	        c->fd, &ev) != 0)
		return false;
	c->watched = true;
	return true;
}

/* Sends what is left of the response. Returns true when C is finished. */
static bool
bench_resp_send(struct bench_responder *r, struct bench_resp_conn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return !bench_resp_watch(r, c);
		if (n <= 0)
			return true;
		c->outoff += (size_t)n;
	}
	return true;
}

/* Reads what arrived; answers once the header block is complete. Returns
 * true when C is finished. */
static bool
bench_resp_read(struct bench_responder *r, struct bench_resp_conn *c)
{
	ssize_t n;

	if (c->out != NULL)
		return bench_resp_send(r, c);
	for (;;) {
		if (c->inlen >= sizeof(c->in) - 1)
			return true; /* request too large: drop it */
		n = recv(
		    c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return !bench_resp_watch(r, c);
		if (n <= 0)
			return true;
		c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		if (strstr(c->in, "\r\n\r\n") != NULL)
			break;
	}
	bench_resp_answer(r, c);
	return bench_resp_send(r, c);
}

/* Advances C's TLS-ALPN-01 handshake. Returns true when C is finished:
 * the handshake done (the validator has seen the certificate) or
 * failed. */
static bool
bench_resp_handshake(struct bench_responder *r, struct bench_resp_conn *c)
{
	int rc = SSL_do_handshake(c->ssl);

	if (rc == 1) {
		(void)SSL_shutdown(c->ssl);
		return true;
	}
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		c->want_write = false;
		return !bench_resp_watch(r, c);
	case SSL_ERROR_WANT_WRITE:
		c->want_write = true;
		return !bench_resp_watch(r, c);
	default:
		ERR_clear_error();
		return true;
	}
}

/* Moves C on as far as its socket allows. Returns true when C is
 * finished. */
static bool
bench_resp_serve(struct bench_responder *r, struct bench_resp_conn *c)
{
	return c->ssl != NULL ? bench_resp_handshake(r, c)
	                      : bench_resp_read(r, c);
}

/* Accepts a waiting connection (epoll reports the listener again while
 * more wait). The listener defers accepts until the request has arrived
 * (TCP_DEFER_ACCEPT), so most are answered and closed here at once,
 * without a round through epoll. */
static void
bench_resp_accept(struct bench_responder *r)
{
	struct bench_resp_conn *c;
	int fd;

	if ((fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	    0) {
		c = cb_calloc(1, sizeof(*c));
		c->fd = fd;
		c->accepted_us = bench_now_us();
		c->next = r->conns;
		if (r->conns != NULL)
			r->conns->prev = c;
		r->conns = c;
		if (r->alpn != NULL &&
		    (c->ssl = bench_alpn_ssl(r->alpn, fd)) == NULL) {
			bench_resp_close(r, c);
			return;
		}
		if (bench_resp_serve(r, c))
			bench_resp_close(r, c);
	}
}

/* Drops the connections older than BENCH_RESP_CONN_TIMEOUT_MS. */
static void
bench_resp_expire(struct bench_responder *r)
{
	int64_t limit =
	    bench_now_us() - (int64_t)BENCH_RESP_CONN_TIMEOUT_MS * 1000;
	struct bench_resp_conn *c, *next;

	for (c = r->conns; c != NULL; c = next) {
		next = c->next;
		if (c->accepted_us < limit)
			bench_resp_close(r, c);
	}
}

static void *
bench_resp_thread(void *arg)
{
	struct bench_responder *r = arg;
	struct epoll_event evs[BENCH_RESP_EVENTS];
	int n;

	for (;;) {
		n = epoll_wait(
		    r->epfd, evs, BENCH_RESP_EVENTS, BENCH_RESP_TICK_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cb_log(LOG_ERR, "bench: responder epoll: %s",
			    strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct bench_resp_conn *c = evs[i].data.ptr;

			if (c == NULL)
				return NULL; /* the stop eventfd */
			if ((void *)c == (void *)r) {
				bench_resp_accept(r);
				continue;
			}
			if ((evs[i].events & (EPOLLERR | EPOLLHUP)) != 0 ||
			    bench_resp_serve(r, c))
				bench_resp_close(r, c);
		}
		bench_resp_expire(r); /* after the batch: no freed C in it */
	}
	return NULL;
}

/* Binds and listens on HOST:PORT. Returns the socket or -1 (logged). */
static int
bench_resp_listen(const char *host, int port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = sizeof(*sin);
	int fd = -1, one = 1;

	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*sin6);
	} else {
		cb_log(LOG_ERR, "bench: responder: bad address %s", host);
		return -1;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one)) !=
	        0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, 1024) != 0) {
		cb_log(LOG_ERR,
		    "bench: responder: cannot listen on %s port "
		    "%d: %s",
		    host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
bench_resp_bound_port(int fd)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int
bench_responder_port(const struct bench_responder *r)
{
	return r->port;
}

struct bench_responder *
bench_responder_start(const char *host, int port, enum bench_resp_kind kind)
{
	struct bench_responder *r = cb_calloc(1, sizeof(*r));
	struct epoll_event ev = {.events = EPOLLIN};

	r->lfd = r->epfd = r->stopfd = -1;
	pthread_mutex_init(&r->lock, NULL);
	if (kind == BENCH_RESP_TLSALPN01 &&
	    (r->alpn = bench_alpn_new(r)) == NULL)
		goto fail;
	if ((r->lfd = bench_resp_listen(host, port)) < 0 ||
	    (r->port = bench_resp_bound_port(r->lfd)) < 0)
		goto fail;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->epfd < 0 || r->stopfd < 0)
		goto fail;
	/* data.ptr tells the sources apart: R = listener, NULL = stop. */
	ev.data.ptr = r;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->lfd, &ev) != 0)
		goto fail;
	ev.data.ptr = NULL;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->stopfd, &ev) != 0)
		goto fail;
	if (pthread_create(&r->thread, NULL, bench_resp_thread, r) != 0)
		goto fail;
	r->started = true;
	return r;
fail:
	cb_log(LOG_ERR, "bench: cannot start the %s responder",
	    kind == BENCH_RESP_TLSALPN01 ? "TLS-ALPN-01" : "HTTP-01");
	bench_responder_stop(r);
	return NULL;
}

void
bench_responder_stop(struct bench_responder *r)
{
	uint64_t one = 1;

	if (r == NULL)
		return;
	if (r->started) {
		if (write(r->stopfd, &one, sizeof(one)) != sizeof(one))
			cb_log(LOG_WARNING, "bench: responder stop: %s",
			    strerror(errno));
		pthread_join(r->thread, NULL);
	}
	while (r->conns != NULL)
		bench_resp_close(r, r->conns);
	for (size_t b = 0; b < BENCH_RESP_BUCKETS; b++) {
		while (r->table[b] != NULL) {
			struct bench_resp_entry *e = r->table[b];

			r->table[b] = e->next;
			free(e->token);
			free(e->keyauth);
			free(e);
		}
	}
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->stopfd >= 0)
		close(r->stopfd);
	bench_alpn_free(r->alpn);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
