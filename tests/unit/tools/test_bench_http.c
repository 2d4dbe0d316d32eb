/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_http.c against a scripted server on
 * loopback, plain and TLS: keep-alive reuse, the ACME headers, bodies by
 * Content-Length, chunks (split across writes) and connection close, HEAD,
 * 1xx, a kept-alive connection the server closed (sent again once),
 * Connection: close, size limits, malformed responses, closing, refused
 * connections, aborts, certificate checks, and the request as sent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "bench.h"

/* A server answering one connection at a time, each request by its path
 * (see srv_answer()). */
struct srv {
	int lfd, port;
	SSL_CTX *tls; /* NULL: plain HTTP */
	pthread_t th;
	int conns;       /* connections accepted (read after join) */
	int requests;    /* requests read */
	char last[8192]; /* the last request, headers and body */
	atomic_int stop; /* ends the thread */
};

/* The server's connection: plain or TLS. */
struct srv_conn {
	int fd;
	SSL *ssl;
};

static int
srv_write(struct srv_conn *c, const char *s, size_t n)
{
	if (c->ssl != NULL)
		return SSL_write(c->ssl, s, (int)n) == (int)n ? 0 : -1;
	return send(c->fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static void
srv_puts(struct srv_conn *c, const char *s)
{
	(void)srv_write(c, s, strlen(s));
}

static int
srv_read(struct srv_conn *c, char *buf, size_t n)
{
	if (c->ssl != NULL)
		return SSL_read(c->ssl, buf, (int)n);
	return (int)recv(c->fd, buf, n, 0);
}

/* Reads one request (headers and Content-Length body) into S->last.
 * Returns its path without the query (after the request in S->last) or
 * NULL at EOF. */
static char *
srv_request(struct srv *s, struct srv_conn *c)
{
	char buf[sizeof(s->last)], *end = NULL, *cl, *path;
	size_t len = 0, need = 0, plen;
	int n;

	buf[0] = '\0';
	for (;;) {
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "Content-Length:");
			need = (size_t)(end + 4 - buf) +
			    (cl != NULL && cl < end ? strtoul(cl + 15, NULL, 10)
			                            : 0);
		}
		if (end != NULL && len >= need)
			break;
		n = srv_read(c, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return NULL;
		len += (size_t)n;
		buf[len] = '\0';
	}
	s->requests++;
	path = strchr(buf, ' ') + 1;
	plen = strcspn(path, " ?");
	if (len + plen + 2 > sizeof(s->last))
		return NULL;
	memcpy(s->last, buf, len + 1);
	memcpy(s->last + len + 1, path, plen);
	s->last[len + 1 + plen] = '\0';
	return s->last + len + 1;
}

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Answers PATH. Returns false when the connection ends after it. */
static bool
srv_answer(struct srv_conn *c, const char *path)
{
	if (strcmp(path, "/simple") == 0 || strcmp(path, "/then-drop") == 0) {
		srv_puts(c,
		    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		    "Replay-Nonce: n0nce-1\r\n"
		    "Location: https://ca.test/acme/order/1\r\n"
		    "Retry-After: 3\r\n"
		    "Content-Type: application/problem+json\r\n\r\n"
		    "hello");
		return strcmp(path, "/simple") == 0;
	}
	if (strcmp(path, "/chunked") == 0) {
		static const char *parts[] = {"HTTP/1.1 200 OK\r\nTransfer-",
		    "Encoding: chunked\r\n\r\n", "5\r\nhel",
		    "lo\r\n6;ext=1\r\n wo", "rld\r\n0\r\nX-T: 1\r\n", "\r\n"};

		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			srv_puts(c, parts[i]);
			nap_ms(5);
		}
		return true;
	}
	if (strcmp(path, "/eof") == 0) {
		srv_puts(c, "HTTP/1.1 200 OK\r\n\r\nuntil close");
		return false;
	}
	if (strcmp(path, "/close") == 0) {
		srv_puts(c,
		    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		    "Connection: close\r\n\r\nok");
		return true; /* the client must close it */
	}
	if (strcmp(path, "/continue") == 0) {
		srv_puts(c,
		    "HTTP/1.1 100 Continue\r\nRetry-After: 9\r\n\r\n"
		    "HTTP/1.1 204 No Content\r\n"
		    "Replay-Nonce: n0nce-2\r\n\r\n");
		return true;
	}
	if (strcmp(path, "/head") == 0) {
		srv_puts(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
		return true;
	}
	if (strcmp(path, "/big") == 0) {
		srv_puts(
		    c, "HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n");
		return false;
	}
	if (strcmp(path, "/bigchunk") == 0) {
		srv_puts(c,
		    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		    "\r\nffffffffff\r\n");
		return false;
	}
	if (strcmp(path, "/cut") == 0) {
		srv_puts(c, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nab");
		return false;
	}
	if (strcmp(path, "/hang") == 0) {
		nap_ms(2500);
		return false;
	}
	srv_puts(c, "HTTX/1.1 200 OK\r\n\r\n"); /* malformed */
	return false;
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;

	while (!atomic_load(&s->stop)) {
		struct srv_conn c = {.fd = accept(s->lfd, NULL, NULL)};
		char *path;

		struct timeval tv = {.tv_sec = 10};

		if (c.fd < 0)
			continue;
		/* not the listener's short time-out */
		setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		s->conns++;
		if (s->tls != NULL) {
			c.ssl = SSL_new(s->tls);
			SSL_set_fd(c.ssl, c.fd);
			if (SSL_accept(c.ssl) != 1) {
				SSL_free(c.ssl);
				close(c.fd);
				continue;
			}
		}
		while (
		    (path = srv_request(s, &c)) != NULL && srv_answer(&c, path))
			;
		SSL_free(c.ssl);
		close(c.fd);
	}
	return NULL;
}

static void
srv_start(struct srv *s, SSL_CTX *tls)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};

	memset(s, 0, sizeof(*s));
	s->tls = tls;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	/* accept() returns now and then to see STOP */
	setsockopt(s->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
}

static char *
url(const struct srv *s, const char *path)
{
	return cb_asprintf(
	    "%s://127.0.0.1:%d%s", s->tls ? "https" : "http", s->port, path);
}

/* GET PATH; asserts the outcome RC. */
static void
get(struct bench_http *h, const struct srv *s, const char *path, int rc)
{
	char *u = url(s, path);

	assert_int_equal(bench_http_get(h, u), rc);
	free(u);
}

/* The scenarios over S's scheme. */
static void
scenarios(struct srv *s, SSL_CTX *client)
{
	struct bench_http h;
	uint64_t n;
	char *u;

	bench_http_init(&h, client, NULL);
	get(&h, s, "/simple", 0);
	assert_int_equal(h.status, 200);
	assert_string_equal(h.body, "hello");
	assert_int_equal(h.len, 5);
	assert_true(h.has_nonce);
	assert_string_equal(h.nonce, "n0nce-1");
	assert_string_equal(h.location, "https://ca.test/acme/order/1");
	assert_int_equal(h.retry_after, 3);
	assert_true(h.problem);
	/* The same connection, and what the last response said is gone. */
	get(&h, s, "/chunked", 0);
	assert_string_equal(h.body, "hello world");
	assert_null(h.location);
	assert_int_equal(h.retry_after, -1);
	assert_false(h.problem);
	get(&h, s, "/continue", 0);
	assert_int_equal(h.status, 204);
	assert_int_equal(h.retry_after, -1); /* said by the 100 only */
	assert_string_equal(h.nonce, "n0nce-2");
	u = url(s, "/head");
	assert_int_equal(bench_http_head(&h, u), 0);
	free(u);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.len, 0);
	assert_int_equal(h.connects, 1);
	/* A body up to the end of the connection, then a new one. */
	get(&h, s, "/eof", 0);
	assert_string_equal(h.body, "until close");
	assert_int_equal(h.fd, -1);
	get(&h, s, "/close", 0);
	assert_string_equal(h.body, "ok");
	assert_int_equal(h.fd, -1);
	assert_int_equal(h.connects, 2);
	/* The server closes a kept-alive connection: sent again, once. */
	get(&h, s, "/then-drop", 0);
	get(&h, s, "/simple", 0);
	assert_string_equal(h.body, "hello");
	assert_int_equal(h.connects, 4);
	/* Failures. */
	get(&h, s, "/big", -1);
	assert_true(h.too_large);
	assert_non_null(strstr(h.errbuf, "larger than"));
	get(&h, s, "/bigchunk", -1);
	assert_true(h.too_large);
	get(&h, s, "/cut", -1);
	assert_non_null(strstr(h.errbuf, "cut short"));
	get(&h, s, "/bad", -1);
	assert_non_null(strstr(h.errbuf, "status line"));
	assert_int_equal(bench_http_get(&h, "ftp://127.0.0.1/x"), -1);
	assert_non_null(strstr(h.errbuf, "malformed URL"));
	/* Still usable after failures. */
	get(&h, s, "/simple", 0);
	n = h.connects;
	bench_http_close(&h);
	assert_int_equal(h.fd, -1);
	get(&h, s, "/simple", 0);
	assert_int_equal(h.connects, n + 1);
	bench_http_clear(&h);
	bench_http_clear(&h); /* twice is harmless */
}

static void
test_plain(void **state)
{
	struct srv s;
	SSL_CTX *client = bench_tls_ctx_new(NULL);

	(void)state;
	assert_non_null(client);
	srv_start(&s, NULL);
	scenarios(&s, client);
	srv_stop(&s);
	assert_int_equal(s.conns, 9);
	SSL_CTX_free(client);
}

/* A self-signed certificate for 127.0.0.1 and localhost, written to
 * PATH for the client; the server's context in *SRV. */
static void
make_tls(const char *path, SSL_CTX **srv)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *crt = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	FILE *f;

	assert_non_null(key);
	assert_non_null(crt);
	X509_set_version(crt, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
	X509_gmtime_adj(X509_getm_notBefore(crt), -60);
	X509_gmtime_adj(X509_getm_notAfter(crt), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"bench test", -1, -1, 0);
	X509_set_subject_name(crt, name);
	X509_set_issuer_name(crt, name);
	X509_set_pubkey(crt, key);
	X509V3_set_ctx(&v3, crt, crt, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(
	    NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
	assert_non_null(ext);
	X509_add_ext(crt, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(crt, key, EVP_sha256()) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, crt);
	fclose(f);
	*srv = SSL_CTX_new(TLS_server_method());
	assert_non_null(*srv);
	assert_int_equal(SSL_CTX_use_certificate(*srv, crt), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(*srv, key), 1);
	X509_NAME_free(name);
	X509_free(crt);
	EVP_PKEY_free(key);
}

static void
test_tls(void **state)
{
	char path[] = "/tmp/bench-http-ca-XXXXXX";
	struct srv s;
	SSL_CTX *srv_ctx, *client, *other;
	struct bench_http h;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	make_tls(path, &srv_ctx);
	client = bench_tls_ctx_new(path);
	assert_non_null(client);
	srv_start(&s, srv_ctx);
	scenarios(&s, client);
	/* Not trusted: the system's roots do not know this certificate. */
	other = bench_tls_ctx_new(NULL);
	assert_non_null(other);
	bench_http_init(&h, other, NULL);
	get(&h, &s, "/simple", -1);
	assert_non_null(strstr(h.errbuf, "certificate"));
	bench_http_clear(&h);
	srv_stop(&s);
	SSL_CTX_free(other);
	SSL_CTX_free(client);
	SSL_CTX_free(srv_ctx);
	unlink(path);
	assert_null(bench_tls_ctx_new("/nonexistent/ca.pem"));
}

/* A POST as sent: request line, Host, ACME headers, body. */
static void
test_post_request(void **state)
{
	struct srv s;
	SSL_CTX *client = bench_tls_ctx_new(NULL);
	struct bench_http h;
	char *u;

	(void)state;
	srv_start(&s, NULL);
	bench_http_init(&h, client, NULL);
	u = cb_asprintf("http://127.0.0.1:%d/simple?x=1#frag", s.port);
	assert_int_equal(bench_http_post(&h, u, "{\"a\":1}", true), 0);
	free(u);
	bench_http_clear(&h);
	srv_stop(&s);
	assert_non_null(strstr(s.last, "POST /simple?x=1 HTTP/1.1\r\n"));
	assert_non_null(strcasestr(s.last, "\r\nHost: 127.0.0.1:"));
	assert_non_null(
	    strcasestr(s.last, "\r\nContent-Type: application/jose+json\r\n"));
	assert_non_null(strcasestr(s.last, "\r\nContent-Length: 7\r\n"));
	assert_non_null(strcasestr(
	    s.last, "\r\nAccept: application/pem-certificate-chain\r\n"));
	assert_non_null(strstr(s.last, "\r\n\r\n{\"a\":1}"));
	SSL_CTX_free(client);
}

/* Nothing listens: the error names the address. */
static void
test_refused(void **state)
{
	SSL_CTX *client = bench_tls_ctx_new(NULL);
	struct bench_http h;

	(void)state;
	bench_http_init(&h, client, NULL);
	assert_int_equal(bench_http_get(&h, "http://127.0.0.1:1/x"), -1);
	assert_non_null(strstr(h.errbuf, "127.0.0.1 port 1"));
	assert_int_equal(bench_http_get(&h, "http://[::1:1/x"), -1);
	bench_http_clear(&h);
	SSL_CTX_free(client);
}

struct aborter {
	atomic_bool *flag;
};

static void *
abort_later(void *arg)
{
	struct aborter *a = arg;

	nap_ms(200);
	atomic_store(a->flag, true);
	return NULL;
}

/* A server that does not answer: the abort flag ends the wait within
 * about a second. */
static void
test_abort(void **state)
{
	SSL_CTX *client = bench_tls_ctx_new(NULL);
	atomic_bool flag = false;
	struct aborter a = {.flag = &flag};
	struct bench_http h;
	struct srv s;
	pthread_t th;
	int64_t t;

	(void)state;
	srv_start(&s, NULL);
	bench_http_init(&h, client, &flag);
	assert_int_equal(pthread_create(&th, NULL, abort_later, &a), 0);
	t = bench_now_us();
	get(&h, &s, "/hang", -1);
	assert_true(bench_now_us() - t < 1500000);
	assert_non_null(strstr(h.errbuf, "aborted"));
	pthread_join(th, NULL);
	bench_http_clear(&h);
	srv_stop(&s);
	SSL_CTX_free(client);
}

/* RESPONSE, sent whole and the connection closed, read as the answer to
 * a GET (or a HEAD); returns bench_http_read_response()'s result. */
static int
read_sent(struct bench_http *h, const char *response, bool head)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(send(sv[1], response, strlen(response), 0),
	    (ssize_t)strlen(response));
	close(sv[1]);
	return bench_http_read_response(h, sv[0], head);
}

/* The fuzz target's way in: a response from a socket the test wrote. */
static void
test_read_response(void **state)
{
	SSL_CTX *client = SSL_CTX_new(TLS_client_method());
	struct bench_http h;

	(void)state;
	bench_http_init(&h, client, NULL);
	assert_int_equal(read_sent(&h,
	                     "HTTP/1.1 201 Created\r\nReplay-Nonce: n1\r\n"
	                     "Content-Length: 2\r\n\r\n{}",
	                     false),
	    0);
	assert_int_equal(h.status, 201);
	assert_string_equal(h.body, "{}");
	assert_string_equal(h.nonce, "n1");
	assert_int_equal(read_sent(&h,
	                     "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
	                     true),
	    0);
	assert_int_equal(h.len, 0);
	/* RFC 9110 15: a status is 100 to 599. */
	assert_int_equal(read_sent(&h, "HTTP/1.1 099 Low\r\n\r\n", false), -1);
	assert_non_null(strstr(h.errbuf, "status line"));
	assert_int_equal(read_sent(&h, "HTTP/1.1 600 Hi\r\n\r\n", false), -1);
	assert_non_null(strstr(h.errbuf, "status line"));
	assert_int_equal(read_sent(&h, "", false), -1);
	assert_non_null(strstr(h.errbuf, "closed"));
	bench_http_clear(&h);
	SSL_CTX_free(client);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_tls),
	    cmocka_unit_test(test_post_request),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_read_response),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
