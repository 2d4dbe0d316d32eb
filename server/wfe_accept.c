/* SPDX-License-Identifier: ISC */
/* The listening socket, and the thread that accepts on it and hands each
 * connection to libmicrohttpd with MHD_add_connection(), which gives it to
 * worker (descriptor number modulo the number of workers): consecutive
 * connections land on different workers.
 *
 * Left to itself, libmicrohttpd 0.9.75 puts the listening socket in every
 * worker's poll or epoll set; the first worker to wake accepts up to ten
 * connections at once and serves them all. Under a burst of clients one
 * worker took 17 of 32 keep-alive connections, each of whose requests then
 * waited for the others' (a worker runs one request at a time, and a
 * request waits for its commit), while other workers sat idle. */
#include "wfe_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cb_log.h"
#include "cb_util.h"

/* How long the acceptor pauses when the process is out of descriptors or
 * memory: the pending connections wait in the backlog meanwhile. */
#define WFE_ACCEPT_PAUSE_MS 100

struct wfe_acceptor {
	struct MHD_Daemon *daemon;
	int lfd;     /* the listening socket */
	int wake[2]; /* a byte on wake[1] stops the thread */
	pthread_t thread;
	bool started;
};

/* A restarted server binds at once, with the old connections still in
 * TIME_WAIT; an IPv6 address listens on IPv6 only, as configured. */
static int
wfe_listen_options(int fd, bool v6)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		return -1;
	if (v6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		return -1;
	return 0;
}

static int
wfe_listen_socket(const struct sockaddr_storage *ss, bool v6)
{
	socklen_t len =
	    v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(
	    ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (wfe_listen_options(fd, v6) != 0 ||
	    bind(fd, (const struct sockaddr *)ss, len) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Whether the thread should stop; waits up to TIMEOUT_MS (-1: for ever)
 * for a connection or the stop byte. */
static bool
wfe_accept_wait(const struct wfe_acceptor *a, int timeout_ms)
{
	struct pollfd p[2] = {
	    {.fd = a->lfd, .events = POLLIN},
	    {.fd = a->wake[0], .events = POLLIN},
	};

	if (poll(p, 2, timeout_ms) < 0 && errno != EINTR) {
		/* Out of memory for the wait itself: do not spin on it. */
		cb_log(LOG_ERR, "accept: poll: %s", strerror(errno));
		usleep(WFE_ACCEPT_PAUSE_MS * 1000);
	}
	return (p[1].revents & POLLIN) != 0;
}

/* Accepts every pending connection and hands it over; false when the
 * process ran out of descriptors or memory and should pause. */
static bool
wfe_accept_pending(const struct wfe_acceptor *a)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(a->lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			cb_log(LOG_WARNING, "accept: %s", strerror(errno));
			return errno != EMFILE && errno != ENFILE &&
			    errno != ENOBUFS && errno != ENOMEM;
		}
		/* MHD closes the socket itself when it refuses it: at
		 * server.max_connections, or over server.per_ip_connections. */
		if (MHD_add_connection(
		        a->daemon, fd, (struct sockaddr *)&ss, len) != MHD_YES)
			cb_log(LOG_DEBUG, "accept: connection refused: %s",
			    strerror(errno));
	}
}

static void *
wfe_accept_main(void *arg)
{
	struct wfe_acceptor *a = arg;

	while (!wfe_accept_wait(a, -1))
		if (!wfe_accept_pending(a) &&
		    wfe_accept_wait(a, WFE_ACCEPT_PAUSE_MS))
			break;
	return NULL;
}

struct wfe_acceptor *
wfe_acceptor_start(
    struct MHD_Daemon *daemon, const struct sockaddr_storage *ss, bool v6)
{
	struct wfe_acceptor *a = cb_calloc(1, sizeof(*a));

	a->daemon = daemon;
	a->wake[0] = a->wake[1] = -1;
	if ((a->lfd = wfe_listen_socket(ss, v6)) < 0) {
		cb_log(LOG_ERR, "cannot listen: %s", strerror(errno));
		goto fail;
	}
	if (pipe2(a->wake, O_CLOEXEC) != 0 ||
	    pthread_create(&a->thread, NULL, wfe_accept_main, a) != 0) {
		cb_log(LOG_ERR, "cannot start the accept thread");
		goto fail;
	}
	a->started = true;
	return a;
fail:
	wfe_acceptor_stop(a);
	return NULL;
}

void
wfe_acceptor_stop(struct wfe_acceptor *a)
{
	if (a == NULL)
		return;
	if (a->started) {
		while (write(a->wake[1], "x", 1) < 0 && errno == EINTR)
			;
		pthread_join(a->thread, NULL);
	}
	if (a->lfd >= 0)
		close(a->lfd);
	if (a->wake[0] >= 0)
		close(a->wake[0]);
	if (a->wake[1] >= 0)
		close(a->wake[1]);
	free(a);
}
