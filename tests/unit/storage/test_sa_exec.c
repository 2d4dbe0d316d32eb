/* SPDX-License-Identifier: ISC */
/* Unit tests of running statements: batches in one round trip (atomic,
 * errors, preparation, lost connections), the deferred BEGIN, and array
 * literals, against a private embedded cluster. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sa_test.h"

static struct sa_test_env env;

/* Statements of the tests' own table. They borrow ids of real statements
 * (the bit in sa_conn.prepared), so each test runs them on a session of
 * its own that runs nothing else. */
static const struct sa_stmt t_insert = {
    SA_STMT_ACCOUNT_INSERT,
    "t_insert",
    "INSERT INTO t (k) VALUES ($1::text) RETURNING id",
    1,
    false,
};

static const struct sa_stmt t_count = {
    SA_STMT_ACCOUNT_GET,
    "t_count",
    "SELECT count(*) FROM t WHERE k LIKE $1::text",
    1,
    false,
};

static const struct sa_stmt t_bad = {
    SA_STMT_ACCOUNT_ORDERS,
    "t_bad",
    "SELECT 1 / $1::integer",
    1,
    false,
};

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

/* Two statements, prepared and run in one round trip, as one
 * transaction: the second sees the first's row. */
static void
test_batch_one_round_trip(void **state)
{
	struct sa_conn *c = open_conn();
	const char *v1[] = {"b-1"}, *v2[] = {"b-%"};
	const struct sa_batch_item items[] = {
	    {&t_insert, v1, NULL, NULL},
	    {&t_count, v2, NULL, NULL},
	};
	PGresult *r[2];
	struct sa_test_trace tr;

	(void)state;
	sa_test_trace_start(c, &tr);
	assert_int_equal(sa_exec_batch(c, items, 2, r), SA_OK);
	assert_int_equal(sa_test_trace_stop(c, &tr), 1);
	assert_true(sa_col_i64(r[0], 0, 0) > 0);
	assert_int_equal(sa_col_i64(r[1], 0, 0), 1);
	PQclear(r[0]);
	PQclear(r[1]);
	assert_false(sa_in_tx(c));
	assert_int_equal(PQpipelineStatus(c->pg), PQ_PIPELINE_OFF);
	/* Prepared now: a single statement goes the plain way. */
	assert_true((c->prepared & (UINT64_C(1) << t_count.id)) != 0);
	sa_test_trace_start(c, &tr);
	assert_int_equal(sa_exec(c, &t_count, v2, NULL, NULL, &r[0]), SA_OK);
	assert_int_equal(sa_test_trace_stop(c, &tr), 1);
	assert_int_equal(sa_col_i64(r[0], 0, 0), 1);
	PQclear(r[0]);
	sa_conn_close(c);
}

/* A failing statement undoes the batch, skips what follows, and leaves
 * the session usable; a unique violation is a conflict. */
static void
test_batch_failure(void **state)
{
	struct sa_conn *c = open_conn();
	const char *v1[] = {"f-1"}, *v2[] = {"f-2"}, *zero[] = {"0"};
	const struct sa_batch_item dup[] = {
	    {&t_insert, v1, NULL, NULL},
	    {&t_insert, v1, NULL, NULL},
	    {&t_insert, v2, NULL, NULL},
	};
	const struct sa_batch_item bad[] = {
	    {&t_insert, v2, NULL, NULL},
	    {&t_bad, zero, NULL, NULL},
	};
	PGresult *r[SA_BATCH_MAX + 1] = {NULL};

	(void)state;
	assert_int_equal(sa_exec_batch(c, dup, 3, r), SA_CONFLICT);
	assert_null(r[0]);
	assert_null(r[1]);
	assert_null(r[2]);
	assert_false(sa_in_tx(c));
	assert_int_equal(count_keys(c, "f-%"), 0);
	assert_int_equal(sa_exec_batch(c, bad, 2, r), SA_ERR);
	assert_null(r[0]);
	assert_int_equal(count_keys(c, "f-%"), 0);
	/* Still usable, in both modes. */
	assert_int_equal(PQpipelineStatus(c->pg), PQ_PIPELINE_OFF);
	assert_int_equal(sa_exec_batch(c, dup, 1, r), SA_OK);
	PQclear(r[0]);
	assert_int_equal(sa_exec(c, &t_insert, v2, NULL, NULL, &r[0]), SA_OK);
	PQclear(r[0]);
	assert_int_equal(count_keys(c, "f-%"), 2);
	/* Sizes outside 1..SA_BATCH_MAX are refused, sending nothing. */
	assert_int_equal(sa_exec_batch(c, dup, 0, r), SA_ERR);
	assert_int_equal(sa_exec_batch(c, dup, SA_BATCH_MAX + 1, r), SA_ERR);
	assert_int_equal(count_keys(c, "f-%"), 2);
	sa_conn_close(c);
}

/* Inside the caller's transaction a batch joins it: undone by its
 * rollback; a failure fails the transaction. */
static void
test_batch_in_tx(void **state)
{
	struct sa_conn *c = open_conn();
	const char *v1[] = {"x-1"}, *v2[] = {"x-2"}, *zero[] = {"0"};
	const struct sa_batch_item ok[] = {
	    {&t_insert, v1, NULL, NULL},
	    {&t_insert, v2, NULL, NULL},
	};
	const struct sa_batch_item bad[] = {{&t_bad, zero, NULL, NULL}};
	PGresult *r[2];

	(void)state;
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_exec_batch(c, ok, 2, r), SA_OK);
	PQclear(r[0]);
	PQclear(r[1]);
	assert_int_equal(PQtransactionStatus(c->pg), PQTRANS_INTRANS);
	sa_tx_rollback(c);
	assert_false(sa_in_tx(c));
	assert_int_equal(count_keys(c, "x-%"), 0);

	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_exec_batch(c, ok, 1, r), SA_OK);
	PQclear(r[0]);
	assert_int_equal(sa_exec_batch(c, bad, 1, r), SA_ERR);
	assert_true(sa_in_tx(c));
	assert_int_equal(sa_tx_commit(c), SA_ERR);
	assert_false(sa_in_tx(c));
	assert_int_equal(count_keys(c, "x-%"), 0);

	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_exec_batch(c, ok, 2, r), SA_OK);
	PQclear(r[0]);
	PQclear(r[1]);
	assert_int_equal(sa_tx_commit(c), SA_OK);
	assert_int_equal(count_keys(c, "x-%"), 2);
	sa_conn_close(c);
}

/* BEGIN travels with the transaction's first statement. */
static void
test_deferred_begin(void **state)
{
	struct sa_conn *c = open_conn(), *other = open_conn();
	const char *v1[] = {"d-1"}, *v2[] = {"d-2"}, *like[] = {"d-%"};
	struct sa_test_trace tr;
	PGresult *r = NULL;

	(void)state;
	/* Prepared first, so only the BEGIN is new. */
	assert_int_equal(sa_exec(c, &t_count, like, NULL, NULL, &r), SA_OK);
	PQclear(r);
	sa_test_trace_start(c, &tr);
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_true(sa_in_tx(c));
	assert_int_equal(sa_exec(c, &t_insert, v1, NULL, NULL, &r), SA_OK);
	PQclear(r);
	assert_int_equal(sa_test_trace_stop(c, &tr), 1);
	assert_int_equal(PQtransactionStatus(c->pg), PQTRANS_INTRANS);
	/* Not visible to others before the commit. */
	assert_int_equal(count_keys(other, "d-%"), 0);
	assert_int_equal(sa_tx_commit(c), SA_OK);
	assert_int_equal(count_keys(other, "d-%"), 1);

	/* Begun and ended with nothing run: no round trip at all. */
	sa_test_trace_start(c, &tr);
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_tx_commit(c), SA_OK);
	assert_int_equal(sa_tx_begin(c), SA_OK);
	sa_tx_rollback(c);
	assert_int_equal(sa_test_trace_stop(c, &tr), 0);
	assert_false(sa_in_tx(c));

	/* The simple protocol sends BEGIN first. */
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_exec_simple(c, "INSERT INTO t (k) VALUES ('d-3')",
	                     "test insert"),
	    SA_OK);
	assert_int_equal(PQtransactionStatus(c->pg), PQTRANS_INTRANS);
	sa_tx_rollback(c);
	assert_int_equal(count_keys(other, "d-%"), 1);

	/* Beginning twice is refused; a rollback drops the pending BEGIN. */
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_tx_begin(c), SA_ERR);
	sa_tx_rollback(c);
	assert_int_equal(sa_exec(c, &t_insert, v2, NULL, NULL, &r), SA_OK);
	PQclear(r);
	assert_false(sa_in_tx(c));
	assert_int_equal(count_keys(other, "d-%"), 2);
	sa_conn_close(c);
	sa_conn_close(other);
}

/* A batch on a session the server ended fails without hanging, and the
 * pool replaces the session. */
static void
test_batch_lost_connection(void **state)
{
	struct sa_pool *p = sa_pool_new(sa_embedded_conninfo(env.emb), 1, true);
	struct sa_conn *other = open_conn(), *c;
	const char *v1[] = {"l-1"}, *like[] = {"l-%"};
	const struct sa_batch_item items[] = {
	    {&t_insert, v1, NULL, NULL},
	    {&t_count, like, NULL, NULL},
	};
	PGresult *r[2];
	int pid;

	(void)state;
	assert_non_null(p);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	pid = PQbackendPID(c->pg);
	assert_int_equal(sa_test_kill_backend(other, c), 1);
	assert_int_equal(sa_tx_begin(c), SA_OK);
	assert_int_equal(sa_exec_batch(c, items, 2, r), SA_ERR);
	assert_null(r[0]);
	assert_null(r[1]);
	sa_pool_release(p, c);
	c = sa_pool_acquire(p);
	assert_non_null(c);
	assert_int_not_equal(PQbackendPID(c->pg), pid);
	assert_false(sa_in_tx(c));
	assert_int_equal(sa_exec_batch(c, items, 2, r), SA_OK);
	assert_int_equal(sa_col_i64(r[1], 0, 0), 1);
	PQclear(r[0]);
	PQclear(r[1]);
	sa_pool_release(p, c);
	sa_pool_free(p);
	sa_conn_close(other);
}

static void
test_array_literals(void **state)
{
	const int64_t nums[] = {0, -1, INT64_MAX, INT64_MIN};
	const char *strs[] = {"a", "", "q\"uote", "back\\slash", "{x,y}"};
	struct sa_conn *c = open_conn();
	const char *vals[1];
	char *s;
	PGresult *r;

	(void)state;
	s = sa_i64_array(nums, 4);
	assert_string_equal(
	    s, "{0,-1,9223372036854775807,-9223372036854775808}");
	free(s);
	s = sa_i64_array(nums, 0);
	assert_string_equal(s, "{}");
	free(s);
	/* The server reads the text literal back element for element. */
	s = sa_text_array(strs, 5);
	vals[0] = s;
	r = PQexecParams(c->pg,
	    "SELECT $1::text[] = ARRAY['a', '', 'q\"uote', 'back\\slash',"
	    " '{x,y}']",
	    1, NULL, vals, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	free(s);
	sa_conn_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_one_round_trip),
	    cmocka_unit_test(test_batch_failure),
	    cmocka_unit_test(test_batch_in_tx),
	    cmocka_unit_test(test_deferred_begin),
	    cmocka_unit_test(test_batch_lost_connection),
	    cmocka_unit_test(test_array_literals),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
