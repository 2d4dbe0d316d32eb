/* SPDX-License-Identifier: ISC */
/* Unit tests of the embedded cluster (and its restart when the server
 * dies), connections, the pool (blocking, rollback on release, reconnect),
 * transactions and migrations. */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

static void
test_embedded_layout(void **state)
{
	char path[256];
	struct stat st;
	struct passwd *pw;

	(void)state;
	assert_non_null(strstr(sa_embedded_conninfo(env.emb), "/pgsock'"));
	assert_non_null(strstr(sa_embedded_conninfo(env.emb), "dbname=cobble"));
	snprintf(path, sizeof(path), "%s/pgdata/PG_VERSION", env.dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/postgres.log", env.dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/pgdata", env.dir);
	assert_int_equal(stat(path, &st), 0);
	if (geteuid() == 0) {
		pw = getpwnam("postgres");
		assert_non_null(pw);
		assert_int_equal(st.st_uid, pw->pw_uid);
		assert_int_equal(stat(env.dir, &st), 0);
		assert_true(st.st_mode & S_IXOTH);
	} else {
		assert_int_equal(st.st_uid, geteuid());
	}
}

static void
test_migrate_twice(void **state)
{
	struct sa_conn *c = sa_conn_open(sa_embedded_conninfo(env.emb), true);

	(void)state;
	assert_non_null(c);
	assert_int_equal(sa_migrate(c), SA_OK);
	/* Every migration once, numbered from 1 without gaps. */
	int applied = sa_test_sql(c, "SELECT count(*) FROM schema_migrations");
	assert_true(applied >= 2);
	assert_int_equal(
	    sa_test_sql(c, "SELECT max(version) FROM schema_migrations"),
	    applied);
	assert_int_equal(sa_migrate(c), SA_OK);
	assert_int_equal(
	    sa_test_sql(c, "SELECT count(*) FROM schema_migrations"), applied);
	/* Migration 2 dropped the foreign keys. */
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM pg_constraint"
	                     " WHERE contype = 'f'"),
	    0);
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM pg_tables "
	                     "WHERE tablename IN ('accounts', "
	                     "'orders', 'authzs', 'order_authzs', "
	                     "'challenges', 'certificates', "
	                     "'issued_names')"),
	    7);
	/* Not inside a caller's transaction. */
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_migrate(c), SA_ERR);
	sa_tx_rollback(c);
	sa_conn_close(c);
}

static void
test_conn_open_fails(void **state)
{
	(void)state;
	assert_null(sa_conn_open("host=/nonexistent/dir dbname=x", true));
	assert_null(sa_pool_new(sa_embedded_conninfo(env.emb), 0, true));
	sa_conn_close(NULL);
	sa_pool_free(NULL);
	sa_embedded_stop(NULL);
}

static void
test_synchronous_commit(void **state)
{
	const char *ci = sa_embedded_conninfo(env.emb);
	struct sa_conn *on = sa_conn_open(ci, true);
	struct sa_conn *off = sa_conn_open(ci, false);
	PGresult *r;

	(void)state;
	assert_non_null(on);
	assert_non_null(off);
	r = PQexec(off->pg, "SHOW synchronous_commit");
	assert_string_equal(PQgetvalue(r, 0, 0), "off");
	PQclear(r);
	r = PQexec(on->pg, "SHOW synchronous_commit");
	assert_string_equal(PQgetvalue(r, 0, 0), "on");
	PQclear(r);
	sa_conn_close(on);
	sa_conn_close(off);
}

static void
test_tx(void **state)
{
	struct sa_conn *c = sa_conn_open(sa_embedded_conninfo(env.emb), true);
	int64_t id = 0;

	(void)state;
	assert_non_null(c);
	assert_int_equal(sa_migrate(c), SA_OK);
	assert_int_equal(sa_tx_commit(c), SA_ERR); /* none open */
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_tx_begin(c), SA_ERR); /* no nesting */
	assert_int_equal(sa_account_insert(c, "{}", "tx-1", "[]", &id), SA_OK);
	assert_int_equal(sa_tx_commit(c), SA_OK);
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint = 'tx-1'"),
	    1);
	/* A failed statement poisons the transaction: commit reports it. */
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_account_insert(c, "{}", "tx-2", "[]", &id), SA_OK);
	assert_int_equal(
	    sa_account_insert(c, "{}", "tx-1", "[]", &id), SA_CONFLICT);
	assert_int_equal(sa_tx_commit(c), SA_ERR);
	assert_false(sa_in_tx(c));
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint = 'tx-2'"),
	    0);
	sa_tx_rollback(c); /* nothing open: no-op */
	sa_tx_rollback(NULL);

	/* COMMIT with the next statement: both or neither. */
	assert_int_equal(sa_tx_commit_with_next(c), SA_ERR); /* none open */
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_account_insert(c, "{}", "tx-3", "[]", &id), SA_OK);
	assert_int_equal(sa_tx_commit_with_next(c), SA_OK);
	assert_true(sa_in_tx(c));
	assert_int_equal(sa_account_insert(c, "{}", "tx-4", "[]", &id), SA_OK);
	assert_false(sa_in_tx(c)); /* committed */
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint IN ('tx-3', 'tx-4')"),
	    2);
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_account_insert(c, "{}", "tx-5", "[]", &id), SA_OK);
	assert_int_equal(sa_tx_commit_with_next(c), SA_OK);
	assert_int_equal(
	    sa_account_insert(c, "{}", "tx-3", "[]", &id), SA_CONFLICT);
	assert_true(sa_in_tx(c)); /* failed, not committed */
	sa_tx_rollback(c);
	assert_false(sa_in_tx(c));
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint = 'tx-5'"),
	    0);
	/* Rolled back before the next statement: nothing left pending. */
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_account_insert(c, "{}", "tx-6", "[]", &id), SA_OK);
	assert_int_equal(sa_tx_commit_with_next(c), SA_OK);
	sa_tx_rollback(c);
	assert_int_equal(sa_account_insert(c, "{}", "tx-7", "[]", &id), SA_OK);
	assert_false(sa_in_tx(c));
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint IN ('tx-6', 'tx-7')"),
	    1);
	sa_conn_close(c);
}

static void
test_pool_release_rolls_back(void **state)
{
	struct sa_pool *p = sa_pool_new(sa_embedded_conninfo(env.emb), 1, true);
	struct sa_account a = {0};
	struct sa_conn *c;
	int64_t id = 0;

	(void)state;
	assert_non_null(p);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_int_equal(sa_migrate(c), SA_OK);
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_account_insert(c, "{}", "rb-1", "[]", &id), SA_OK);
	sa_pool_release(p, c);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_false(sa_in_tx(c));
	assert_int_equal(sa_account_get(c, id, &a), SA_NOTFOUND);
	sa_pool_release(p, c);
	sa_pool_release(p, NULL);
	sa_pool_free(p);
}

struct waiter {
	struct sa_pool *p;
	volatile int got;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct sa_conn *c = sa_pool_acquire(w->p);

	__atomic_store_n(&w->got, c != NULL ? 1 : -1, __ATOMIC_SEQ_CST);
	sa_pool_release(w->p, c);
	return NULL;
}

static void
test_pool_blocks(void **state)
{
	struct waiter w = {0};
	struct sa_conn *c;
	pthread_t t;

	(void)state;
	w.p = sa_pool_new(sa_embedded_conninfo(env.emb), 1, true);
	assert_non_null(w.p);
	c = sa_pool_acquire(w.p);
	assert_non_null(c);
	assert_int_equal(pthread_create(&t, NULL, waiter_main, &w), 0);
	usleep(150 * 1000);
	assert_int_equal(__atomic_load_n(&w.got, __ATOMIC_SEQ_CST), 0);
	sa_pool_release(w.p, c);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.got, 1);
	sa_pool_free(w.p);
}

static void
test_pool_reconnect(void **state)
{
	const char *ci = sa_embedded_conninfo(env.emb);
	struct sa_pool *p = sa_pool_new(ci, 1, false);
	struct sa_conn *other = sa_conn_open(ci, true);
	struct sa_account a = {0};
	struct sa_conn *c;
	int64_t id = 0;
	int pid;

	(void)state;
	assert_non_null(p);
	assert_non_null(other);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_int_equal(sa_migrate(c), SA_OK);
	/* Prepares sa_account_get on this session. */
	assert_int_equal(sa_account_insert(c, "{}", "rc-1", "[]", &id), SA_OK);
	assert_int_equal(sa_account_get(c, id, &a), SA_OK);
	sa_account_clear(&a);
	pid = PQbackendPID(c->pg);
	sa_pool_release(p, c);

	assert_int_equal(sa_test_kill_backend(other, c), 1);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_int_not_equal(PQbackendPID(c->pg), pid);
	/* A new session: statements are prepared again, settings reapplied. */
	assert_int_equal(sa_account_get(c, id, &a), SA_OK);
	assert_string_equal(a.thumbprint, "rc-1");
	sa_account_clear(&a);
	assert_int_equal(sa_test_sql(c,
	                     "SELECT (current_setting("
	                     "'synchronous_commit') = 'off')::int"),
	    1);
	sa_pool_release(p, c);
	sa_pool_free(p);
	sa_conn_close(other);
}

struct worker {
	struct sa_pool *p;
	int n, ok;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char tp[32];
	int64_t id;

	for (int i = 0; i < 25; i++) {
		struct sa_conn *c = sa_pool_acquire(w->p);

		if (c == NULL)
			continue;
		snprintf(tp, sizeof(tp), "st-%d-%d", w->n, i);
		if (sa_account_insert(c, "{}", tp, "[]", &id) == SA_OK)
			w->ok++;
		sa_pool_release(w->p, c);
	}
	return NULL;
}

/* More threads than connections: everyone gets a turn, no row is lost. */
static void
test_pool_threads(void **state)
{
	struct worker w[4];
	pthread_t t[4];
	struct sa_pool *p = sa_pool_new(sa_embedded_conninfo(env.emb), 2, true);
	struct sa_conn *c;

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){p, i, 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].ok, 25);
	}
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint LIKE 'st-%'"),
	    100);
	sa_pool_release(p, c);
	sa_pool_free(p);
}

/* The pid in STATE/pgdata/postmaster.pid, or -1 without one. */
static long
postmaster_pid(void)
{
	char path[256];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pgdata/postmaster.pid", env.dir);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* kill -9 of the postmaster: a new one is started on the same data and
 * socket, and a pool connection gets back to it by reconnecting. */
static void
test_supervised_restart(void **state)
{
	const char *ci = sa_embedded_conninfo(env.emb);
	struct sa_pool *p = sa_pool_new(ci, 1, true);
	struct sa_conn *c = NULL;
	long pm = postmaster_pid(), now = -1;
	int64_t t0;

	(void)state;
	assert_non_null(p);
	assert_true(pm > 0);
	assert_int_equal(kill((pid_t)pm, SIGKILL), 0);
	t0 = now_ms();
	/* Reaped by the supervisor, not left a zombie. */
	while (kill((pid_t)pm, 0) == 0 && now_ms() - t0 < 5000)
		usleep(20 * 1000);
	assert_int_not_equal(kill((pid_t)pm, 0), 0);
	for (;;) {
		assert_true(now_ms() - t0 < 20000);
		now = postmaster_pid();
		if (now > 0 && now != pm && (c = sa_pool_acquire(p)) != NULL)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint = 'tx-1'"),
	    1);
	sa_pool_release(p, c);
	sa_pool_free(p);
}

/* A postmaster that dies while the cluster is being stopped is not
 * started again, and the stop does not wait for the restart pause. The
 * next start finds its stale postmaster.pid. Replaces env.emb. */
static void
test_no_restart_while_stopping(void **state)
{
	long pm = postmaster_pid();
	int64_t t0;

	(void)state;
	assert_true(pm > 0);
	assert_int_equal(kill((pid_t)pm, SIGKILL), 0);
	usleep(50 * 1000);
	t0 = now_ms();
	sa_embedded_stop(env.emb);
	env.emb = NULL;
	assert_true(now_ms() - t0 < 2000);
	sleep(1); /* longer than the first pause before a restart */
	assert_int_equal(postmaster_pid(), pm); /* stale, not replaced */
	/* A start fails while the killed server's backends still hold its
	 * shared memory (they exit on their own, soon). */
	for (int i = 0; i < 5 && env.emb == NULL; i++)
		if ((env.emb = sa_embedded_start(env.dir, "postgres")) == NULL)
			sleep(1);
	assert_non_null(env.emb);
	assert_int_not_equal(postmaster_pid(), pm);
}

/* A pid that was just used and is now free. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* Restarts on the same directory (no initdb: the data survives) over a
 * stale postmaster.pid left by a "crash". Runs last: it replaces env.emb. */
static void
test_restart_stale_pid(void **state)
{
	struct sa_conn *c;
	char path[256];
	FILE *f;
	struct stat st;

	(void)state;
	sa_embedded_stop(env.emb);
	env.emb = NULL;
	snprintf(path, sizeof(path), "%s/pgdata/postmaster.pid", env.dir);
	assert_int_not_equal(stat(path, &st), 0); /* clean shutdown */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d\n%s/pgdata\n", (int)dead_pid(), env.dir);
	fclose(f);
	env.emb = sa_embedded_start(env.dir, "postgres");
	assert_non_null(env.emb);
	c = sa_conn_open(sa_embedded_conninfo(env.emb), true);
	assert_non_null(c);
	assert_int_equal(sa_test_sql(c,
	                     "SELECT count(*) FROM accounts "
	                     "WHERE thumbprint = 'tx-1'"),
	    1);
	sa_conn_close(c);
}

static void
test_start_fails(void **state)
{
	char path[256];
	FILE *f;

	(void)state;
	/* STATE_DIR is a file. */
	snprintf(path, sizeof(path), "%s/afile", env.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_null(sa_embedded_start(path, "postgres"));
	if (geteuid() == 0)
		assert_null(sa_embedded_start(env.dir, "no-such-user-x"));
}

/* Reads all of file PATH into BUF (size N), NUL-terminated. */
static void
read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got;

	assert_non_null(f);
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
}

/* A state_dir below a directory the server's user cannot enter (as /root,
 * mode 0700 on Debian): the start fails at once, before initdb, and the
 * log names the directory in the way. */
static void
test_start_unreachable(void **state)
{
	char top[64] = "/tmp/cobble-sa-closed-XXXXXX", dir[128], path[192];
	char logpath[192], log[4096];
	struct stat st;
	time_t t0;
	int saved;

	(void)state;
	if (geteuid() != 0)
		skip(); /* the cluster runs as ourselves: nothing to block */
	assert_non_null(mkdtemp(top));
	assert_int_equal(chmod(top, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/sub/state", top);
	snprintf(path, sizeof(path), "%s/sub", top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(logpath, sizeof(logpath), "%s.log", top);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_non_null(freopen(logpath, "w", stderr));
	t0 = time(NULL);
	assert_null(sa_embedded_start(dir, "postgres"));
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_true(time(NULL) - t0 < 5);
	read_file(logpath, log, sizeof(log));
	unlink(logpath);
	snprintf(path, sizeof(path), "cannot enter %s (mode 0700", top);
	assert_non_null(strstr(log, path));
	assert_non_null(strstr(log, "user postgres"));
	snprintf(path, sizeof(path), "%s/pgdata", dir);
	assert_int_not_equal(stat(path, &st), 0);
	nftw(top, sa_test_rm, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_embedded_layout),
	    cmocka_unit_test(test_migrate_twice),
	    cmocka_unit_test(test_conn_open_fails),
	    cmocka_unit_test(test_synchronous_commit),
	    cmocka_unit_test(test_tx),
	    cmocka_unit_test(test_pool_release_rolls_back),
	    cmocka_unit_test(test_pool_blocks),
	    cmocka_unit_test(test_pool_threads),
	    cmocka_unit_test(test_pool_reconnect),
	    cmocka_unit_test(test_start_fails),
	    cmocka_unit_test(test_start_unreachable),
	    cmocka_unit_test(test_supervised_restart),
	    cmocka_unit_test(test_no_restart_while_stopping),
	    cmocka_unit_test(test_restart_stale_pid),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
