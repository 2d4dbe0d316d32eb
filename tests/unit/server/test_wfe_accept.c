/* SPDX-License-Identifier: ISC */
/* Unit tests for the acceptor: connections reach a libmicrohttpd daemon
 * that has no listening socket of its own, consecutive ones are served by
 * different workers, a port in use is refused, and stopping is clean with
 * connections still open. The daemon is plain HTTP here; TLS is the
 * daemon's business, not the acceptor's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wfe_int.h"

#define WORKERS 4

/* Each response names the worker thread that made it. */
static enum MHD_Result
test_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	char body[32];
	struct MHD_Response *r;
	enum MHD_Result ok;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	(void)upload_size;
	/* libmicrohttpd 0.9.75 closes the connection after a response
	 * queued on the first call: answer on the second. */
	if (*req_cls == NULL) {
		*req_cls = conn;
		return MHD_YES;
	}
	snprintf(body, sizeof(body), "%lu", (unsigned long)pthread_self());
	r = MHD_create_response_from_buffer(
	    strlen(body), body, MHD_RESPMEM_MUST_COPY);
	ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

static struct MHD_Daemon *
test_daemon(void)
{
	struct MHD_Daemon *d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	            MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
	        0, NULL, NULL, test_handler, NULL, MHD_OPTION_THREAD_POOL_SIZE,
	        (unsigned int)WORKERS, MHD_OPTION_END);

	assert_non_null(d);
	return d;
}

/* A free port on 127.0.0.1, as SS. */
static void
test_free_addr(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	close(fd);
}

static int
test_connect(const struct sockaddr_storage *ss)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (const struct sockaddr *)ss,
	                     sizeof(struct sockaddr_in)),
	    0);
	return fd;
}

/* Sends a keep-alive GET on FD; the worker's name from the reply. */
static unsigned long
test_get(int fd)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	char buf[512];
	size_t n = 0, want = 0;
	const char *end = NULL, *cl;

	assert_int_equal(write(fd, req, sizeof(req) - 1), sizeof(req) - 1);
	buf[0] = '\0';
	while (end == NULL || n < want) {
		ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);

		assert_true(k > 0);
		n += (size_t)k;
		buf[n] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "Content-Length:");
			assert_non_null(cl);
			want = (size_t)(end + 4 - buf) +
			    strtoul(cl + 15, NULL, 10);
		}
	}
	assert_memory_equal(buf, "HTTP/1.1 200", 12);
	return strtoul(end + 4, NULL, 10);
}

static void
test_connections_dealt_in_turn(void **state)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = test_daemon();
	struct wfe_acceptor *a;
	unsigned long seen[WORKERS];
	int fds[WORKERS], distinct = 0;

	(void)state;
	test_free_addr(&ss);
	assert_non_null(a = wfe_acceptor_start(d, &ss, false));
	/* All connect first: a burst, accepted one after the other. */
	for (int i = 0; i < WORKERS; i++)
		fds[i] = test_connect(&ss);
	for (int i = 0; i < WORKERS; i++) {
		bool fresh = true;

		seen[i] = test_get(fds[i]);
		for (int k = 0; k < i; k++)
			fresh = fresh && seen[k] != seen[i];
		distinct += fresh;
		/* Keep-alive: the same worker serves the next request. */
		assert_true(test_get(fds[i]) == seen[i]);
	}
	/* Four consecutive descriptors, four workers: one each (at most
	 * one pair if a lower descriptor was free). */
	assert_true(distinct >= WORKERS - 1);
	wfe_acceptor_stop(a);
	MHD_stop_daemon(d); /* with the connections still open */
	for (int i = 0; i < WORKERS; i++)
		close(fds[i]);
}

static void
test_port_in_use(void **state)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = test_daemon();
	struct wfe_acceptor *a, *b;

	(void)state;
	test_free_addr(&ss);
	assert_non_null(a = wfe_acceptor_start(d, &ss, false));
	assert_null(b = wfe_acceptor_start(d, &ss, false));
	/* The first still serves. */
	{
		int fd = test_connect(&ss);

		assert_true(test_get(fd) != 0);
		close(fd);
	}
	wfe_acceptor_stop(a);
	wfe_acceptor_stop(NULL);
	MHD_stop_daemon(d);
}

static void
test_stopped_refuses(void **state)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d = test_daemon();
	struct wfe_acceptor *a;
	int fd;

	(void)state;
	test_free_addr(&ss);
	assert_non_null(a = wfe_acceptor_start(d, &ss, false));
	wfe_acceptor_stop(a);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(connect(fd, (struct sockaddr *)&ss,
	                sizeof(struct sockaddr_in)) != 0);
	close(fd);
	MHD_stop_daemon(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connections_dealt_in_turn),
	    cmocka_unit_test(test_port_in_use),
	    cmocka_unit_test(test_stopped_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
