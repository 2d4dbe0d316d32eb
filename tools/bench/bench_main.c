/* SPDX-License-Identifier: ISC */
/* cobble-bench's main: reads the directory, starts the responder and the
 * event loops, one per CPU (their workers register their share of the
 * accounts, then all start together), prints a progress line each second,
 * merges the statistics and prints the report. */
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cb_log.h"

/* Set by SIGINT/SIGTERM: start no more issuances. */
static volatile sig_atomic_t bench_stop;

static void
bench_on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

/* One event loop thread: registers its workers' accounts, waits until
 * every thread is done with that and the clock has started, then runs
 * issuances. */
static void *
bench_loop_main(void *arg)
{
	struct bench_loop *l = arg;
	struct bench_run *run = l->run;

	bench_loop_accounts(l);
	pthread_barrier_wait(&run->ready);
	pthread_barrier_wait(&run->go);
	if (atomic_load(&run->setup_failed))
		atomic_fetch_sub(&run->running, l->n);
	else
		bench_loop_issue(l);
	return NULL;
}

/* One progress line on stderr; ISSUED and FAILED are the totals so far,
 * LAST the total issued one line earlier. */
static void
bench_progress(struct bench_run *run, int64_t start, unsigned long *last)
{
	unsigned long issued = atomic_load(&run->issued);
	unsigned long failed = atomic_load(&run->failed);
	double el = (double)(bench_now_us() - start) / 1e6;

	fprintf(stderr,
	    "[%6.1fs] issued %lu (%lu/s now, %.1f/s overall), failed %lu, "
	    "running %d\n",
	    el, issued, issued - *last, el > 0 ? (double)issued / el : 0.0,
	    failed, atomic_load(&run->running));
	*last = issued;
}

/* True when no issuance ended for --stall-timeout seconds: the server
 * hangs. Then in-flight transfers are aborted and the run ends. */
static bool
bench_stalled(struct bench_run *run, int64_t start)
{
	int64_t last = atomic_load(&run->last_done_us);
	int64_t limit = run->opts->stall_timeout * 1000000LL;

	if (limit == 0 || atomic_load(&run->abort))
		return false;
	if (bench_now_us() - (last > start ? last : start) < limit)
		return false;
	cb_log(LOG_WARNING,
	    "bench: no issuance ended for %d s: the server stalls; "
	    "stopping the run",
	    run->opts->stall_timeout);
	atomic_store(&run->abort, true);
	return true;
}

/* Waits for the workers, printing progress each second unless quiet.
 * Returns true when the run stalled. */
static bool
bench_watch(struct bench_run *run, int64_t start)
{
	int64_t next = start + 1000000;
	unsigned long last = 0;
	bool stalled = false;

	while (atomic_load(&run->running) > 0) {
		struct timespec ts = {0, 20000000};

		nanosleep(&ts, NULL);
		if (!stalled)
			stalled = bench_stalled(run, start);
		if (bench_now_us() >= next) {
			if (!run->opts->quiet)
				bench_progress(run, start, &last);
			next += 1000000;
		}
	}
	return stalled;
}

static int
bench_print_report(const struct bench_opts *o, struct bench_run *run,
    const struct bench_stats *total, double elapsed)
{
	struct bench_summary sum = {
	    .opts = o, .elapsed = elapsed, .stalled = atomic_load(&run->abort)};
	json_t *j;

	if (run->responder != NULL)
		bench_responder_counts(
		    run->responder, &sum.resp_found, &sum.resp_missing);
	if (!o->json) {
		bench_report_text(stdout, &sum, total);
		return 0;
	}
	if ((j = bench_report_json(&sum, total)) == NULL ||
	    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
		json_decref(j);
		cb_log(LOG_ERR, "bench: cannot write the JSON report");
		return -1;
	}
	fputc('\n', stdout);
	json_decref(j);
	return 0;
}

/* Starts the loops, runs the load, merges the workers' statistics into
 * TOTAL. Returns 0 or -1 (setup failed). */
static int
bench_load(struct bench_run *run, struct bench_loop *ls, int nloops,
    struct bench_worker *ws, struct bench_stats *total, double *elapsed)
{
	const struct bench_opts *o = run->opts;
	int64_t start;

	atomic_store(&run->running, o->concurrency);
	for (int i = 0; i < nloops; i++) {
		if (pthread_create(
		        &ls[i].thread, NULL, bench_loop_main, &ls[i]) != 0) {
			/* Nobody can pass the barrier now: give up. */
			cb_log(LOG_ERR, "bench: cannot start a thread");
			abort();
		}
	}
	/* Setup (accounts) is done at READY; the clock starts, and the
	 * loops read the deadline only after GO. */
	pthread_barrier_wait(&run->ready);
	start = bench_now_us();
	if (o->duration > 0)
		run->deadline_us = start + (int64_t)(o->duration * 1e6);
	pthread_barrier_wait(&run->go);
	if (bench_watch(run, start)) {
		int64_t last = atomic_load(&run->last_done_us);

		*elapsed = (double)(last > start ? last - start : 0) / 1e6;
	} else {
		*elapsed = (double)(bench_now_us() - start) / 1e6;
	}
	for (int i = 0; i < nloops; i++)
		pthread_join(ls[i].thread, NULL);
	for (int i = 0; i < o->concurrency; i++)
		bench_stats_merge(total, &ws[i].stats);
	return atomic_load(&run->setup_failed) ? -1 : 0;
}

/* Prepares the workers (keys, connections) and the loops, one per CPU,
 * that drive them in turn. */
static int
bench_workers_init(struct bench_run *run, struct bench_worker *ws,
    struct bench_loop *ls, int nloops)
{
	for (int i = 0; i < nloops; i++)
		if (bench_loop_init(&ls[i], run) != 0)
			return -1;
	for (int i = 0; i < run->opts->concurrency; i++) {
		if (bench_worker_init(&ws[i], run, i) != 0) {
			cb_log(LOG_ERR, "bench: cannot prepare worker %d", i);
			return -1;
		}
		bench_loop_add(&ls[i % nloops], &ws[i]);
	}
	return 0;
}

/* How many event loops: one per CPU, at most one per worker. */
static int
bench_nloops(const struct bench_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		cpus = 1;
	return cpus < o->concurrency ? (int)cpus : o->concurrency;
}

/* Everything after option parsing; returns the exit status. */
static int
bench_main(const struct bench_opts *o)
{
	struct bench_run run = {.opts = o, .stop = &bench_stop};
	int nloops = bench_nloops(o);
	struct bench_worker *ws =
	    cb_calloc((size_t)o->concurrency, sizeof(*ws));
	struct bench_loop *ls = cb_calloc((size_t)nloops, sizeof(*ls));
	struct bench_stats *total = cb_calloc(1, sizeof(*total));
	struct bench_http h;
	double elapsed = 0;
	bool barriers = false;
	int rc = 1;

	run.accounts = cb_calloc((size_t)o->accounts, sizeof(*run.accounts));
	atomic_init(&run.tickets, o->certificates);
	if ((run.tls = bench_tls_ctx_new(o->ca_bundle)) == NULL)
		goto out;
	bench_http_init(&h, run.tls, NULL);
	if (bench_dir_fetch(&h, o->directory, &run.dir) != 0) {
		bench_http_clear(&h);
		goto out;
	}
	bench_http_clear(&h);
	if (!o->always_valid &&
	    (run.responder =
	            bench_responder_start(o->responder_host, o->responder_port,
	                strcmp(o->challenge, "tls-alpn-01") == 0
	                    ? BENCH_RESP_TLSALPN01
	                    : BENCH_RESP_HTTP01)) == NULL)
		goto out;
	if (bench_workers_init(&run, ws, ls, nloops) != 0)
		goto out;
	if (pthread_barrier_init(&run.ready, NULL, (unsigned)nloops + 1) != 0 ||
	    pthread_barrier_init(&run.go, NULL, (unsigned)nloops + 1) != 0)
		goto out;
	barriers = true;
	if (bench_load(&run, ls, nloops, ws, total, &elapsed) != 0) {
		cb_log(LOG_ERR, "bench: account registration failed");
		goto out;
	}
	if (bench_print_report(o, &run, total, elapsed) != 0)
		goto out;
	rc = 0;
out:
	if (barriers) {
		pthread_barrier_destroy(&run.ready);
		pthread_barrier_destroy(&run.go);
	}
	for (int i = 0; i < o->concurrency; i++)
		bench_worker_clear(&ws[i]);
	for (int i = 0; i < nloops; i++)
		bench_loop_clear(&ls[i]);
	for (int i = 0; i < o->accounts; i++)
		bench_account_clear(&run.accounts[i]);
	bench_responder_stop(run.responder);
	bench_dir_clear(&run.dir);
	SSL_CTX_free(run.tls);
	free(run.accounts);
	free(total);
	free(ls);
	free(ws);
	return rc;
}

int
main(int argc, char **argv)
{
	struct bench_opts opts;
	struct sigaction sa = {0};
	int rc;

	cb_log_set_level(LOG_WARNING);
	if ((rc = bench_opts_parse(argc, argv, &opts)) != 0)
		return rc > 0 ? 0 : 2;
	sa.sa_handler = bench_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return bench_main(&opts);
}
