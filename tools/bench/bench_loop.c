/* SPDX-License-Identifier: ISC */
/* The event loops: one thread per CPU drives many workers (one per
 * --concurrency), each a chain of requests and timers, over one epoll set.
 * A thread per worker, blocked in read(2), cost a context switch per
 * request; the load generator shares the CPU with the server it
 * measures. */
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cb_log.h"
#include "cb_util.h"

/* Events taken per epoll_wait(). */
#define BENCH_LOOP_EVENTS 64
/* Longest sleep of a loop (ms): deadlines, aborts and the end of the run
 * are noticed within this. */
#define BENCH_LOOP_TICK_MS 1000
/* Pause after an issuance failed to reach the server (ms). */
#define BENCH_LOOP_BACKOFF_MS 100
/* Longest pause a refusal's Retry-After imposes (ms). */
#define BENCH_LOOP_MAX_RETRY_AFTER_MS (10L * 60 * 1000)

int
bench_worker_init(struct bench_worker *w, struct bench_run *run, int id)
{
	unsigned char seed[8];

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->run = run;
	w->err = -1;
	w->flow = bench_flow_new();
	bench_http_init(&w->http, run->tls, &run->abort);
	if (cb_random_bytes(seed, sizeof(seed)) != 0)
		return -1;
	memcpy(&w->rng, seed, sizeof(w->rng));
	w->rng |= 1;
	/* Certificate keys differ from the account keys (RFC 8555 7.4
	 * forbids the account key in a CSR) and are reused in turn: making
	 * one per issuance would cost more CPU than the server's work. */
	for (int i = 0; i < BENCH_CERT_KEYS; i++)
		if (bench_cert_key_generate(
		        run->opts->cert_key, &w->cert_keys[i]) != 0)
			return -1;
	return 0;
}

void
bench_worker_clear(struct bench_worker *w)
{
	bench_http_clear(&w->http);
	for (int i = 0; i < BENCH_CERT_KEYS; i++)
		bench_cert_key_clear(&w->cert_keys[i]);
	bench_flow_free(w->flow);
	w->flow = NULL;
}

/* Puts W's new socket into its loop's epoll set: edge-triggered, as the
 * HTTP client reads and writes until EAGAIN before it waits. Closed
 * sockets leave the set by themselves. */
static int
bench_worker_watch(struct bench_worker *w)
{
	struct epoll_event ev = {
	    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = w};

	if (w->http.fd < 0 || w->watched_gen == w->http.gen)
		return 0;
	if (epoll_ctl(w->loop->epfd, EPOLL_CTL_ADD, w->http.fd, &ev) != 0) {
		snprintf(w->http.errbuf, sizeof(w->http.errbuf),
		    "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	w->watched_gen = w->http.gen;
	return 0;
}

/* Where a request of W stands after R. An end reported by
 * bench_http_start() is handled by the loop, not here: the flow would
 * start its next request from inside this one. */
static void
bench_worker_io(struct bench_worker *w, enum bench_http_rc r, bool started)
{
	if (r == BENCH_HTTP_AGAIN && bench_worker_watch(w) == 0)
		return;
	if (r == BENCH_HTTP_AGAIN) { /* not watched: give the request up */
		bench_http_close(&w->http);
		r = BENCH_HTTP_ERR;
	}
	if (started) {
		w->done_pending = true;
		w->done_rc = r;
		return;
	}
	w->wait = BENCH_WAIT_NONE;
	bench_flow_http(w, r);
}

void
bench_worker_request(struct bench_worker *w, const char *method,
    const char *url, const char *body, bool pem)
{
	w->wait = BENCH_WAIT_HTTP;
	bench_worker_io(
	    w, bench_http_start(&w->http, method, url, body, pem), true);
}

void
bench_worker_sleep(struct bench_worker *w, long ms)
{
	w->wait = BENCH_WAIT_TIMER;
	w->wake_us = bench_now_us() + ms * 1000;
}

/* True while W may start another issuance. */
static bool
bench_worker_more(struct bench_worker *w)
{
	struct bench_run *run = w->run;

	if (*run->stop || atomic_load(&run->abort))
		return false;
	if (run->deadline_us > 0)
		return bench_now_us() < run->deadline_us;
	return atomic_fetch_sub(&run->tickets, 1) > 0;
}

/* How long W pauses before its next issuance after one that ended with
 * RC. A refusal that says when to come back (429 rateLimited or 503 with
 * Retry-After; RFC 8555 6.6, RFC 9110 10.2.3) is obeyed, up to the end
 * of a timed run: starting again at once would only be refused again. An
 * unreachable server gets a short backoff. */
static long
bench_next_issue_delay_ms(struct bench_worker *w, int rc)
{
	const struct bench_http *h = &w->http;
	long ms;

	if (rc == 0)
		return 0;
	if ((h->status == 429 || h->status == 503) && h->retry_after >= 0) {
		ms = h->retry_after < BENCH_LOOP_MAX_RETRY_AFTER_MS / 1000
		    ? h->retry_after * 1000
		    : BENCH_LOOP_MAX_RETRY_AFTER_MS;
		if (w->run->deadline_us > 0) {
			int64_t left = w->run->deadline_us - bench_now_us();

			ms = left <= 0 ? 0
			               : (ms < left / 1000 ? ms : left / 1000);
		}
		w->stats.retry_after_waits++;
		return ms;
	}
	return w->err == BENCH_ERR_TRANSPORT ? BENCH_LOOP_BACKOFF_MS : 0;
}

void
bench_worker_done(struct bench_worker *w, int rc)
{
	struct bench_run *run = w->run;

	if (rc == 0 || !atomic_load(&run->abort))
		atomic_store(&run->last_done_us, bench_now_us());
	if (rc == 0)
		atomic_fetch_add(&run->issued, 1);
	else
		atomic_fetch_add(&run->failed, 1);
	/* The next issuance starts from the loop (a timer), never from
	 * inside this one. */
	w->next_issue = true;
	bench_worker_sleep(w, bench_next_issue_delay_ms(w, rc));
}

/* W's timer expired. */
static void
bench_worker_wake(struct bench_worker *w)
{
	w->wait = BENCH_WAIT_NONE;
	if (!w->next_issue) {
		bench_flow_wake(w);
		return;
	}
	w->next_issue = false;
	if (bench_worker_more(w))
		bench_flow_issue(w);
	else
		atomic_fetch_sub(&w->run->running, 1);
}

int
bench_loop_init(struct bench_loop *l, struct bench_run *run)
{
	memset(l, 0, sizeof(*l));
	l->run = run;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		cb_log(LOG_ERR, "bench: epoll_create1: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
bench_loop_clear(struct bench_loop *l)
{
	if (l->epfd > 0)
		close(l->epfd);
	free(l->ws);
	memset(l, 0, sizeof(*l));
}

void
bench_loop_add(struct bench_loop *l, struct bench_worker *w)
{
	l->ws = cb_reallocarray(l->ws, (size_t)l->n + 1, sizeof(*l->ws));
	l->ws[l->n++] = w;
	w->loop = l;
}

/* How long the loop may sleep (ms): until the first timer, at most a
 * tick; 0 when a request ended without waiting. Sets *ACTIVE to whether a
 * worker still has something to do. */
static int
bench_loop_timeout(const struct bench_loop *l, bool *active)
{
	int64_t now = bench_now_us(), first = now + BENCH_LOOP_TICK_MS * 1000;

	*active = false;
	for (int i = 0; i < l->n; i++) {
		const struct bench_worker *w = l->ws[i];

		if (w->done_pending)
			first = now;
		else if (w->wait == BENCH_WAIT_TIMER && w->wake_us < first)
			first = w->wake_us;
		*active |= w->done_pending || w->wait != BENCH_WAIT_NONE;
	}
	return first <= now ? 0 : (int)((first - now + 999) / 1000);
}

/* After the sockets: requests that ended in bench_http_start(), expired
 * timers, and requests whose deadline passed or that were aborted (the
 * HTTP client notices both). */
static void
bench_loop_chores(struct bench_loop *l)
{
	int64_t now = bench_now_us();
	bool aborted = atomic_load(&l->run->abort);

	for (int i = 0; i < l->n; i++) {
		struct bench_worker *w = l->ws[i];

		if (w->done_pending) {
			w->done_pending = false;
			w->wait = BENCH_WAIT_NONE;
			bench_flow_http(w, w->done_rc);
		} else if (w->wait == BENCH_WAIT_TIMER && w->wake_us <= now) {
			bench_worker_wake(w);
		} else if (w->wait == BENCH_WAIT_HTTP &&
		    (aborted || now >= w->http.deadline_us)) {
			bench_worker_io(w, bench_http_step(&w->http), false);
		}
	}
}

/* Runs L until no worker has anything left to do. */
static void
bench_loop_run(struct bench_loop *l)
{
	struct epoll_event evs[BENCH_LOOP_EVENTS];
	bool active;
	int n, timeout;

	while ((timeout = bench_loop_timeout(l, &active)), active) {
		n = epoll_wait(l->epfd, evs, BENCH_LOOP_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			/* cannot happen with a valid set; do not spin */
			cb_log(
			    LOG_ERR, "bench: epoll_wait: %s", strerror(errno));
			abort();
		}
		for (int i = 0; i < n; i++) {
			struct bench_worker *w = evs[i].data.ptr;

			/* events of idle connections are of no interest */
			if (w->wait == BENCH_WAIT_HTTP && !w->done_pending)
				bench_worker_io(
				    w, bench_http_step(&w->http), false);
		}
		bench_loop_chores(l);
	}
}

void
bench_loop_accounts(struct bench_loop *l)
{
	for (int i = 0; i < l->n; i++)
		bench_flow_accounts(l->ws[i]);
	bench_loop_run(l);
}

void
bench_loop_issue(struct bench_loop *l)
{
	for (int i = 0; i < l->n; i++) {
		l->ws[i]->next_issue = true;
		bench_worker_wake(l->ws[i]);
	}
	bench_loop_run(l);
}
