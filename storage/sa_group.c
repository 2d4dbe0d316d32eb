/* SPDX-License-Identifier: ISC */
/* Group commit. Each issuance makes four writes that commit on their own
 * (newOrder, the challenge answer, the validation outcome, finalize's
 * certificate record). Run one by
 * one, each pays a durable commit and a backend wake-up, and on a small
 * machine those cost more than the statements. Here, while one request's
 * group is in flight, the writes of other requests queue; when it is
 * done, the first of them leads: it takes every write queued and sends
 * them on its own connection as one transaction, in one round trip (one
 * commit, one WAL flush). A write that finds nothing in flight runs at
 * once, on its own connection, at no cost but a lock. A request returns
 * only once its group has committed, so what it answers is as durable as
 * before.
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
	/* guarded by the group's mu: */
	bool done;                 /* run by a leader; RC is set */
	bool lead;                 /* handed the lead: run the queue */
	struct sa_group_job *next; /* in the queue */
	pthread_cond_t cv;         /* signalled when done or lead is set */
};

struct sa_group {
	pthread_mutex_t mu;
	/* guarded by mu: */
	bool busy; /* a leader is running a group */
	struct sa_group_job *head, *tail;
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

/* Runs JOBS on C as one transaction, or, when a statement fails, each on
 * its own. */
static void
sa_group_run(struct sa_conn *c, struct sa_group_job **jobs, int njobs)
{
	struct sa_batch_item items[SA_RUN_MAX];
	PGresult *outs[SA_RUN_MAX];
	int n = 0, rc;

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

/* After LEADER's own: the queued jobs that fit one group, into JOBS;
 * called with mu held. Returns how many jobs the group has. */
static int
sa_group_take(
    struct sa_group *g, struct sa_group_job *leader, struct sa_group_job **jobs)
{
	int njobs = 1, n = leader->n;

	jobs[0] = leader;
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

/* Ends the group of JOBS: wakes its other members and hands the lead to
 * the first job queued meanwhile; called with mu held. */
static void
sa_group_finish(struct sa_group *g, struct sa_group_job **jobs, int njobs)
{
	struct sa_group_job *next = g->head;

	for (int j = 1; j < njobs; j++) {
		jobs[j]->done = true;
		pthread_cond_signal(&jobs[j]->cv);
	}
	if (next == NULL) {
		g->busy = false;
		return;
	}
	g->head = next->next;
	if (g->head == NULL)
		g->tail = NULL;
	next->lead = true;
	pthread_cond_signal(&next->cv);
}

struct sa_group *
sa_group_new(void)
{
	struct sa_group *g = cb_calloc(1, sizeof(*g));

	pthread_mutex_init(&g->mu, NULL);
	return g;
}

void
sa_group_free(struct sa_group *g)
{
	if (g == NULL)
		return;
	cb_log(LOG_INFO,
	    "sa: group commit ran %" PRIu64 " batches in %" PRIu64 " groups",
	    g->batches, g->groups);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int
sa_group_exec(struct sa_group *g, struct sa_conn *c,
    const struct sa_batch_item *items, int n, PGresult **outs)
{
	struct sa_group_job job = {items, n, outs, SA_ERR, false, false, NULL,
	    PTHREAD_COND_INITIALIZER};
	struct sa_group_job *jobs[SA_GROUP_JOBS];
	int njobs;

	for (int i = 0; i < n; i++)
		outs[i] = NULL;
	pthread_mutex_lock(&g->mu);
	if (g->busy) {
		if (g->tail != NULL)
			g->tail->next = &job;
		else
			g->head = &job;
		g->tail = &job;
		while (!job.done && !job.lead)
			pthread_cond_wait(&job.cv, &g->mu);
		if (job.done) {
			pthread_mutex_unlock(&g->mu);
			pthread_cond_destroy(&job.cv);
			return job.rc;
		}
	}
	g->busy = true;
	njobs = sa_group_take(g, &job, jobs);
	g->groups++;
	g->batches += (uint64_t)njobs;
	pthread_mutex_unlock(&g->mu);
	sa_group_run(c, jobs, njobs);
	pthread_mutex_lock(&g->mu);
	sa_group_finish(g, jobs, njobs);
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
