/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_responder.c and bench_alpn.c: HTTP-01
 * answers over real loopback connections, unknown and removed tokens,
 * malformed requests; the TLS-ALPN-01 certificate (RFC 8737) and real
 * handshakes with it. */
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
#include <sys/time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "bench.h"

/* Sends REQ to 127.0.0.1:PORT and returns everything read until the
 * server closes (caller frees). */
static char *
exchange(int port, const char *req)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 5};
	char *buf = cb_calloc(1, 8192);
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	while (len < 8191 && (n = recv(fd, buf + len, 8191 - len, 0)) > 0)
		len += (size_t)n;
	close(fd);
	return buf;
}

static char *
get(int port, const char *token)
{
	char req[512];

	snprintf(req, sizeof(req),
	    "GET /.well-known/acme-challenge/%s HTTP/1.1\r\n"
	    "Host: a.bench.cobble.test\r\nUser-Agent: t\r\n\r\n",
	    token);
	return exchange(port, req);
}

static void
test_serves_tokens(void **state)
{
	struct bench_responder *r = bench_responder_start("127.0.0.1", 0, BENCH_RESP_HTTP01);
	uint64_t found, missing;
	char *resp;
	int port;

	(void)state;
	assert_non_null(r);
	port = bench_responder_port(r);
	assert_true(port > 0);
	assert_int_equal(bench_responder_add(r, "tok1", "tok1.thumb"), 0);
	assert_int_equal(bench_responder_add(r, "tok2", "tok2.thumb"), 0);

	resp = get(port, "tok1");
	assert_non_null(strstr(resp, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(resp, "Content-Length: 10\r\n"));
	assert_non_null(strstr(resp, "\r\n\r\ntok1.thumb"));
	free(resp);

	resp = get(port, "tok2");
	assert_non_null(strstr(resp, "\r\n\r\ntok2.thumb"));
	free(resp);

	resp = get(port, "nope");
	assert_non_null(strstr(resp, "HTTP/1.1 404 Not Found\r\n"));
	free(resp);

	bench_responder_remove(r, "tok1");
	bench_responder_remove(r, "never-added");
	resp = get(port, "tok1");
	assert_non_null(strstr(resp, " 404 "));
	free(resp);
	/* A prefix of a token is not the token. */
	resp = get(port, "tok");
	assert_non_null(strstr(resp, " 404 "));
	free(resp);

	bench_responder_counts(r, &found, &missing);
	assert_int_equal(found, 2);
	assert_int_equal(missing, 3);
	bench_responder_stop(r);
}

static void
test_bad_requests(void **state)
{
	struct bench_responder *r = bench_responder_start("127.0.0.1", 0, BENCH_RESP_HTTP01);
	char *big = cb_malloc(6000), *resp;
	int port;

	(void)state;
	assert_non_null(r);
	port = bench_responder_port(r);
	assert_int_equal(bench_responder_add(r, "t", "t.k"), 0);
	resp = exchange(port,
	    "POST /.well-known/acme-challenge/t HTTP/1.1"
	    "\r\n\r\n");
	assert_non_null(strstr(resp, " 404 "));
	free(resp);
	resp = exchange(port, "GET /other/t HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(resp, " 404 "));
	free(resp);
	/* A request without an end that fills the buffer is dropped. */
	memset(big, 'a', 5999);
	big[5999] = '\0';
	resp = exchange(port, big);
	assert_string_equal(resp, "");
	free(resp);
	free(big);
	/* Still serving. */
	resp = get(port, "t");
	assert_non_null(strstr(resp, "\r\n\r\nt.k"));
	free(resp);
	bench_responder_stop(r);
}

static void
test_token_limits_and_stop(void **state)
{
	struct bench_responder *r = bench_responder_start("127.0.0.1", 0, BENCH_RESP_HTTP01);
	char tok[257];

	(void)state;
	assert_non_null(r);
	memset(tok, 'x', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	assert_int_equal(bench_responder_add(r, tok, "k"), -1);
	assert_int_equal(bench_responder_add(r, "", "k"), -1);
	/* Entries still in the table are freed by stop. */
	assert_int_equal(bench_responder_add(r, "left", "behind"), 0);
	bench_responder_stop(r);
	bench_responder_stop(NULL);
}

/* The acmeIdentifier extension's value RFC 8737 3 asks for: the DER of an
 * OCTET STRING holding SHA-256 of KEYAUTH. */
static void
expect_acme_identifier(X509 *x, const char *keyauth)
{
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	int i = X509_get_ext_by_OBJ(x, oid, -1);
	X509_EXTENSION *ext = X509_get_ext(x, i);
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
	unsigned char want[34] = {0x04, 0x20};
	unsigned int dlen = 0;

	assert_true(i >= 0);
	assert_int_equal(X509_get_ext_by_OBJ(x, oid, i), -1); /* only one */
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	assert_int_equal(EVP_Digest(keyauth, strlen(keyauth), want + 2, &dlen,
	                     EVP_sha256(), NULL),
	    1);
	assert_int_equal(ASN1_STRING_length(v), sizeof(want));
	assert_memory_equal(ASN1_STRING_get0_data(v), want, sizeof(want));
	ASN1_OBJECT_free(oid);
}

/* NAME is the one subjectAltName, a dNSName. */
static void
expect_only_san(X509 *x, const char *name)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const GENERAL_NAME *g;

	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
	g = sk_GENERAL_NAME_value(gens, 0);
	assert_int_equal(g->type, GEN_DNS);
	assert_int_equal(ASN1_STRING_length(g->d.dNSName), strlen(name));
	assert_memory_equal(
	    ASN1_STRING_get0_data(g->d.dNSName), name, strlen(name));
	GENERAL_NAMES_free(gens);
}

static void
test_alpn_cert(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x;

	(void)state;
	assert_non_null(key);
	x = bench_alpn_cert("a.bench.cobble.test", "tok.thumb", key);
	assert_non_null(x);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	expect_only_san(x, "a.bench.cobble.test");
	expect_acme_identifier(x, "tok.thumb");
	assert_int_equal(X509_verify(x, key), 1); /* self-signed */
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A TLS handshake with the responder on PORT as a validator makes it:
 * SNI NAME, ALPN PROTO (NULL: none). Returns the server's certificate, or
 * NULL when the handshake failed. */
static X509 *
alpn_handshake(int port, const char *name, const char *proto)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 5};
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	unsigned char alpn[32];
	const unsigned char *got = NULL;
	unsigned int gotlen = 0;
	X509 *cert = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0 && ssl != NULL);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, name);
	if (proto != NULL) {
		alpn[0] = (unsigned char)strlen(proto);
		memcpy(alpn + 1, proto, alpn[0]);
		assert_int_equal(SSL_set_alpn_protos(ssl, alpn, alpn[0] + 1u), 0);
	}
	if (SSL_connect(ssl) == 1) {
		SSL_get0_alpn_selected(ssl, &got, &gotlen);
		assert_int_equal(gotlen, strlen("acme-tls/1"));
		assert_memory_equal(got, "acme-tls/1", gotlen);
		cert = SSL_get1_peer_certificate(ssl);
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return cert;
}

static void
test_alpn_handshakes(void **state)
{
	struct bench_responder *r =
	    bench_responder_start("127.0.0.1", 0, BENCH_RESP_TLSALPN01);
	uint64_t found, missing;
	X509 *x;
	int port;

	(void)state;
	assert_non_null(r);
	port = bench_responder_port(r);
	assert_int_equal(
	    bench_responder_add(r, "a.bench.cobble.test", "tok.thumb"), 0);
	x = alpn_handshake(port, "a.bench.cobble.test", "acme-tls/1");
	assert_non_null(x);
	expect_only_san(x, "a.bench.cobble.test");
	expect_acme_identifier(x, "tok.thumb");
	X509_free(x);
	/* A name not in the table, another protocol, no ALPN at all: no
	 * certificate. */
	assert_null(alpn_handshake(port, "b.bench.cobble.test", "acme-tls/1"));
	assert_null(alpn_handshake(port, "a.bench.cobble.test", "http/1.1"));
	assert_null(alpn_handshake(port, "a.bench.cobble.test", NULL));
	bench_responder_remove(r, "a.bench.cobble.test");
	assert_null(alpn_handshake(port, "a.bench.cobble.test", "acme-tls/1"));
	bench_responder_counts(r, &found, &missing);
	assert_int_equal(found, 2); /* the first, and the one refused ALPN */
	assert_int_equal(missing, 2);
	bench_responder_stop(r);
}

/* A client that connects and sends nothing is dropped after the
 * responder's 10 s, for both kinds, and the responder goes on serving. */
static void
test_stalled_connection_dropped(void **state)
{
	static const enum bench_resp_kind kinds[] = {
	    BENCH_RESP_HTTP01, BENCH_RESP_TLSALPN01};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 20};
	struct bench_responder *r[2];
	int fd[2];
	int64_t t = bench_now_us(), waited;
	char c;

	(void)state;
	for (int k = 0; k < 2; k++) {
		r[k] = bench_responder_start("127.0.0.1", 0, kinds[k]);
		assert_non_null(r[k]);
		sin.sin_port = htons((uint16_t)bench_responder_port(r[k]));
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd[k] = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd[k], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		assert_int_equal(connect(fd[k], (struct sockaddr *)&sin,
		                     sizeof(sin)),
		    0);
		/* One byte gets past TCP_DEFER_ACCEPT; then nothing. */
		assert_int_equal(send(fd[k], "G", 1, 0), 1);
	}
	for (int k = 0; k < 2; k++) {
		assert_int_equal(recv(fd[k], &c, 1, 0), 0); /* closed */
		close(fd[k]);
	}
	waited = bench_now_us() - t;
	assert_true(waited >= 9000000 && waited < 15000000);
	assert_int_equal(bench_responder_add(r[0], "t", "t.k"), 0);
	{
		char *resp = get(bench_responder_port(r[0]), "t");

		assert_non_null(strstr(resp, "\r\n\r\nt.k"));
		free(resp);
	}
	bench_responder_stop(r[0]);
	bench_responder_stop(r[1]);
}

static void
test_bad_address(void **state)
{
	(void)state;
	assert_null(bench_responder_start("not-an-address", 0, BENCH_RESP_HTTP01));
	assert_null(bench_responder_start("192.0.2.1", 0, BENCH_RESP_HTTP01)); /* not ours */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_serves_tokens),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_token_limits_and_stop),
	    cmocka_unit_test(test_alpn_cert),
	    cmocka_unit_test(test_alpn_handshakes),
	    cmocka_unit_test(test_stalled_connection_dropped),
	    cmocka_unit_test(test_bad_address),
	};

	/* As cobble-bench does: a validator that hangs up mid-handshake
	 * must not kill the responder with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
