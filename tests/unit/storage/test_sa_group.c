/* SPDX-License-Identifier: ISC */
/* Unit tests of group commit (storage/sa_group.c): writes queued while a
 * group is in flight share the next commit, a failing write does not
 * fail the others, a transaction's writes stay in it, and a lost leader
 * connection fails its group only. Against a private embedded cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>

#include "sa_test.h"

static struct sa_test_env env;

/* The tests' own grouped write; it borrows the id of a real statement
 * (the bit in sa_conn.prepared) that nothing else here runs. */
static const struct sa_stmt t_ginsert = {
    SA_STMT_ORDER_INSERT,
    "t_ginsert",
    "INSERT INTO t (k) VALUES ($1::text) RETURNING id",
    1,
    true,
};

#define WRITERS 8

struct writer {
	pthread_t thread;
	struct sa_pool *pool;
	char key[32];
	int rc;
	int64_t id;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	const char *vals[] = {w->key};
	struct sa_conn *c = sa_pool_acquire(w->pool);
	PGresult *r = NULL;

	w->rc = -100;
	if (c == NULL)
		return NULL;
	w->rc = sa_exec(c, &t_ginsert, vals, NULL, NULL, &r);
	if (w->rc == SA_OK)
		w->id = sa_col_i64(r, 0, 0);
	PQclear(r);
	sa_pool_release(w->pool, c);
	return NULL;
}

static void
writer_start(struct writer *w, struct sa_pool *p, const char *key)
{
	w->pool = p;
	snprintf(w->key, sizeof(w->key), "%s", key);
	assert_int_equal(pthread_create(&w->thread, NULL, writer_main, w), 0);
}

static int
group_setup(void **state)
{
	(void)state;
	return sa_test_env_start_sql(
	    &env, "CREATE TABLE t (id bigserial PRIMARY KEY, k text UNIQUE)");
}

static int
group_teardown(void **state)
{
	(void)state;
	sa_test_env_stop(&env);
	return 0;
}

static struct sa_pool *
group_pool(void)
{
	const char *ci = sa_embedded_conninfo(env.emb);
	struct sa_pool *p = sa_pool_new(ci, WRITERS, true);

	assert_non_null(p);
	sa_pool_group_commit(p);
	return p;
}

static struct sa_conn *
open_conn(void)
{
	struct sa_conn *c = sa_conn_open(sa_embedded_conninfo(env.emb), true);

	assert_non_null(c);
	return c;
}

static long long
count_keys(struct sa_conn *c, const char *like)
{
	char sql[128];

	snprintf(
	    sql, sizeof(sql), "SELECT count(*) FROM t WHERE k LIKE '%s'", like);
	return sa_test_sql(c, sql);
}

/* Holds the table locked from LOCKER, so that the group in flight
 * waits (wait_for_lock_waiter()) while more writes queue. */
static void
lock_table(struct sa_conn *locker)
{
	assert_int_equal(sa_test_sql(locker, "BEGIN"), 0);
	assert_int_equal(
	    sa_test_sql(locker, "LOCK TABLE t IN EXCLUSIVE MODE"), 0);
}

/* The group of P (lent). */
static struct sa_group *
pool_group(struct sa_pool *p)
{
	struct sa_conn *c = sa_pool_acquire(p);
	struct sa_group *g;

	assert_non_null(c);
	g = c->group;
	assert_non_null(g);
	sa_pool_release(p, c);
	return g;
}

static void
wait_for_lock_waiter(struct sa_conn *watch)
{
	for (int i = 0; i < 500; i++) {
		if (sa_test_sql(watch,
		        "SELECT count(*) FROM pg_stat_activity"
		        " WHERE wait_event_type = 'Lock'") == 1)
			return;
		usleep(10 * 1000);
	}
	fail_msg("the first write never waited for the lock");
}

/* Runs WRITERS writes of keys PREFIX-0..: the first leads a group that
 * waits on a table lock while the others queue behind it; then the lock
 * goes and all of them end. Key DUP (if >= 0) is PREFIX-dup instead. */
static void
write_behind_lock(
    struct sa_pool *p, struct writer *w, const char *prefix, int dup)
{
	struct sa_conn *locker = open_conn(), *watch = open_conn();
	char key[16], like[16];
	long long before;

	snprintf(like, sizeof(like), "%s-%%", prefix);
	before = count_keys(watch, like);
	memset(w, 0, WRITERS * sizeof(*w));
	lock_table(locker);
	snprintf(key, sizeof(key), "%s-0", prefix);
	writer_start(&w[0], p, key);
	wait_for_lock_waiter(watch);
	for (int i = 1; i < WRITERS; i++) {
		if (i == dup)
			snprintf(key, sizeof(key), "%s-dup", prefix);
		else
			snprintf(key, sizeof(key), "%s-%d", prefix, i);
		writer_start(&w[i], p, key);
	}
	usleep(300 * 1000); /* let them all queue */
	assert_int_equal(count_keys(watch, like), before);
	assert_int_equal(sa_test_sql(locker, "COMMIT"), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i].thread, NULL);
	sa_conn_close(locker);
	sa_conn_close(watch);
}

/* The writes of write_behind_lock() ran in two groups: the first alone,
 * the others together. */
static void
assert_two_groups(struct sa_pool *p)
{
	uint64_t groups, batches;

	sa_group_counts(pool_group(p), &groups, &batches);
	assert_int_equal(batches, WRITERS);
	assert_int_equal(groups, 2);
}

/* While one write waits in its group, the others queue; all of them go
 * in the next group, in one transaction, and each gets its own row. */
static void
test_queued_writes_share_a_commit(void **state)
{
	struct sa_pool *p = group_pool();
	struct sa_conn *watch = open_conn();
	struct writer w[WRITERS];

	(void)state;
	write_behind_lock(p, w, "s", -1);
	for (int i = 0; i < WRITERS; i++) {
		assert_int_equal(w[i].rc, SA_OK);
		assert_true(w[i].id > 0);
		for (int j = 0; j < i; j++)
			assert_true(w[i].id != w[j].id);
	}
	assert_int_equal(count_keys(watch, "s-%"), WRITERS);
	assert_two_groups(p);
	sa_conn_close(watch);
	sa_pool_free(p);
}

/* A write that fails (a duplicate key) aborts its group; the others in
 * it are run again on their own and succeed, and it alone fails, with
 * the error it would have had alone. */
static void
test_failed_write_fails_alone(void **state)
{
	struct sa_pool *p = group_pool();
	struct sa_conn *watch = open_conn();
	struct writer w[WRITERS];

	(void)state;
	assert_int_equal(
	    sa_test_sql(watch, "INSERT INTO t (k) VALUES ('f-dup')"), 0);
	write_behind_lock(p, w, "f", 3);
	for (int i = 0; i < WRITERS; i++)
		assert_int_equal(w[i].rc, i == 3 ? SA_CONFLICT : SA_OK);
	/* The duplicate's row was there before; the others were added. */
	assert_int_equal(count_keys(watch, "f-%"), WRITERS);
	assert_two_groups(p);
	sa_conn_close(watch);
	sa_pool_free(p);
}

/* Inside a transaction a grouped write joins the caller's transaction,
 * not a group: rolled back with it. */
static void
test_write_in_tx_stays_in_it(void **state)
{
	struct sa_pool *p = group_pool();
	struct sa_conn *c = sa_pool_acquire(p), *watch = open_conn();
	const char *vals[] = {"x-1"};
	uint64_t groups, batches;
	PGresult *r = NULL;

	(void)state;
	assert_non_null(c);
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_exec(c, &t_ginsert, vals, NULL, NULL, &r), SA_OK);
	PQclear(r);
	assert_true(sa_in_tx(c));
	sa_tx_rollback(c);
	assert_int_equal(count_keys(watch, "x-%"), 0);
	sa_group_counts(pool_group(p), &groups, &batches);
	assert_int_equal(batches, 0);
	/* Outside a transaction it goes to the group and commits. */
	assert_int_equal(sa_exec(c, &t_ginsert, vals, NULL, NULL, &r), SA_OK);
	PQclear(r);
	assert_int_equal(count_keys(watch, "x-%"), 1);
	sa_group_counts(pool_group(p), &groups, &batches);
	assert_int_equal(batches, 1);
	sa_pool_release(p, c);
	sa_conn_close(watch);
	sa_pool_free(p);
}

/* The session of the connection that leads a group is ended by the
 * server: the write fails (not retried: a commit may have happened), and
 * once the pool has reconnected it the next write commits. */
static void
test_lost_leader_connection(void **state)
{
	struct sa_pool *p = group_pool();
	struct sa_conn *c = sa_pool_acquire(p), *killer = open_conn();
	const char *v1[] = {"l-1"}, *v2[] = {"l-2"};
	PGresult *r = NULL;

	(void)state;
	assert_non_null(c);
	assert_int_equal(sa_test_kill_backend(killer, c), 1);
	assert_int_equal(sa_exec(c, &t_ginsert, v1, NULL, NULL, &r), SA_ERR);
	PQclear(r);
	sa_pool_release(p, c);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_int_equal(sa_exec(c, &t_ginsert, v2, NULL, NULL, &r), SA_OK);
	PQclear(r);
	assert_int_equal(count_keys(killer, "l-%"), 1);
	assert_int_equal(count_keys(killer, "l-2"), 1);
	sa_pool_release(p, c);
	sa_conn_close(killer);
	sa_pool_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queued_writes_share_a_commit),
	    cmocka_unit_test(test_failed_write_fails_alone),
	    cmocka_unit_test(test_write_in_tx_stays_in_it),
	    cmocka_unit_test(test_lost_leader_connection),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
