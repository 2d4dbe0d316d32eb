/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_acme.c and bench_loop.c: whole runs of
 * the ACME flow on event loops against a scripted ACME server on loopback
 * (plain HTTP, signatures not checked): the plain flow and its request
 * count, badNonce retries, orderNotReady then finalize again, an order
 * processing then polled, a reused valid authorization, an invalid
 * authorization counted by problem type, dropped connections, an aborted
 * run, a failed registration, and accounts shared by several workers on
 * two loops. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* What the scripted server does differently. */
struct acme_script {
	int bad_nonces;       /* answer this many POSTs badNonce first */
	int bad_order_nonces; /* the same, for newOrder only */
	bool drop_orders;     /* close the connection at newOrder */
	bool hang_orders;     /* never answer newOrder */
	bool not_ready_once;  /* the first finalize: orderNotReady */
	bool processing;      /* finalize answers processing; polls: valid */
	bool authz_valid;     /* authorizations are valid already */
	bool authz_invalid;   /* validation fails (connection problem) */
	int pending_polls;    /* authz polls answered pending first */
	int rate_limited;     /* newOrders refused 429, Retry-After: 1 */
};

#define ACME_MAX_ORDERS 1024

struct acme_srv {
	int lfd, port;
	char base[64];
	pthread_t th;
	atomic_int stop;
	pthread_mutex_t lock; /* guards: everything below */
	struct acme_script sc;
	int posts, heads, nonce_seq, orders, finalizes, accounts, conns;
	int dns_answers; /* POSTs to a dns-01 challenge */
	int active;      /* connection threads running */
	bool challenged[ACME_MAX_ORDERS];
};

struct acme_conn {
	struct acme_srv *s;
	int fd;
};

static void
say(int fd, int status, const char *extra, const char *ctype, const char *body)
{
	char *r = cb_asprintf("HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
	                      "Content-Type: %s\r\n%s\r\n%s",
	    status, strlen(body), ctype, extra, body);

	(void)send(fd, r, strlen(r), MSG_NOSIGNAL);
	free(r);
}

/* An order object for order ID in status ST. */
static char *
acme_order(const struct acme_srv *s, int id, const char *st)
{
	return cb_asprintf("{\"status\":\"%s\",\"finalize\":\"%s/fin/%d\","
	                   "\"certificate\":\"%s/cert/%d\","
	                   "\"authorizations\":[\"%s/az/%d\"]}",
	    st, s->base, id, s->base, id, s->base, id);
}

/* An authorization of order ID: a dns-01 challenge first (skipped by the
 * client), then http-01, with an error when invalid. */
static char *
acme_authz(const struct acme_srv *s, int id)
{
	const char *st = "pending";
	bool poll = s->challenged[id];

	if (s->sc.authz_valid)
		st = "valid";
	else if (poll && s->sc.pending_polls == 0)
		st = s->sc.authz_invalid ? "invalid" : "valid";
	return cb_asprintf(
	    "{\"status\":\"%s\",\"challenges\":[{\"type\":\"dns-01\","
	    "\"url\":\"%s/dns/%d\",\"token\":\"d%d\"},{\"type\":\"http-01\","
	    "\"url\":\"%s/ch/%d\",\"token\":\"tok%d\"%s}]}",
	    st, s->base, id, id, s->base, id, id,
	    strcmp(st, "invalid") == 0
	        ? ",\"error\":{\"type\":\"urn:ietf:params:acme:error:"
	          "connection\"}"
	        : "");
}

/* Answers one POST (S locked). Returns false to close the connection. */
static bool
acme_post(struct acme_srv *s, int fd, const char *path, const char *nonce)
{
	char *body = NULL, *hdr = NULL;
	int id = 0;

	if (strcmp(path, "/acct") == 0) {
		hdr = cb_asprintf("%sLocation: %s/acct/%d\r\n", nonce, s->base,
		    ++s->accounts);
		say(fd, 201, hdr, "application/json", "{}");
	} else if (strcmp(path, "/order") == 0) {
		if (s->sc.drop_orders)
			return false;
		if (s->sc.hang_orders)
			return true; /* the client waits for nothing */
		if (s->sc.rate_limited > 0) {
			s->sc.rate_limited--;
			hdr = cb_asprintf("%sRetry-After: 1\r\n", nonce);
			say(fd, 429, hdr, "application/problem+json",
			    "{\"type\":\"urn:ietf:params:acme:error:"
			    "rateLimited\"}");
			free(hdr);
			return true;
		}
		id = ++s->orders % ACME_MAX_ORDERS;
		hdr =
		    cb_asprintf("%sLocation: %s/o/%d\r\n", nonce, s->base, id);
		body = acme_order(s, id, "pending");
		say(fd, 201, hdr, "application/json", body);
	} else if (sscanf(path, "/az/%d", &id) == 1) {
		body = acme_authz(s, id % ACME_MAX_ORDERS);
		if (s->challenged[id % ACME_MAX_ORDERS] &&
		    s->sc.pending_polls > 0)
			s->sc.pending_polls--;
		say(fd, 200, nonce, "application/json", body);
	} else if (sscanf(path, "/ch/%d", &id) == 1 ||
	           sscanf(path, "/dns/%d", &id) == 1) {
		s->challenged[id % ACME_MAX_ORDERS] = true;
		s->dns_answers += strncmp(path, "/dns/", 5) == 0;
		say(fd, 200, nonce, "application/json", "{}");
	} else if (sscanf(path, "/fin/%d", &id) == 1) {
		s->finalizes++;
		if (s->sc.not_ready_once) {
			s->sc.not_ready_once = false;
			say(fd, 403, nonce, "application/problem+json",
			    "{\"type\":\"urn:ietf:params:acme:error:"
			    "orderNotReady\"}");
		} else {
			body = acme_order(
			    s, id, s->sc.processing ? "processing" : "valid");
			say(fd, 200, nonce, "application/json", body);
		}
	} else if (sscanf(path, "/o/%d", &id) == 1) {
		/* polled after orderNotReady (ready) or while processing */
		body = acme_order(s, id, s->sc.processing ? "valid" : "ready");
		say(fd, 200, nonce, "application/json", body);
	} else if (strncmp(path, "/cert/", 6) == 0) {
		say(fd, 200, nonce, "application/pem-certificate-chain",
		    "-----BEGIN CERTIFICATE-----\nMIIB\n"
		    "-----END CERTIFICATE-----\n");
	} else {
		say(fd, 404, nonce, "text/plain", "");
	}
	free(body);
	free(hdr);
	return true;
}

/* Answers one request. Returns false to close the connection. */
static bool
acme_answer(struct acme_srv *s, int fd, const char *method, const char *path)
{
	char nonce[64], *body;
	bool post = strcmp(method, "POST") == 0, keep = true;

	pthread_mutex_lock(&s->lock);
	snprintf(
	    nonce, sizeof(nonce), "Replay-Nonce: nonce%d\r\n", ++s->nonce_seq);
	s->posts += post;
	if (post &&
	    (s->sc.bad_nonces > 0 ||
	        (s->sc.bad_order_nonces > 0 && strcmp(path, "/order") == 0))) {
		if (s->sc.bad_nonces > 0)
			s->sc.bad_nonces--;
		else
			s->sc.bad_order_nonces--;
		say(fd, 400, nonce, "application/problem+json",
		    "{\"type\":\"urn:ietf:params:acme:error:badNonce\"}");
	} else if (post) {
		keep = acme_post(s, fd, path, nonce);
	} else if (strcmp(path, "/dir") == 0) {
		body = cb_asprintf("{\"newNonce\":\"%s/nonce\",\"newAccount\":"
		                   "\"%s/acct\",\"newOrder\":\"%s/order\"}",
		    s->base, s->base, s->base);
		say(fd, 200, "", "application/json", body);
		free(body);
	} else {
		s->heads += strcmp(method, "HEAD") == 0;
		say(fd, 200, nonce, "text/plain", "");
	}
	pthread_mutex_unlock(&s->lock);
	return keep;
}

static void *
acme_conn_main(void *arg)
{
	struct acme_conn *c = arg;
	char buf[16384], method[8], path[256];
	size_t len = 0;

	for (;;) {
		char *end = memmem(buf, len, "\r\n\r\n", 4), *cl;
		size_t need;
		ssize_t n;

		if (end != NULL) {
			*end = '\0';
			cl = strcasestr(buf, "Content-Length:");
			need = (size_t)(end + 4 - buf) +
			    (cl != NULL ? strtoul(cl + 15, NULL, 10) : 0);
			*end = '\r';
			if (len >= need) {
				if (sscanf(buf, "%7s %255s", method, path) !=
				        2 ||
				    !acme_answer(c->s, c->fd, method, path))
					break;
				memmove(buf, buf + need, len - need);
				len -= need;
				continue;
			}
		}
		if ((n = recv(c->fd, buf + len, sizeof(buf) - len, 0)) <= 0)
			break;
		len += (size_t)n;
	}
	close(c->fd);
	pthread_mutex_lock(&c->s->lock);
	c->s->active--;
	pthread_mutex_unlock(&c->s->lock);
	free(c);
	return NULL;
}

static void *
acme_main(void *arg)
{
	struct acme_srv *s = arg;

	while (!atomic_load(&s->stop)) {
		int fd = accept(s->lfd, NULL, NULL);
		struct acme_conn *c;
		pthread_t th;

		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		s->conns++;
		s->active++;
		pthread_mutex_unlock(&s->lock);
		c = cb_calloc(1, sizeof(*c));
		c->s = s;
		c->fd = fd;
		assert_int_equal(
		    pthread_create(&th, NULL, acme_conn_main, c), 0);
		pthread_detach(th);
	}
	return NULL;
}

static void
acme_start(struct acme_srv *s, const struct acme_script *sc)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};

	memset(s, 0, sizeof(*s));
	s->sc = *sc;
	pthread_mutex_init(&s->lock, NULL);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	assert_int_equal(pthread_create(&s->th, NULL, acme_main, s), 0);
}

/* Stops S once its connections are gone (the clients closed them). */
static void
acme_stop(struct acme_srv *s)
{
	int active;

	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	do {
		struct timespec ts = {0, 1000000};

		pthread_mutex_lock(&s->lock);
		active = s->active;
		pthread_mutex_unlock(&s->lock);
		if (active > 0)
			nanosleep(&ts, NULL);
	} while (active > 0);
	pthread_mutex_destroy(&s->lock);
}

/* A run of CERTS issuances by CONC workers over NLOOPS loops (on this
 * thread, one after the other) with ACCOUNTS accounts; statistics merged
 * into *TOTAL. Returns whether setup failed. */
struct run_args {
	const char *directory;
	int conc, accounts, nloops;
	long certs;
	const char *challenge; /* --challenge; NULL: http-01 */
	bool always_valid;
	bool abort; /* set the run's abort flag 200 ms after the start */
};

static void *
abort_later(void *arg)
{
	struct timespec ts = {0, 200000000};

	nanosleep(&ts, NULL);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

static bool
run(const struct run_args *a, struct bench_stats *total)
{
	struct bench_opts o = {.directory = a->directory,
	    .concurrency = a->conc,
	    .accounts = a->accounts,
	    .certificates = a->certs,
	    .names = 1,
	    .acct_key = BENCH_KEY_P256,
	    .cert_key = BENCH_KEY_P256,
	    .challenge = a->challenge != NULL ? a->challenge : "http-01",
	    .always_valid = a->always_valid,
	    .poll_interval_ms = 1,
	    .domain_suffix = "bench.cobble.test",
	    .quiet = true};
	static volatile sig_atomic_t stop;
	struct bench_run r = {.opts = &o, .stop = &stop};
	struct bench_worker *ws = cb_calloc((size_t)a->conc, sizeof(*ws));
	struct bench_loop *ls = cb_calloc((size_t)a->nloops, sizeof(*ls));
	struct bench_http h;
	pthread_t th;
	bool failed;

	memset(total, 0, sizeof(*total));
	r.accounts = cb_calloc((size_t)a->accounts, sizeof(*r.accounts));
	atomic_init(&r.tickets, a->certs);
	r.tls = bench_tls_ctx_new(NULL);
	assert_non_null(r.tls);
	bench_http_init(&h, r.tls, NULL);
	assert_int_equal(bench_dir_fetch(&h, a->directory, &r.dir), 0);
	bench_http_clear(&h);
	if (!a->always_valid) {
		r.responder = bench_responder_start("127.0.0.1", 0, BENCH_RESP_HTTP01);
		assert_non_null(r.responder);
	}
	for (int i = 0; i < a->nloops; i++)
		assert_int_equal(bench_loop_init(&ls[i], &r), 0);
	for (int i = 0; i < a->conc; i++) {
		assert_int_equal(bench_worker_init(&ws[i], &r, i), 0);
		bench_loop_add(&ls[i % a->nloops], &ws[i]);
	}
	for (int i = 0; i < a->nloops; i++)
		bench_loop_accounts(&ls[i]);
	failed = atomic_load(&r.setup_failed);
	atomic_store(&r.running, a->conc);
	if (a->abort)
		assert_int_equal(
		    pthread_create(&th, NULL, abort_later, &r.abort), 0);
	for (int i = 0; !failed && i < a->nloops; i++)
		bench_loop_issue(&ls[i]);
	if (a->abort)
		pthread_join(th, NULL);
	if (!failed)
		assert_int_equal(atomic_load(&r.running), 0);
	for (int i = 0; i < a->conc; i++) {
		bench_stats_merge(total, &ws[i].stats);
		bench_worker_clear(&ws[i]);
	}
	for (int i = 0; i < a->nloops; i++)
		bench_loop_clear(&ls[i]);
	for (int i = 0; i < a->accounts; i++) {
		if (!failed)
			assert_non_null(r.accounts[i].kid);
		bench_account_clear(&r.accounts[i]);
	}
	bench_responder_stop(r.responder);
	bench_dir_clear(&r.dir);
	SSL_CTX_free(r.tls);
	free(r.accounts);
	free(ls);
	free(ws);
	return failed;
}

/* Runs A against a server scripted by SC (A's directory is filled in). */
static void
run_scripted(const struct acme_script *sc, struct run_args *a,
    struct acme_srv *s, struct bench_stats *st)
{
	char *dir;

	acme_start(s, sc);
	dir = cb_asprintf("%s/dir", s->base);
	a->directory = dir;
	assert_false(run(a, st));
	acme_stop(s);
	free(dir);
}

/* Runs CERTS issuances with one worker against a server scripted by SC. */
static void
one_worker(const struct acme_script *sc, long certs, struct acme_srv *s,
    struct bench_stats *st)
{
	struct run_args a = {
	    .conc = 1, .accounts = 1, .nloops = 1, .certs = certs};

	run_scripted(sc, &a, s, st);
}

static void
test_plain_flow(void **state)
{
	struct acme_script sc = {0};
	struct acme_srv s;
	struct bench_stats st;

	(void)state;
	one_worker(&sc, 3, &s, &st);
	assert_int_equal(st.issued, 3);
	assert_int_equal(st.failed, 0);
	/* one nonce, the account, then 6 requests per issuance: newOrder,
	 * authz, challenge, one poll, finalize, download */
	assert_int_equal(st.requests, 2 + 3 * 6);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.posts, 1 + 3 * 6);
	assert_int_equal(st.hist[BENCH_STEP_NONCE].count, 1);
	assert_int_equal(st.hist[BENCH_STEP_ACCOUNT].count, 1);
	for (int k = BENCH_STEP_ORDER; k < BENCH_STEP_COUNT; k++)
		if (k != BENCH_STEP_ORDER_WAIT)
			assert_int_equal(st.hist[k].count, 3);
	assert_int_equal(st.hist[BENCH_STEP_ORDER_WAIT].count, 0);
	/* the directory, then one kept-alive connection */
	assert_int_equal(s.conns, 2);
}

/* --challenge dns-01 (always-valid mode): the dns-01 challenge is the one
 * answered. */
static void
test_other_challenge_type(void **state)
{
	struct acme_script sc = {0};
	struct acme_srv s;
	struct bench_stats st;
	struct run_args a = {.conc = 1,
	    .accounts = 1,
	    .nloops = 1,
	    .certs = 2,
	    .challenge = "dns-01",
	    .always_valid = true};

	(void)state;
	run_scripted(&sc, &a, &s, &st);
	assert_int_equal(st.issued, 2);
	assert_int_equal(st.failed, 0);
	assert_int_equal(s.dns_answers, 2);
}

/* A newOrder refused 429 rateLimited with Retry-After: 1: the issuance
 * fails as rateLimited and the worker waits that second before the next
 * one (RFC 8555 6.6), which then succeeds. */
static void
test_rate_limited_waits(void **state)
{
	struct acme_script sc = {.rate_limited = 1};
	struct acme_srv s;
	struct bench_stats st;
	int64_t t = bench_now_us();

	(void)state;
	one_worker(&sc, 2, &s, &st);
	assert_true(bench_now_us() - t >= 1000000);
	assert_int_equal(st.issued, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.errors[CB_PROB_RATE_LIMITED], 1);
	assert_int_equal(st.retry_after_waits, 1);
	assert_int_equal(s.orders, 1);
}

static void
test_bad_nonce(void **state)
{
	struct acme_script sc = {.bad_nonces = 2};
	struct acme_srv s;
	struct bench_stats st;

	(void)state;
	/* newAccount answered badNonce twice, then registered */
	one_worker(&sc, 1, &s, &st);
	assert_int_equal(st.issued, 1);
	assert_int_equal(st.bad_nonce_retries, 2);
	assert_int_equal(st.requests, 2 + 6 + 2);
	/* newOrder: badNonce BENCH_MAX_NONCE_TRIES times fails it */
	sc = (struct acme_script){.bad_order_nonces = BENCH_MAX_NONCE_TRIES};
	one_worker(&sc, 2, &s, &st);
	assert_int_equal(st.issued, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.errors[CB_PROB_BAD_NONCE], 1);
	assert_int_equal(st.bad_nonce_retries, BENCH_MAX_NONCE_TRIES);
	assert_int_equal(st.hist[BENCH_STEP_ISSUANCE].count, 1);
}

static void
test_not_ready_then_processing(void **state)
{
	struct acme_script sc = {.not_ready_once = true};
	struct acme_srv s;
	struct bench_stats st;

	(void)state;
	one_worker(&sc, 1, &s, &st);
	assert_int_equal(st.issued, 1);
	assert_int_equal(s.finalizes, 2);
	assert_int_equal(st.hist[BENCH_STEP_FINALIZE].count, 1);
	/* newOrder, authz, challenge, poll, finalize, order poll, finalize,
	 * download */
	assert_int_equal(st.requests, 2 + 8);

	sc = (struct acme_script){.processing = true, .pending_polls = 2};
	one_worker(&sc, 1, &s, &st);
	assert_int_equal(st.issued, 1);
	assert_int_equal(st.hist[BENCH_STEP_ORDER_WAIT].count, 1);
	assert_int_equal(st.hist[BENCH_STEP_VALIDATION].count, 1);
	/* three authz polls, one order poll */
	assert_int_equal(st.requests, 2 + 6 + 2 + 1);
}

static void
test_reused_and_invalid_authz(void **state)
{
	struct acme_script sc = {.authz_valid = true};
	struct acme_srv s;
	struct bench_stats st;

	(void)state;
	one_worker(&sc, 1, &s, &st);
	assert_int_equal(st.issued, 1);
	assert_int_equal(st.hist[BENCH_STEP_CHALLENGE].count, 0);
	assert_int_equal(st.hist[BENCH_STEP_VALIDATION].count, 0);
	assert_int_equal(st.requests, 2 + 4);

	sc = (struct acme_script){.authz_invalid = true};
	one_worker(&sc, 2, &s, &st);
	assert_int_equal(st.issued, 0);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.errors[CB_PROB_CONNECTION], 2);
	assert_int_equal(st.hist[BENCH_STEP_ISSUANCE].count, 0);
}

/* The server closes the connection at each newOrder: sent again once on
 * a new connection, then a transport failure, and the worker goes on
 * after a pause. */
static void
test_transport_failure(void **state)
{
	struct acme_script sc = {.drop_orders = true};
	struct acme_srv s;
	struct bench_stats st;
	int64_t t = bench_now_us();

	(void)state;
	one_worker(&sc, 2, &s, &st);
	assert_int_equal(st.issued, 0);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.errors[BENCH_ERR_TRANSPORT], 2);
	assert_true(bench_now_us() - t >= 100000); /* one pause at least */
	/* the directory; the account's connection, reused for the first
	 * newOrder, which is sent again on a new one; then one for a nonce,
	 * reused for the second newOrder, sent again on another */
	assert_int_equal(s.conns, 5);
}

/* The server stops answering; the run is aborted (as when it stalls):
 * the requests in flight end within about a second, counted apart. */
static void
test_abort(void **state)
{
	struct acme_script sc = {.hang_orders = true};
	struct acme_srv s;
	struct bench_stats st;
	struct run_args a = {.conc = 3,
	    .accounts = 1,
	    .nloops = 1,
	    .certs = 10,
	    .always_valid = true,
	    .abort = true};
	int64_t t = bench_now_us();

	(void)state;
	run_scripted(&sc, &a, &s, &st);
	assert_true(bench_now_us() - t < 3000000);
	assert_int_equal(st.issued, 0);
	assert_int_equal(st.failed, 3);
	assert_int_equal(st.errors[BENCH_ERR_ABORTED], 3);
}

/* Every POST answered badNonce: registration fails, counted. */
static void
test_setup_failure(void **state)
{
	struct acme_script sc = {.bad_nonces = 1000};
	struct acme_srv s;
	struct bench_stats st;
	struct run_args a = {.conc = 2, .accounts = 3, .nloops = 1, .certs = 1};
	char *dir;

	(void)state;
	acme_start(&s, &sc);
	dir = cb_asprintf("%s/dir", s.base);
	a.directory = dir;
	assert_true(run(&a, &st));
	acme_stop(&s);
	/* each worker stops at its first failed account */
	assert_int_equal(st.errors[CB_PROB_BAD_NONCE], 2);
	assert_int_equal(st.issued, 0);
	free(dir);
}

/* Eight workers on two loops share three accounts. */
static void
test_many_workers(void **state)
{
	struct acme_script sc = {0};
	struct acme_srv s;
	struct bench_stats st;
	struct run_args a = {
	    .conc = 8, .accounts = 3, .nloops = 2, .certs = 40};

	(void)state;
	run_scripted(&sc, &a, &s, &st);
	assert_int_equal(st.issued, 40);
	assert_int_equal(st.failed, 0);
	assert_int_equal(s.accounts, 3);
	assert_int_equal(st.hist[BENCH_STEP_ACCOUNT].count, 3);
}

/* JSON text J (single quotes for double) as an object. */
static json_t *
obj(const char *j)
{
	char *t = cb_strdup(j);
	json_t *o;

	for (char *p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	o = json_loads(t, 0, NULL);
	assert_non_null(o);
	free(t);
	return o;
}

/* What the parsers of server objects accept, and their bounds. */
static void
test_object_parsers(void **state)
{
	struct bench_dir dir;
	struct bench_order o = {0};
	struct bench_authz a = {0};
	json_t *j;
	char *big;

	(void)state;
	j = obj("{'newNonce': 'n', 'newAccount': 'a', 'newOrder': 'o'}");
	assert_int_equal(bench_dir_parse(j, &dir), 0);
	assert_string_equal(dir.new_order, "o");
	bench_dir_clear(&dir);
	json_decref(j);
	j = obj("{'newNonce': 'n', 'newAccount': 'a', 'newOrder': 7}");
	assert_int_equal(bench_dir_parse(j, &dir), -1);
	assert_null(dir.new_nonce);
	json_decref(j);

	o.url = cb_strdup("https://ca.test/order/1");
	j = obj("{'status': 'ready', 'finalize': 'f', 'authorizations': "
	        "['a1', 'a2'], 'error': {'type': "
	        "'urn:ietf:params:acme:error:rejectedIdentifier'}}");
	assert_int_equal(bench_order_parse(j, &o), 0);
	assert_int_equal(o.nauthz, 2);
	assert_string_equal(o.authzs[1], "a2");
	assert_string_equal(o.url, "https://ca.test/order/1");
	assert_int_equal(o.error, CB_PROB_REJECTED_IDENTIFIER);
	json_decref(j);
	/* No authorizations, and more than an order of ours can have. */
	j = obj("{'status': 'ready', 'finalize': 'f', 'authorizations': []}");
	assert_int_equal(bench_order_parse(j, &o), -1);
	json_decref(j);
	j = json_pack("{s:s, s:s, s:[]}", "status", "ready", "finalize", "f",
	    "authorizations");
	for (int i = 0; i <= BENCH_MAX_NAMES; i++)
		json_array_append_new(
		    json_object_get(j, "authorizations"), json_string("a"));
	assert_int_equal(bench_order_parse(j, &o), -1);
	assert_true(o.nauthz == 0);
	json_decref(j);
	/* A URL longer than CB_MAX_URL_LEN is not taken. */
	big = cb_malloc(CB_MAX_URL_LEN + 2);
	memset(big, 'u', CB_MAX_URL_LEN + 1);
	big[CB_MAX_URL_LEN + 1] = '\0';
	j = json_pack("{s:s, s:s, s:[s]}", "status", "ready", "finalize", big,
	    "authorizations", "a1");
	assert_int_equal(bench_order_parse(j, &o), -1);
	assert_null(o.finalize);
	json_decref(j);
	bench_order_clear(&o);

	j = obj("{'status': 'pending', 'challenges': [{'type': 'dns-01', "
	        "'url': 'd', 'token': 'x'}, {'type': 'http-01', 'url': 'h', "
	        "'token': 't', 'error': {'type': "
	        "'urn:ietf:params:acme:error:connection'}}, {'type': "
	        "'http-01', 'url': 'h2', 'token': 't2'}]}");
	assert_int_equal(bench_authz_parse(j, "http-01", &a), 0);
	assert_string_equal(a.chall_url, "h");
	assert_string_equal(a.token, "t");
	assert_int_equal(a.error, CB_PROB_CONNECTION);
	json_decref(j);
	j = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "status", "pending",
	    "challenges", "type", "http-01", "url", "h", "token", big);
	assert_int_equal(bench_authz_parse(j, "http-01", &a), -1);
	json_decref(j);
	/* A token without a URL is not kept (it leaked before), and the
	 * next http-01 challenge is used. */
	j = obj("{'status': 'pending', 'challenges': [{'type': 'http-01', "
	        "'token': 'lone'}, {'type': 'http-01', 'url': 'u2', "
	        "'token': 't2'}]}");
	assert_int_equal(bench_authz_parse(j, "http-01", &a), 0);
	assert_string_equal(a.chall_url, "u2");
	assert_string_equal(a.token, "t2");
	json_decref(j);
	j = obj("{'status': 'pending', 'challenges': [{'type': 'http-01', "
	        "'token': 'lone'}]}");
	assert_int_equal(bench_authz_parse(j, "http-01", &a), -1);
	assert_null(a.token);
	json_decref(j);
	/* Another type when --challenge asks for it. */
	j = obj("{'status': 'pending', 'challenges': [{'type': 'http-01', "
	        "'url': 'h', 'token': 't'}, {'type': 'dns-01', 'url': 'd', "
	        "'token': 'x'}]}");
	assert_int_equal(bench_authz_parse(j, "dns-01", &a), 0);
	assert_string_equal(a.chall_url, "d");
	assert_int_equal(bench_authz_parse(j, "tls-alpn-01", &a), -1);
	json_decref(j);
	j = obj("{'status': 'pending', 'challenges': {}}");
	assert_int_equal(bench_authz_parse(j, "http-01", &a), -1);
	json_decref(j);
	bench_authz_clear(&a);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_flow),
	    cmocka_unit_test(test_other_challenge_type),
	    cmocka_unit_test(test_rate_limited_waits),
	    cmocka_unit_test(test_bad_nonce),
	    cmocka_unit_test(test_not_ready_then_processing),
	    cmocka_unit_test(test_reused_and_invalid_authz),
	    cmocka_unit_test(test_transport_failure),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_setup_failure),
	    cmocka_unit_test(test_many_workers),
	    cmocka_unit_test(test_object_parsers),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
