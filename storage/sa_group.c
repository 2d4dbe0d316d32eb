/* SPDX-License-Identifier: ISC */
/* Group commit. Each issuance makes three writes that commit on their own
 * (newOrder, the challenge answer, the validation outcome). Run one by
 * one on the requests' own connections, each pays a durable commit and
 * wakes a sleeping backend, and on a small machine those wake-ups cost
 * more than the statements. Here one thread with one connection takes
 * every such write queued while its previous group was in flight and
 * sends them as one transaction, in one round trip: one commit, one WAL
 * flush, one backend kept busy. A request returns only once its group
 * has committed, so what it answers is as durable as before.
 *
 * A statement error aborts the whole group; nothing of it committed, so
 * its batches run again one by one, each as its own transaction, and
 * each request gets the result it would have had alone. A lost
 * connection is not retried: a commit in flight may have happened. */
#include "sa_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cb_log.h"

/* The most batches one group holds (at most SA_RUN_MAX statements). */
#define SA_GROUP_JOBS (SA_RUN_MAX / SA_BATCH_MAX)

/* One request's batch, on its stack while it waits. */
struct sa_group_job {
	const struct sa_batch_item *items;
	int n;
	PGresult **outs;
	int rc;
	bool done;                 /* guarded by the group's mu */
	pthread_cond_t cv;         /* signalled when done */
	struct sa_group_job *next; /* guarded by the group's mu */
};

struct sa_group {
	struct sa_conn *conn; /* owned; used by the thread only */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work; /* signalled when a job is queued or on stop */
	/* guards: head, tail, stop, the counts, and each queued job's done
	 * and next */
	struct sa_group_job *head, *tail;
	bool stop;
	uint64_t groups, batches;
};

/* Runs each job as its own transaction. */
static void
sa_group_run_each(struct sa_conn *c, struct sa_group_job **jobs, int njobs)
{
	for (int j = 0; j < njobs; j++)
		jobs[j]->rc =
		    sa_batch_run(c, jobs[j]->items, jobs[j]->n, jobs[j]->outs);
}

/* Runs JOBS as one transaction, or, when a statement fails, each on its
 * own. */
static void
sa_group_run(struct sa_conn *c, struct sa_group_job **jobs, int njobs)
{
	struct sa_batch_item items[SA_RUN_MAX];
	PGresult *outs[SA_RUN_MAX];
	int n = 0, rc;

	if (!sa_conn_alive(c) && sa_conn_reset(c) != SA_OK) {
		for (int j = 0; j < njobs; j++)
			jobs[j]->rc = SA_ERR;
		return;
	}
	if (njobs == 1) {
		sa_group_run_each(c, jobs, 1);
		return;
	}
	for (int j = 0; j < njobs; j++) {
		memcpy(&items[n], jobs[j]->items,
		    (size_t)jobs[j]->n * sizeof(items[0]));
		n += jobs[j]->n;
	}
	/* BEGIN before the first statement, COMMIT after the last: one
	 * round trip (sa_batch_send). */
	c->begin_pending = true;
	c->commit_pending = true;
	c->errors_rerun = true;
	rc = sa_batch_run(c, items, n, outs);
	c->begin_pending = false;
	c->commit_pending = false;
	c->errors_rerun = false;
	if (rc == SA_OK) {
		n = 0;
		for (int j = 0; j < njobs; j++) {
			memcpy(jobs[j]->outs, &outs[n],
			    (size_t)jobs[j]->n * sizeof(outs[0]));
			n += jobs[j]->n;
			jobs[j]->rc = SA_OK;
		}
		return;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		for (int j = 0; j < njobs; j++)
			jobs[j]->rc = SA_ERR;
		return;
	}
	if (sa_in_tx(c))
		sa_tx_rollback(c);
	cb_log(LOG_DEBUG, "sa: a group of %d failed, running it one by one",
	    njobs);
	sa_group_run_each(c, jobs, njobs);
}

/* Takes the queued jobs that fit one group; called with mu held. */
static int
sa_group_take(struct sa_group *g, struct sa_group_job **jobs)
{
	int njobs = 0, n = 0;

	while (g->head != NULL && njobs < SA_GROUP_JOBS &&
	    n + g->head->n <= SA_RUN_MAX) {
		n += g->head->n;
		jobs[njobs++] = g->head;
		g->head = g->head->next;
	}
	if (g->head == NULL)
		g->tail = NULL;
	return njobs;
}

static void *
sa_group_main(void *arg)
{
	struct sa_group *g = arg;
	struct sa_group_job *jobs[SA_GROUP_JOBS];
	int njobs;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (g->head == NULL && !g->stop)
			pthread_cond_wait(&g->work, &g->mu);
		if (g->head == NULL)
			break; /* stopping, and nothing left to run */
		njobs = sa_group_take(g, jobs);
		g->groups++;
		g->batches += (uint64_t)njobs;
		pthread_mutex_unlock(&g->mu);
		sa_group_run(g->conn, jobs, njobs);
		pthread_mutex_lock(&g->mu);
		for (int j = 0; j < njobs; j++) {
			jobs[j]->done = true;
			pthread_cond_signal(&jobs[j]->cv);
		}
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct sa_group *
sa_group_new(const char *conninfo, bool synchronous_commit)
{
	struct sa_group *g = cb_calloc(1, sizeof(*g));

	g->conn = sa_conn_open(conninfo, synchronous_commit);
	if (g->conn == NULL) {
		free(g);
		return NULL;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->work, NULL);
	if (pthread_create(&g->thread, NULL, sa_group_main, g) != 0) {
		cb_log(LOG_ERR, "sa: cannot start the group commit thread");
		pthread_cond_destroy(&g->work);
		pthread_mutex_destroy(&g->mu);
		sa_conn_close(g->conn);
		free(g);
		return NULL;
	}
	return g;
}

void
sa_group_free(struct sa_group *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	cb_log(LOG_INFO,
	    "sa: group commit ran %" PRIu64 " batches in %" PRIu64 " groups",
	    g->batches, g->groups);
	pthread_cond_destroy(&g->work);
	pthread_mutex_destroy(&g->mu);
	sa_conn_close(g->conn);
	free(g);
}

int
sa_group_exec(struct sa_group *g, const struct sa_batch_item *items, int n,
    PGresult **outs)
{
	struct sa_group_job job = {
	    items, n, outs, SA_ERR, false, PTHREAD_COND_INITIALIZER, NULL};

	for (int i = 0; i < n; i++)
		outs[i] = NULL;
	pthread_mutex_lock(&g->mu);
	if (g->stop) {
		pthread_mutex_unlock(&g->mu);
		cb_log(LOG_ERR, "sa: write after the group commit stopped");
		return SA_ERR;
	}
	if (g->tail != NULL)
		g->tail->next = &job;
	else
		g->head = &job;
	g->tail = &job;
	pthread_cond_signal(&g->work);
	while (!job.done)
		pthread_cond_wait(&job.cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	pthread_cond_destroy(&job.cv);
	return job.rc;
}

void
sa_group_counts(struct sa_group *g, uint64_t *groups, uint64_t *batches)
{
	pthread_mutex_lock(&g->mu);
	*groups = g->groups;
	*batches = g->batches;
	pthread_mutex_unlock(&g->mu);
}
