/* SPDX-License-Identifier: ISC */
/* Shared by the storage unit tests: a private embedded cluster in a fresh
 * temporary directory, removed again at the end. */
#ifndef SA_TEST_H
#define SA_TEST_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sa.h"
#include "sa_int.h"

struct sa_test_env {
	char dir[64];
	struct sa_embedded *emb;
};

static inline int
sa_test_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Starts a cluster as "postgres" (when root) in a new temporary dir. */
static inline int
sa_test_env_start(struct sa_test_env *env)
{
	snprintf(env->dir, sizeof(env->dir), "/tmp/cobble-sa-XXXXXX");
	if (mkdtemp(env->dir) == NULL)
		return -1;
	env->emb = sa_embedded_start(env->dir, "postgres");
	return env->emb != NULL ? 0 : -1;
}

/* Stops the cluster and removes its directory. */
static inline void
sa_test_env_stop(struct sa_test_env *env)
{
	sa_embedded_stop(env->emb);
	env->emb = NULL;
	if (env->dir[0] != '\0')
		nftw(env->dir, sa_test_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs SQL on C outside the sa_ API (checks and fault injection only);
 * the first value of the first row as a number, or -1. */
static inline long long
sa_test_sql(struct sa_conn *c, const char *sql)
{
	PGresult *r = PQexec(c->pg, sql);
	long long v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (PQresultStatus(r) == PGRES_COMMAND_OK)
		v = 0;
	else
		fprintf(stderr, "test sql: %s", PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

/* sa_test_env_start(), then SQL (a schema of the test's own) on a
 * connection of its own. */
static inline int
sa_test_env_start_sql(struct sa_test_env *env, const char *sql)
{
	struct sa_conn *c;
	long long rc;

	if (sa_test_env_start(env) != 0)
		return -1;
	c = sa_conn_open(sa_embedded_conninfo(env->emb), true);
	if (c == NULL)
		return -1;
	rc = sa_test_sql(c, sql);
	sa_conn_close(c);
	return rc == 0 ? 0 : -1;
}

/* Terminates the backend of C from OTHER and waits until it is gone. */
static inline long long
sa_test_kill_backend(struct sa_conn *other, struct sa_conn *c)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 5000)::int",
	    PQbackendPID(c->pg));
	return sa_test_sql(other, sql);
}

/* Round trips of one session: libpq's protocol trace of C goes to a
 * temporary file between start and stop. */
struct sa_test_trace {
	FILE *f;
};

static inline void
sa_test_trace_start(struct sa_conn *c, struct sa_test_trace *t)
{
	t->f = tmpfile();
	if (t->f == NULL)
		return;
	PQtrace(c->pg, t->f);
	PQsetTraceFlags(c->pg, PQTRACE_SUPPRESS_TIMESTAMPS);
}

/* Stops the trace; the round trips made since the start: each Sync (end
 * of an extended-protocol exchange) and each Query (simple protocol)
 * the client sent waits for the server's answer once. */
static inline int
sa_test_trace_stop(struct sa_conn *c, struct sa_test_trace *t)
{
	char line[4096];
	int n = 0;

	PQuntrace(c->pg);
	if (t->f == NULL)
		return -1;
	rewind(t->f);
	while (fgets(line, sizeof(line), t->f) != NULL) {
		if (strncmp(line, "F\t", 2) != 0)
			continue;
		if (strstr(line, "\tSync") != NULL ||
		    strstr(line, "\tQuery\t") != NULL)
			n++;
	}
	fclose(t->f);
	t->f = NULL;
	return n;
}

#endif
