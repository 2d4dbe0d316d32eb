/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_responder.c: answers over real loopback
 * connections, unknown and removed tokens, malformed requests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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
	struct bench_responder *r = bench_responder_start("127.0.0.1", 0);
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
	struct bench_responder *r = bench_responder_start("127.0.0.1", 0);
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
	struct bench_responder *r = bench_responder_start("127.0.0.1", 0);
	char tok[200];

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

static void
test_bad_address(void **state)
{
	(void)state;
	assert_null(bench_responder_start("not-an-address", 0));
	assert_null(bench_responder_start("192.0.2.1", 0)); /* not ours */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_serves_tokens),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_token_limits_and_stop),
	    cmocka_unit_test(test_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
