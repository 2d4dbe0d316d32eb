/* SPDX-License-Identifier: ISC */
/* Unit tests of the connection options sa_pool.c adds (connect_timeout,
 * tcp_user_timeout) and of the bound they put on connecting and
 * reconnecting to a server that does not answer. The other pool tests are
 * in test_sa_embedded.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "sa_test.h"

static struct sa_test_env env;

static int
group_setup(void **state)
{
	(void)state;
	return sa_test_env_start(&env);
}

static int
group_teardown(void **state)
{
	(void)state;
	sa_test_env_stop(&env);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of option KEY that connection C was made with ("" if none). */
static void
assert_option(struct sa_conn *c, const char *key, const char *want)
{
	PQconninfoOption *opts = PQconninfo(c->pg);
	const char *got = NULL;

	assert_non_null(opts);
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0)
			got = o->val != NULL ? o->val : "";
	assert_non_null(got);
	assert_string_equal(got, want);
	PQconninfoFree(opts);
}

static void
test_defaults_added(void **state)
{
	struct sa_conn *c = sa_conn_open(sa_embedded_conninfo(env.emb), true);

	(void)state;
	assert_non_null(c);
	assert_option(c, "connect_timeout", "5");
	assert_option(c, "tcp_user_timeout", "15000");
	assert_option(c, "dbname", "cobble");
	assert_option(c, "fallback_application_name", "cobble");
	sa_conn_close(c);
}

static void
test_dsn_values_kept(void **state)
{
	char ci[512];
	struct sa_conn *c;

	(void)state;
	snprintf(ci, sizeof(ci), "%s connect_timeout=17 tcp_user_timeout=1234",
	    sa_embedded_conninfo(env.emb));
	c = sa_conn_open(ci, true);
	assert_non_null(c);
	assert_option(c, "connect_timeout", "17");
	assert_option(c, "tcp_user_timeout", "1234");
	sa_conn_close(c);

	/* A URI that sets one of them: the other is still added. */
	snprintf(ci, sizeof(ci),
	    "postgresql:///cobble?host=%s/pgsock&user=postgres"
	    "&connect_timeout=9",
	    env.dir);
	c = sa_conn_open(ci, true);
	assert_non_null(c);
	assert_option(c, "connect_timeout", "9");
	assert_option(c, "tcp_user_timeout", "15000");
	assert_option(c, "dbname", "cobble");
	sa_conn_close(c);
}

/* PGCONNECT_TIMEOUT in the environment counts as the operator's choice. */
static void
test_environment_kept(void **state)
{
	struct sa_conn *c;

	(void)state;
	assert_int_equal(setenv("PGCONNECT_TIMEOUT", "11", 1), 0);
	c = sa_conn_open(sa_embedded_conninfo(env.emb), true);
	unsetenv("PGCONNECT_TIMEOUT");
	assert_non_null(c);
	assert_option(c, "connect_timeout", "11");
	sa_conn_close(c);
}

/* A TCP port on loopback that takes connections (the kernel completes
 * them into the backlog) and never says a word: a server that stopped
 * answering. Returns the listening socket; *PORT gets its port. */
static int
mute_listener(int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A connection attempt in a thread, so that a hang fails the test
 * instead of blocking it. */
struct attempt {
	const char *conninfo;
	struct sa_pool *pool; /* acquire from it instead, if set */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* guards: done, ok */
	bool done, ok;
};

static void *
attempt_main(void *arg)
{
	struct attempt *a = arg;
	struct sa_conn *c = NULL;
	bool ok;

	if (a->pool != NULL) {
		c = sa_pool_acquire(a->pool);
		ok = c != NULL;
		sa_pool_release(a->pool, c);
	} else {
		c = sa_conn_open(a->conninfo, true);
		ok = c != NULL;
		sa_conn_close(c);
	}
	pthread_mutex_lock(&a->mu);
	a->done = true;
	a->ok = ok;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* Runs A; milliseconds until it ended, or -1 if it still runs after
 * LIMIT_MS (the thread is then left behind, with A: keep A static). */
static int64_t
attempt_run(struct attempt *a, int64_t limit_ms)
{
	int64_t t0 = now_ms();
	struct timespec until;
	pthread_t t;
	bool done;

	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->done = false;
	a->ok = false;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += limit_ms / 1000;
	assert_int_equal(pthread_create(&t, NULL, attempt_main, a), 0);
	pthread_mutex_lock(&a->mu);
	while (!a->done &&
	    pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT)
		;
	done = a->done;
	pthread_mutex_unlock(&a->mu);
	if (!done) {
		pthread_detach(t);
		return -1;
	}
	pthread_join(t, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	return now_ms() - t0;
}

/* Without connect_timeout libpq waits for the server's first answer for
 * ever. */
static void
test_open_bounded(void **state)
{
	static struct attempt a;
	char ci[128];
	int port, fd = mute_listener(&port);
	int64_t took;

	(void)state;
	snprintf(
	    ci, sizeof(ci), "host=127.0.0.1 port=%d dbname=x user=x", port);
	a.conninfo = ci;
	took = attempt_run(&a, 20000);
	assert_int_not_equal(took, -1);
	assert_false(a.ok);
	assert_true(took >= 4000 && took < 9000);
	/* The DSN's own value wins (libpq's least is 2 s). */
	snprintf(ci, sizeof(ci),
	    "host=127.0.0.1 port=%d dbname=x user=x connect_timeout=2", port);
	took = attempt_run(&a, 20000);
	assert_int_not_equal(took, -1);
	assert_false(a.ok);
	assert_true(took >= 1500 && took < 4000);
	close(fd);
}

/* Relays one TCP connection to the embedded server's socket until told
 * to go mute: then it drops the connection and stops accepting, and the
 * listening socket becomes a server that does not answer. */
struct relay {
	int lfd;
	char sock[100];
	atomic_bool mute;
	pthread_t t;
};

static int
relay_upstream(const struct relay *r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", r->sock);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Copies what FROM has to TO; false at EOF or on an error. */
static bool
relay_copy(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static void *
relay_main(void *arg)
{
	struct relay *r = arg;
	int cfd = accept(r->lfd, NULL, NULL);
	int ufd = cfd >= 0 ? relay_upstream(r) : -1;
	struct pollfd p[2] = {{cfd, POLLIN, 0}, {ufd, POLLIN, 0}};

	while (cfd >= 0 && ufd >= 0 && !atomic_load(&r->mute)) {
		if (poll(p, 2, 50) <= 0)
			continue;
		if ((p[0].revents != 0 && !relay_copy(cfd, ufd)) ||
		    (p[1].revents != 0 && !relay_copy(ufd, cfd)))
			break;
	}
	if (cfd >= 0)
		close(cfd);
	if (ufd >= 0)
		close(ufd);
	return NULL;
}

/* A pooled connection whose server stops answering: the reconnect that
 * the next acquire makes gives up after connect_timeout, and the request
 * gets NULL (serverInternal) instead of waiting for ever. */
static void
test_reconnect_bounded(void **state)
{
	static struct relay r;
	static struct attempt a;
	struct sa_pool *p;
	struct sa_conn *c;
	char ci[128];
	int port;
	int64_t took;

	(void)state;
	r.lfd = mute_listener(&port);
	snprintf(r.sock, sizeof(r.sock), "%s/pgsock/.s.PGSQL.5432", env.dir);
	atomic_init(&r.mute, false);
	assert_int_equal(pthread_create(&r.t, NULL, relay_main, &r), 0);
	snprintf(ci, sizeof(ci),
	    "host=127.0.0.1 port=%d dbname=cobble user=postgres", port);
	p = sa_pool_new(ci, 1, true);
	assert_non_null(p);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_int_equal(sa_test_sql(c, "SELECT 1"), 1);
	sa_pool_release(p, c);

	atomic_store(&r.mute, true);
	assert_int_equal(pthread_join(r.t, NULL), 0);
	a.pool = p;
	took = attempt_run(&a, 20000);
	assert_int_not_equal(took, -1);
	assert_false(a.ok);
	assert_true(took >= 4000 && took < 9000);
	sa_pool_free(p);
	close(r.lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_added),
	    cmocka_unit_test(test_dsn_values_kept),
	    cmocka_unit_test(test_environment_kept),
	    cmocka_unit_test(test_open_bounded),
	    cmocka_unit_test(test_reconnect_bounded),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
