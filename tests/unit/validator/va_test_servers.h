/* SPDX-License-Identifier: ISC */
/* Loopback test servers for the validator tests: a tiny UDP DNS responder,
 * a tiny HTTP/1.1 server with canned responses and an HTTPS server on port
 * 443 of a loopback address of its own, each in a thread. */
#ifndef VA_TEST_SERVERS_H
#define VA_TEST_SERVERS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cb_limits.h"

#define TEST_UNUSED __attribute__((unused))
#define TEST_KA "tok-good.thumbprint-0123456789"
#define TEST_WK "/.well-known/acme-challenge/"

/* Binds a loopback socket of TYPE to a free port; returns the fd and sets
 * *PORT. */
static TEST_UNUSED int
test_bind_loopback(int type, int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		abort();
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		abort();
	if (type == SOCK_STREAM && listen(fd, 16) != 0)
		abort();
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A loopback TCP port with nothing listening on it. */
static TEST_UNUSED int
test_closed_port(void)
{
	int port, fd = test_bind_loopback(SOCK_STREAM, &port);

	close(fd);
	return port;
}

/* ---- DNS ---------------------------------------------------------------
 * Answers by the first label's prefix: "nx" NXDOMAIN, "sf" SERVFAIL, "to"
 * no answer at all, "priv" A 10.0.0.1, "v6" A 127.0.0.1 and AAAA ::1,
 * "many" 40 A records, "tls-A-B-C-D" A A.B.C.D (the HTTPS server's
 * address) and no AAAA, anything else A 127.0.0.1 and no AAAA. */

static void
test_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Appends one answer (a pointer to the question name) to OUT at *OFF. */
static void
test_dns_rr(unsigned char *out, size_t *off, unsigned type,
    const unsigned char *rdata, unsigned rdlen)
{
	unsigned char *p = out + *off;

	test_put16(p, 0xc00c); /* name: pointer to offset 12 */
	test_put16(p + 2, type);
	test_put16(p + 4, 1);           /* class IN */
	memcpy(p + 6, "\0\0\0\x3c", 4); /* TTL 60 */
	test_put16(p + 10, rdlen);
	memcpy(p + 12, rdata, rdlen);
	*off += 12 + rdlen;
}

/* Builds the response to QUERY (QLEN bytes) into OUT (at least 2048
 * bytes). Returns its length, or 0 to drop the query. */
static TEST_UNUSED size_t
test_dns_respond(const unsigned char *q, size_t qlen, unsigned char *out)
{
	static const unsigned char lo4[4] = {127, 0, 0, 1};
	static const unsigned char priv4[4] = {10, 0, 0, 1};
	static const unsigned char lo6[16] = {[15] = 1};
	char first[64] = "", extra;
	size_t off = 12, qend;
	unsigned qtype, rcode = 0, an = 0, ip[4];

	if (qlen < 17)
		return 0;
	/* The first label names the behaviour. */
	if (q[12] > 0 && q[12] < sizeof(first) && 13u + q[12] <= qlen) {
		memcpy(first, q + 13, q[12]);
		first[q[12]] = '\0';
	}
	while (off < qlen && q[off] != 0)
		off += 1 + q[off];
	qend = off + 5;
	if (qend > qlen)
		return 0;
	qtype = (unsigned)(q[off + 1] << 8 | q[off + 2]);
	if (strncmp(first, "to", 2) == 0)
		return 0;
	memcpy(out, q, qend);
	off = qend;
	if (strncmp(first, "nx", 2) == 0)
		rcode = 3;
	else if (strncmp(first, "sf", 2) == 0)
		rcode = 2;
	else if (qtype == 1 && strncmp(first, "many", 4) == 0) {
		for (unsigned i = 0; i < 40; i++) {
			unsigned char a[4] = {127, 0, 1, (unsigned char)i};
			test_dns_rr(out, &off, 1, a, 4);
			an++;
		}
	} else if (sscanf(first, "tls-%u-%u-%u-%u%c", &ip[0], &ip[1], &ip[2],
	               &ip[3], &extra) == 4) {
		unsigned char a[4] = {(unsigned char)ip[0],
		    (unsigned char)ip[1], (unsigned char)ip[2],
		    (unsigned char)ip[3]};
		if (qtype == 1) {
			test_dns_rr(out, &off, 1, a, 4);
			an = 1;
		}
	} else if (qtype == 1) {
		test_dns_rr(out, &off, 1,
		    strncmp(first, "priv", 4) == 0 ? priv4 : lo4, 4);
		an = 1;
	} else if (qtype == 28 && strncmp(first, "v6", 2) == 0) {
		test_dns_rr(out, &off, 28, lo6, 16);
		an = 1;
	}
	/* QR, opcode copied, AA, RD copied, RA, RCODE. */
	out[2] = (unsigned char)(0x84 | (q[2] & 0x79));
	out[3] = (unsigned char)(0x80 | rcode);
	test_put16(out + 4, 1);
	test_put16(out + 6, an);
	test_put16(out + 8, 0);
	test_put16(out + 10, 0);
	return off;
}

struct test_dns {
	int fd;
	int port;
	atomic_bool stop;
	atomic_int queries;
	pthread_t thread;
};

static void *
test_dns_main(void *arg)
{
	struct test_dns *d = arg;
	unsigned char q[512], out[2048];
	struct sockaddr_storage from;

	while (!atomic_load(&d->stop)) {
		struct pollfd pfd = {d->fd, POLLIN, 0};
		socklen_t flen = sizeof(from);
		ssize_t n;
		size_t rlen;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvfrom(
		    d->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			continue;
		atomic_fetch_add(&d->queries, 1);
		rlen = test_dns_respond(q, (size_t)n, out);
		if (rlen > 0)
			sendto(d->fd, out, rlen, 0, (struct sockaddr *)&from,
			    flen);
	}
	return NULL;
}

static TEST_UNUSED void
test_dns_start(struct test_dns *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = test_bind_loopback(SOCK_DGRAM, &d->port);
	atomic_init(&d->stop, false);
	atomic_init(&d->queries, 0);
	if (pthread_create(&d->thread, NULL, test_dns_main, d) != 0)
		abort();
}

static TEST_UNUSED void
test_dns_stop(struct test_dns *d)
{
	atomic_store(&d->stop, true);
	pthread_join(d->thread, NULL);
	close(d->fd);
}

/* ---- HTTP --------------------------------------------------------------
 * Serves /.well-known/acme-challenge/TOKEN by TOKEN (see test_http_route). */

struct test_http {
	int fd;
	int port;
	atomic_bool stop;
	atomic_int requests;
	pthread_t thread;
};

static void
test_send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void
test_http_reply(
    int fd, int status, const char *location, const char *body, size_t blen)
{
	char head[1024];
	int n;

	n = snprintf(head, sizeof(head),
	    "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "%s%s%s\r\n",
	    status, blen, location != NULL ? "Location: " : "",
	    location != NULL ? location : "", location != NULL ? "\r\n" : "");
	test_send_all(fd, head, (size_t)n);
	test_send_all(fd, body, blen);
}

static void
test_http_redirect(int fd, const char *location)
{
	test_http_reply(fd, 302, location, "moved", 5);
}

/* Answers one request for TOKEN on server port PORT. */
static void
test_http_route(int fd, const char *token, int port)
{
	char loc[512], *big;
	size_t blen;

	if (strcmp(token, "good") == 0) {
		test_http_reply(fd, 200, NULL, TEST_KA, strlen(TEST_KA));
	} else if (strcmp(token, "wrong") == 0) {
		test_http_reply(fd, 200, NULL, "not\tthe key\x01", 12);
	} else if (strcmp(token, "ws") == 0) {
		test_http_reply(
		    fd, 200, NULL, TEST_KA "\r\n  \n", strlen(TEST_KA) + 5);
	} else if (strcmp(token, "redir") == 0) {
		test_http_redirect(fd, TEST_WK "good");
	} else if (strcmp(token, "redirabs") == 0) {
		snprintf(loc, sizeof(loc),
		    "http://other.cobble.test:%d" TEST_WK "good", port);
		test_http_redirect(fd, loc);
	} else if (strcmp(token, "redir8080") == 0) {
		test_http_redirect(
		    fd, "http://ok.cobble.test:8080" TEST_WK "good");
	} else if (strncmp(token, "redirtls-", 9) == 0) {
		/* "redirtls-A-B-C-D": to the HTTPS server at A.B.C.D:443. */
		snprintf(loc, sizeof(loc),
		    "https://tls-%.32s.cobble.test" TEST_WK "good", token + 9);
		test_http_redirect(fd, loc);
	} else if (strncmp(token, "redirtlsport-", 13) == 0) {
		/* The same, but to the (http-only) test port. */
		snprintf(loc, sizeof(loc),
		    "https://tls-%.32s.cobble.test:%d" TEST_WK "good",
		    token + 13, port);
		test_http_redirect(fd, loc);
	} else if (strcmp(token, "redirip") == 0) {
		snprintf(loc, sizeof(loc), "http://127.0.0.1:%d" TEST_WK "good",
		    port);
		test_http_redirect(fd, loc);
	} else if (strcmp(token, "redirftp") == 0) {
		test_http_redirect(fd, "ftp://ok.cobble.test" TEST_WK "good");
	} else if (strcmp(token, "redirnx") == 0) {
		snprintf(loc, sizeof(loc),
		    "http://nx.cobble.test:%d" TEST_WK "good", port);
		test_http_redirect(fd, loc);
	} else if (strncmp(token, "chain", 5) == 0 && atoi(token + 5) > 0) {
		snprintf(loc, sizeof(loc), "chain%d", atoi(token + 5) - 1);
		test_http_redirect(fd, loc);
	} else if (strcmp(token, "chain0") == 0) {
		test_http_reply(fd, 200, NULL, TEST_KA, strlen(TEST_KA));
	} else if (strcmp(token, "big") == 0 || strcmp(token, "exact") == 0) {
		/* "exact": the key authorization padded with spaces to the
		 * limit; "big": one byte more. */
		blen = CB_MAX_HTTP01_BODY + (strcmp(token, "big") == 0);
		big = malloc(blen);
		memset(big, ' ', blen);
		memcpy(big, TEST_KA, strlen(TEST_KA));
		test_http_reply(fd, 200, NULL, big, blen);
		free(big);
	} else if (strcmp(token, "close") == 0) {
		/* No response at all. */
	} else {
		test_http_reply(fd, 404, NULL, "not found", 9);
	}
}

static void
test_http_serve(struct test_http *h, int fd)
{
	struct timeval tv = {2, 0};
	char req[8192], path[1024];
	size_t len = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < sizeof(req) - 1) {
		ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	atomic_fetch_add(&h->requests, 1);
	if (sscanf(req, "GET %1023s HTTP/1.1", path) != 1 ||
	    strncmp(path, TEST_WK, strlen(TEST_WK)) != 0) {
		test_http_reply(fd, 400, NULL, "bad", 3);
		return;
	}
	test_http_route(fd, path + strlen(TEST_WK), h->port);
}

static void *
test_http_main(void *arg)
{
	struct test_http *h = arg;

	while (!atomic_load(&h->stop)) {
		struct pollfd pfd = {h->fd, POLLIN, 0};
		int c;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		test_http_serve(h, c);
		close(c);
	}
	return NULL;
}

static TEST_UNUSED void
test_http_start(struct test_http *h)
{
	memset(h, 0, sizeof(*h));
	h->fd = test_bind_loopback(SOCK_STREAM, &h->port);
	atomic_init(&h->stop, false);
	atomic_init(&h->requests, 0);
	if (pthread_create(&h->thread, NULL, test_http_main, h) != 0)
		abort();
}

static TEST_UNUSED void
test_http_stop(struct test_http *h)
{
	atomic_store(&h->stop, true);
	pthread_join(h->thread, NULL);
	close(h->fd);
}

/* ---- HTTPS -------------------------------------------------------------
 * Port 443 of 127.B.C.D, an address picked per run so that concurrent runs
 * do not collide (needs root or CAP_NET_BIND_SERVICE), with a self-signed
 * certificate for another name: only a client that verifies nothing gets
 * through. Answers GET TEST_WK "good" with TEST_KA, anything else 404. */

struct test_https {
	int fd;
	char addr[INET_ADDRSTRLEN]; /* "127.B.C.D" */
	char label[32];             /* "127-B-C-D", for "tls-" names */
	SSL_CTX *ssl;
	atomic_bool stop;
	atomic_int requests; /* completed handshakes with a request */
	pthread_t thread;
};

/* A server context with a fresh P-256 key and a self-signed certificate
 * for "wrong.invalid". */
static TEST_UNUSED SSL_CTX *
test_tls_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	if (ctx == NULL || key == NULL || x == NULL ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)"wrong.invalid", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0 ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		abort();
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

/* Binds port 443 of a free 127.B.C.D and listens. Returns the fd, or -1
 * when port 443 may not be bound at all (no privilege). */
static TEST_UNUSED int
test_bind_443(struct test_https *h)
{
	unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
	struct sockaddr_in sin;
	int one = 1;

	for (int i = 0; i < 32; i++, seed = seed * 1103515245u + 12345u) {
		unsigned b = 2 + (seed >> 8) % 250, c = (seed >> 16) % 256,
		         d = 1 + (seed >> 24) % 254;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			abort();
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(443);
		sin.sin_addr.s_addr = htonl(127u << 24 | b << 16 | c << 8 | d);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    listen(fd, 16) == 0) {
			snprintf(
			    h->addr, sizeof(h->addr), "127.%u.%u.%u", b, c, d);
			snprintf(h->label, sizeof(h->label), "127-%u-%u-%u", b,
			    c, d);
			return fd;
		}
		close(fd);
		if (errno == EACCES || errno == EPERM)
			return -1;
	}
	abort();
}

static void
test_https_serve(struct test_https *h, int fd)
{
	struct timeval tv = {2, 0};
	char req[4096], path[1024], resp[256];
	const char *body = "not found";
	int len = 0, n, status = 404;
	SSL *s = NULL;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	s = SSL_new(h->ssl);
	if (s == NULL || SSL_set_fd(s, fd) != 1 || SSL_accept(s) != 1)
		goto out;
	while (len < (int)sizeof(req) - 1) {
		n = SSL_read(s, req + len, (int)sizeof(req) - 1 - len);
		if (n <= 0)
			goto out;
		len += n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	atomic_fetch_add(&h->requests, 1);
	if (sscanf(req, "GET %1023s HTTP/1.1", path) == 1 &&
	    strcmp(path, TEST_WK "good") == 0) {
		status = 200;
		body = TEST_KA;
	}
	n = snprintf(resp, sizeof(resp),
	    "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s",
	    status, strlen(body), body);
	SSL_write(s, resp, n);
	SSL_shutdown(s);
out:
	SSL_free(s);
}

static void *
test_https_main(void *arg)
{
	struct test_https *h = arg;

	while (!atomic_load(&h->stop)) {
		struct pollfd pfd = {h->fd, POLLIN, 0};
		int c;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		test_https_serve(h, c);
		close(c);
	}
	return NULL;
}

/* Starts the server; -1 (nothing started) when port 443 cannot be bound. */
static TEST_UNUSED int
test_https_start(struct test_https *h)
{
	memset(h, 0, sizeof(*h));
	h->fd = test_bind_443(h);
	if (h->fd < 0)
		return -1;
	/* A client that hangs up mid-write must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	h->ssl = test_tls_ctx_new();
	atomic_init(&h->stop, false);
	atomic_init(&h->requests, 0);
	if (pthread_create(&h->thread, NULL, test_https_main, h) != 0)
		abort();
	return 0;
}

static TEST_UNUSED void
test_https_stop(struct test_https *h)
{
	atomic_store(&h->stop, true);
	pthread_join(h->thread, NULL);
	close(h->fd);
	SSL_CTX_free(h->ssl);
}

#endif
