/* SPDX-License-Identifier: ISC */
/* The ACME client side of the load (RFC 8555 7): directory, nonces,
 * accounts, and one issuance from newOrder to the certificate download,
 * with the latency of each step recorded in the worker's statistics. */
#include "bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cb_b64url.h"
#include "cb_log.h"
#include "cb_util.h"

/* What an issuance needs from an order object (RFC 8555 7.1.3). */
struct bench_order {
	char *url; /* Location of newOrder */
	char *status;
	char *finalize;
	char *certificate;
	char *authzs[BENCH_MAX_NAMES];
	size_t nauthz;
	int error; /* problem type of "error", if any */
};

/* What an issuance needs from an authorization (RFC 8555 7.1.4). */
struct bench_authz {
	char *status;
	char *chall_url; /* the http-01 challenge */
	char *token;
	int error; /* problem type of a challenge's "error", if any */
};

int64_t
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
bench_sleep_ms(long ms)
{
	struct timespec ts = {
	    .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
bench_record(struct bench_worker *w, enum bench_step s, int64_t since)
{
	int64_t d = bench_now_us() - since;

	bench_hist_add(&w->stats.hist[s], d > 0 ? (uint64_t)d : 0);
}

/* Records failure KIND for the current issuance (the first one wins) and
 * logs its first occurrence per worker. Returns -1. */
static int bench_fail(struct bench_worker *w, int kind, const char *fmt, ...)
    CB_PRINTF(3, 4);

static int
bench_fail(struct bench_worker *w, int kind, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (w->err >= 0)
		return -1;
	if (kind <= CB_PROB_NONE || kind >= BENCH_ERR_COUNT)
		kind = BENCH_ERR_OTHER_PROBLEM;
	if (atomic_load(&w->run->abort))
		kind = BENCH_ERR_ABORTED;
	w->err = kind;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!w->logged[kind]) {
		w->logged[kind] = true;
		cb_log(LOG_WARNING,
		    "bench: worker %d: %s: %s (further %s "
		    "errors of this worker not logged)",
		    w->id, bench_err_name(kind), msg, bench_err_name(kind));
	} else {
		cb_log(LOG_DEBUG, "bench: worker %d: %s: %s", w->id,
		    bench_err_name(kind), msg);
	}
	return -1;
}

/* The problem type of an RFC 7807 document OBJ (NULL allowed). */
static int
bench_problem_kind(const json_t *obj)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	enum cb_prob_type t = cb_prob_type_parse(type != NULL ? type : "");

	return t == CB_PROB_NONE ? BENCH_ERR_OTHER_PROBLEM : (int)t;
}

/* Parses the last response body as a JSON object; NULL if it is not. */
static json_t *
bench_body_json(struct bench_http *h)
{
	json_error_t jerr;
	json_t *j = json_loadb(h->body, h->len, JSON_REJECT_DUPLICATES, &jerr);

	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Fails with the problem the server answered, or an unexpected status. */
static int
bench_fail_response(struct bench_worker *w, const char *what)
{
	struct bench_http *h = &w->http;
	json_t *doc = h->problem ? bench_body_json(h) : NULL;
	const char *detail = json_string_value(json_object_get(doc, "detail"));
	int rc;

	if (doc != NULL)
		rc = bench_fail(w, bench_problem_kind(doc), "%s: %ld %s", what,
		    h->status, detail != NULL ? detail : "");
	else
		rc = bench_fail(
		    w, BENCH_ERR_HTTP, "%s: HTTP status %ld", what, h->status);
	json_decref(doc);
	return rc;
}

/* True when the last response is the problem KIND. */
static bool
bench_is_problem(struct bench_http *h, int kind)
{
	json_t *doc;
	bool is;

	if (!h->problem || (doc = bench_body_json(h)) == NULL)
		return false;
	is = bench_problem_kind(doc) == kind;
	json_decref(doc);
	return is;
}

/* HEAD newNonce (RFC 8555 7.2): only when no Replay-Nonce is at hand. */
static int
bench_new_nonce(struct bench_worker *w)
{
	int64_t t = bench_now_us();

	w->stats.requests++;
	if (bench_http_head(&w->http, w->run->dir.new_nonce) != 0)
		return bench_fail(
		    w, BENCH_ERR_TRANSPORT, "newNonce: %s", w->http.errbuf);
	if ((w->http.status != 200 && w->http.status != 204) ||
	    !w->http.has_nonce)
		return bench_fail(w, BENCH_ERR_PROTOCOL,
		    "newNonce: status %ld, %s Replay-Nonce", w->http.status,
		    w->http.has_nonce ? "with" : "no");
	bench_record(w, BENCH_STEP_NONCE, t);
	return 0;
}

/* A signed POST of PAYLOAD (NULL: POST-as-GET) to URL with KEY and KID
 * (NULL: embed the JWK), retried with the fresh nonce while the server
 * answers badNonce (RFC 8555 6.5). Returns 0 when a response other than
 * badNonce arrived. */
static int
bench_post(struct bench_worker *w, const struct bench_key *key, const char *kid,
    const char *url, const char *payload, bool pem)
{
	struct bench_http *h = &w->http;
	char *body = NULL;
	int rc = -1;

	for (int i = 0; i < BENCH_MAX_NONCE_TRIES; i++) {
		if (!h->has_nonce && bench_new_nonce(w) != 0)
			goto out;
		free(body);
		body = bench_jws_encode(key, kid, h->nonce, url, payload);
		h->has_nonce = false;
		if (body == NULL) {
			bench_fail(w, BENCH_ERR_LOCAL, "cannot sign a JWS");
			goto out;
		}
		w->stats.requests++;
		if (bench_http_post(h, url, body, pem) != 0) {
			bench_fail(w, BENCH_ERR_TRANSPORT, "POST %s: %s", url,
			    h->errbuf);
			goto out;
		}
		if (h->status != 400 ||
		    !bench_is_problem(h, CB_PROB_BAD_NONCE)) {
			rc = 0;
			goto out;
		}
		w->stats.bad_nonce_retries++;
	}
	bench_fail(w, CB_PROB_BAD_NONCE, "POST %s: badNonce %d times in a row",
	    url, BENCH_MAX_NONCE_TRIES);
out:
	free(body);
	return rc;
}

static char *
bench_dup_string(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL && strlen(s) <= CB_MAX_URL_LEN ? cb_strdup(s) : NULL;
}

int
bench_dir_fetch(struct bench_http *h, const char *url, struct bench_dir *dir)
{
	json_t *d = NULL;
	int rc = -1;

	memset(dir, 0, sizeof(*dir));
	if (bench_http_get(h, url) != 0) {
		cb_log(LOG_ERR, "bench: GET %s: %s", url, h->errbuf);
		goto out;
	}
	if (h->status != 200 || (d = bench_body_json(h)) == NULL) {
		cb_log(LOG_ERR, "bench: GET %s: status %ld, not a directory",
		    url, h->status);
		goto out;
	}
	dir->new_nonce = bench_dup_string(d, "newNonce");
	dir->new_account = bench_dup_string(d, "newAccount");
	dir->new_order = bench_dup_string(d, "newOrder");
	if (dir->new_nonce == NULL || dir->new_account == NULL ||
	    dir->new_order == NULL) {
		cb_log(LOG_ERR,
		    "bench: %s lacks newNonce, newAccount or "
		    "newOrder",
		    url);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		bench_dir_clear(dir);
	json_decref(d);
	return rc;
}

void
bench_dir_clear(struct bench_dir *dir)
{
	free(dir->new_nonce);
	free(dir->new_account);
	free(dir->new_order);
	memset(dir, 0, sizeof(*dir));
}

int
bench_worker_init(struct bench_worker *w, struct bench_run *run, int id)
{
	unsigned char seed[8];

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->run = run;
	w->err = -1;
	if (bench_http_init(&w->http, run->opts->ca_bundle, &run->abort) != 0 ||
	    cb_random_bytes(seed, sizeof(seed)) != 0)
		return -1;
	memcpy(&w->rng, seed, sizeof(w->rng));
	w->rng |= 1;
	/* Certificate keys differ from the account keys (RFC 8555 7.4
	 * forbids the account key in a CSR) and are reused in turn: making
	 * one per issuance would cost more CPU than the server's work. */
	for (int i = 0; i < BENCH_CERT_KEYS; i++)
		if ((w->cert_keys[i] =
		            bench_pkey_generate(run->opts->cert_key)) == NULL)
			return -1;
	return 0;
}

void
bench_worker_clear(struct bench_worker *w)
{
	bench_http_clear(&w->http);
	for (int i = 0; i < BENCH_CERT_KEYS; i++)
		EVP_PKEY_free(w->cert_keys[i]);
	memset(w->cert_keys, 0, sizeof(w->cert_keys));
}

int
bench_account_create(struct bench_worker *w, struct bench_account *a)
{
	int64_t t;
	int rc = -1;

	w->err = -1;
	if (bench_key_generate(w->run->opts->acct_key, &a->key) != 0) {
		bench_fail(
		    w, BENCH_ERR_LOCAL, "cannot generate an account key");
		goto out;
	}
	t = bench_now_us();
	if (bench_post(w, &a->key, NULL, w->run->dir.new_account,
	        "{\"termsOfServiceAgreed\":true}", false) != 0)
		goto out;
	if (w->http.status != 201 && w->http.status != 200) {
		bench_fail_response(w, "newAccount");
		goto out;
	}
	if (w->http.location == NULL) {
		bench_fail(w, BENCH_ERR_PROTOCOL, "newAccount: no Location");
		goto out;
	}
	bench_record(w, BENCH_STEP_ACCOUNT, t);
	a->kid = cb_strdup(w->http.location);
	rc = 0;
out:
	if (w->err >= 0)
		w->stats.errors[w->err]++;
	return rc;
}

void
bench_account_clear(struct bench_account *a)
{
	bench_key_clear(&a->key);
	free(a->kid);
	a->kid = NULL;
}

static void
bench_order_clear(struct bench_order *o)
{
	free(o->url);
	free(o->status);
	free(o->finalize);
	free(o->certificate);
	for (size_t i = 0; i < o->nauthz; i++)
		free(o->authzs[i]);
	memset(o, 0, sizeof(*o));
}

/* Fills O from an order object (keeps O->url). Returns 0 or -1. */
static int
bench_order_parse(const json_t *j, struct bench_order *o)
{
	const json_t *authzs = json_object_get(j, "authorizations");
	const json_t *err = json_object_get(j, "error");
	char *url = o->url;
	size_t i;

	o->url = NULL;
	bench_order_clear(o);
	o->url = url;
	o->status = bench_dup_string(j, "status");
	o->finalize = bench_dup_string(j, "finalize");
	o->certificate = bench_dup_string(j, "certificate");
	o->error = json_is_object(err) ? bench_problem_kind(err) : 0;
	if (o->status == NULL || o->finalize == NULL ||
	    !json_is_array(authzs) || json_array_size(authzs) == 0 ||
	    json_array_size(authzs) > BENCH_MAX_NAMES)
		return -1;
	for (i = 0; i < json_array_size(authzs); i++) {
		const char *s = json_string_value(json_array_get(authzs, i));

		if (s == NULL || strlen(s) > CB_MAX_URL_LEN)
			return -1;
		o->authzs[o->nauthz++] = cb_strdup(s);
	}
	return 0;
}

static void
bench_authz_clear(struct bench_authz *a)
{
	free(a->status);
	free(a->chall_url);
	free(a->token);
	memset(a, 0, sizeof(*a));
}

/* Fills A from an authorization object. Returns 0 or -1. */
static int
bench_authz_parse(const json_t *j, struct bench_authz *a)
{
	const json_t *challs = json_object_get(j, "challenges");
	size_t i;

	bench_authz_clear(a);
	if ((a->status = bench_dup_string(j, "status")) == NULL ||
	    !json_is_array(challs))
		return -1;
	for (i = 0; i < json_array_size(challs); i++) {
		const json_t *c = json_array_get(challs, i);
		const json_t *err = json_object_get(c, "error");
		const char *type =
		    json_string_value(json_object_get(c, "type"));

		if (json_is_object(err) && a->error == 0)
			a->error = bench_problem_kind(err);
		if (type == NULL || strcmp(type, "http-01") != 0 ||
		    a->chall_url != NULL)
			continue;
		a->chall_url = bench_dup_string(c, "url");
		a->token = bench_dup_string(c, "token");
	}
	return a->chall_url != NULL && a->token != NULL ? 0 : -1;
}

/* How long to wait before polling again (RFC 8555 7.5.1: Retry-After),
 * capped by --poll-interval when it is set. */
static long
bench_poll_wait_ms(const struct bench_worker *w)
{
	long ra = w->http.retry_after, pi = w->run->opts->poll_interval_ms;

	if (pi > 0)
		return ra >= 0 && ra * 1000 < pi ? ra * 1000 : pi;
	return ra >= 0 ? ra * 1000 : BENCH_POLL_DEFAULT_MS;
}

/* POST-as-GET URL and parse the object. Returns it or NULL (failed). */
static json_t *
bench_fetch(struct bench_worker *w, const struct bench_account *a,
    const char *url, const char *what)
{
	json_t *j;

	if (bench_post(w, &a->key, a->kid, url, NULL, false) != 0)
		return NULL;
	if (w->http.status != 200) {
		bench_fail_response(w, what);
		return NULL;
	}
	if ((j = bench_body_json(&w->http)) == NULL)
		bench_fail(
		    w, BENCH_ERR_PROTOCOL, "%s: not a JSON object", what);
	return j;
}

/* Polls authorization URL until it is valid. */
static int
bench_authz_wait(
    struct bench_worker *w, const struct bench_account *a, const char *url)
{
	struct bench_authz az = {0};
	int64_t deadline = bench_now_us() + BENCH_POLL_TIMEOUT_MS * 1000LL;
	json_t *j = NULL;
	int rc = -1;

	for (;;) {
		bench_sleep_ms(bench_poll_wait_ms(w));
		json_decref(j);
		if ((j = bench_fetch(w, a, url, "authz poll")) == NULL)
			goto out;
		if (bench_authz_parse(j, &az) != 0) {
			bench_fail(w, BENCH_ERR_PROTOCOL, "authz: malformed");
			goto out;
		}
		if (strcmp(az.status, "valid") == 0)
			break;
		if (strcmp(az.status, "pending") != 0) {
			bench_fail(w, az.error ? az.error : BENCH_ERR_INVALID,
			    "authz %s is %s", url, az.status);
			goto out;
		}
		if (bench_now_us() > deadline) {
			bench_fail(
			    w, BENCH_ERR_TIMEOUT, "authz %s pending", url);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(j);
	bench_authz_clear(&az);
	return rc;
}

/* Polls order O until its status is WANT (or "valid"). */
static int
bench_order_wait(struct bench_worker *w, const struct bench_account *a,
    struct bench_order *o, const char *want)
{
	int64_t deadline = bench_now_us() + BENCH_POLL_TIMEOUT_MS * 1000LL;
	json_t *j = NULL;
	int rc = -1;

	while (
	    strcmp(o->status, want) != 0 && strcmp(o->status, "valid") != 0) {
		if (strcmp(o->status, "invalid") == 0) {
			bench_fail(w, o->error ? o->error : BENCH_ERR_INVALID,
			    "order %s is invalid", o->url);
			goto out;
		}
		if (bench_now_us() > deadline) {
			bench_fail(w, BENCH_ERR_TIMEOUT, "order %s is %s",
			    o->url, o->status);
			goto out;
		}
		bench_sleep_ms(bench_poll_wait_ms(w));
		json_decref(j);
		if ((j = bench_fetch(w, a, o->url, "order poll")) == NULL)
			goto out;
		if (bench_order_parse(j, o) != 0) {
			bench_fail(w, BENCH_ERR_PROTOCOL, "order: malformed");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* NAMES random labels under the domain suffix. */
static void
bench_names(struct bench_worker *w, char **names, int n)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (int i = 0; i < n; i++) {
		char label[BENCH_LABEL_LEN + 1];

		for (int k = 0; k < BENCH_LABEL_LEN; k++) {
			/* xorshift64*: names need to be distinct, not secret */
			w->rng ^= w->rng >> 12;
			w->rng ^= w->rng << 25;
			w->rng ^= w->rng >> 27;
			label[k] =
			    alpha[((w->rng * 2685821657736338717ull) >> 32) %
			        (sizeof(alpha) - 1)];
		}
		label[BENCH_LABEL_LEN] = '\0';
		names[i] =
		    cb_asprintf("%s.%s", label, w->run->opts->domain_suffix);
	}
}

/* newOrder for NAMES; fills O. */
static int
bench_new_order(struct bench_worker *w, const struct bench_account *a,
    char *const *names, int n, struct bench_order *o)
{
	json_t *ids = json_array(), *body = NULL, *j = NULL;
	char *payload = NULL;
	int64_t t;
	int rc = -1;

	for (int i = 0; ids != NULL && i < n; i++)
		json_array_append_new(ids,
		    json_pack("{s:s, s:s}", "type", "dns", "value", names[i]));
	body = json_pack("{s:O}", "identifiers", ids);
	if (body == NULL ||
	    (payload = json_dumps(body, JSON_COMPACT)) == NULL) {
		bench_fail(w, BENCH_ERR_LOCAL, "newOrder: JSON");
		goto out;
	}
	t = bench_now_us();
	if (bench_post(
	        w, &a->key, a->kid, w->run->dir.new_order, payload, false) != 0)
		goto out;
	if (w->http.status != 201) {
		bench_fail_response(w, "newOrder");
		goto out;
	}
	bench_record(w, BENCH_STEP_ORDER, t);
	o->url = w->http.location != NULL ? cb_strdup(w->http.location) : NULL;
	if (o->url == NULL || (j = bench_body_json(&w->http)) == NULL ||
	    bench_order_parse(j, o) != 0 || o->nauthz != (size_t)n) {
		bench_fail(w, BENCH_ERR_PROTOCOL, "newOrder: malformed order");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(payload);
	json_decref(body);
	json_decref(ids);
	return rc;
}

/* Fetches authorization URL; when pending, publishes the key
 * authorization and answers its http-01 challenge. *STARTED is set when a
 * challenge was answered (so validation must be awaited). */
static int
bench_authz_start(struct bench_worker *w, const struct bench_account *a,
    const char *url, char **token, bool *started)
{
	struct bench_authz az = {0};
	char *ka = NULL;
	json_t *j = NULL;
	int64_t t = bench_now_us();
	int rc = -1;

	*started = false;
	if ((j = bench_fetch(w, a, url, "authz")) == NULL)
		goto out;
	if (bench_authz_parse(j, &az) != 0) {
		bench_fail(
		    w, BENCH_ERR_PROTOCOL, "authz: no http-01 challenge");
		goto out;
	}
	bench_record(w, BENCH_STEP_AUTHZ, t);
	if (strcmp(az.status, "valid") == 0) {
		rc = 0; /* reused authorization */
		goto out;
	}
	ka = cb_key_authorization(az.token, a->key.jwk.thumbprint);
	if (w->run->responder != NULL) {
		if (bench_responder_add(w->run->responder, az.token, ka) != 0) {
			bench_fail(w, BENCH_ERR_PROTOCOL, "token too long");
			goto out;
		}
		*token = cb_strdup(az.token);
	}
	t = bench_now_us();
	if (bench_post(w, &a->key, a->kid, az.chall_url, "{}", false) != 0)
		goto out;
	if (w->http.status != 200) {
		bench_fail_response(w, "challenge");
		goto out;
	}
	bench_record(w, BENCH_STEP_CHALLENGE, t);
	*started = true;
	rc = 0;
out:
	free(ka);
	json_decref(j);
	bench_authz_clear(&az);
	return rc;
}

/* Answers every authorization of O and waits until all are valid. */
static int
bench_validate(struct bench_worker *w, const struct bench_account *a,
    const struct bench_order *o)
{
	char *tokens[BENCH_MAX_NAMES] = {0};
	bool started[BENCH_MAX_NAMES] = {0};
	int64_t t = 0;
	int rc = -1;
	size_t i;

	for (i = 0; i < o->nauthz; i++) {
		if (bench_authz_start(
		        w, a, o->authzs[i], &tokens[i], &started[i]) != 0)
			goto out;
		if (started[i] && t == 0)
			t = bench_now_us();
	}
	for (i = 0; i < o->nauthz; i++)
		if (started[i] && bench_authz_wait(w, a, o->authzs[i]) != 0)
			goto out;
	if (t != 0)
		bench_record(w, BENCH_STEP_VALIDATION, t);
	rc = 0;
out:
	for (i = 0; i < o->nauthz; i++) {
		if (tokens[i] != NULL)
			bench_responder_remove(w->run->responder, tokens[i]);
		free(tokens[i]);
	}
	return rc;
}

/* POSTs the finalize request. Clients finalize as soon as the
 * authorizations are valid; a server that has not noticed yet answers
 * orderNotReady (RFC 8555 7.4), and then the order is polled until ready
 * and finalize is sent again. */
static int
bench_finalize_post(struct bench_worker *w, const struct bench_account *a,
    struct bench_order *o, const char *payload)
{
	int64_t t = bench_now_us();

	if (bench_post(w, &a->key, a->kid, o->finalize, payload, false) != 0)
		return -1;
	if (w->http.status == 403 &&
	    bench_is_problem(&w->http, CB_PROB_ORDER_NOT_READY)) {
		free(o->status);
		o->status = cb_strdup("pending");
		if (bench_order_wait(w, a, o, "ready") != 0)
			return -1;
		t = bench_now_us();
		if (bench_post(
		        w, &a->key, a->kid, o->finalize, payload, false) != 0)
			return -1;
	}
	if (w->http.status != 200)
		return bench_fail_response(w, "finalize");
	bench_record(w, BENCH_STEP_FINALIZE, t);
	return 0;
}

/* Finalizes O with a CSR for NAMES (RFC 8555 7.4) and waits until the
 * order is valid. */
static int
bench_finalize(struct bench_worker *w, const struct bench_account *a,
    struct bench_order *o, char *const *names, int n)
{
	EVP_PKEY *key = w->cert_keys[w->next_key++ % BENCH_CERT_KEYS];
	char *csr = bench_csr_encode(key, names, (size_t)n);
	char *payload = NULL;
	json_t *j = NULL, *body = NULL;
	int64_t t;
	int rc = -1;

	if (csr == NULL || (body = json_pack("{s:s}", "csr", csr)) == NULL ||
	    (payload = json_dumps(body, JSON_COMPACT)) == NULL) {
		bench_fail(w, BENCH_ERR_LOCAL, "cannot build the CSR");
		goto out;
	}
	if (bench_finalize_post(w, a, o, payload) != 0)
		goto out;
	if ((j = bench_body_json(&w->http)) == NULL ||
	    bench_order_parse(j, o) != 0) {
		bench_fail(w, BENCH_ERR_PROTOCOL, "finalize: malformed order");
		goto out;
	}
	if (strcmp(o->status, "valid") != 0) {
		t = bench_now_us();
		if (bench_order_wait(w, a, o, "valid") != 0)
			goto out;
		bench_record(w, BENCH_STEP_ORDER_WAIT, t);
	}
	rc = 0;
out:
	json_decref(body);
	json_decref(j);
	free(payload);
	free(csr);
	return rc;
}

/* Downloads the certificate chain of valid order O. */
static int
bench_download(struct bench_worker *w, const struct bench_account *a,
    const struct bench_order *o)
{
	int64_t t = bench_now_us();

	if (o->certificate == NULL)
		return bench_fail(w, BENCH_ERR_PROTOCOL,
		    "valid order %s without certificate", o->url);
	if (bench_post(w, &a->key, a->kid, o->certificate, NULL, true) != 0)
		return -1;
	if (w->http.status != 200)
		return bench_fail_response(w, "download");
	if (strncmp(w->http.body, "-----BEGIN CERTIFICATE-----", 27) != 0)
		return bench_fail(w, BENCH_ERR_PROTOCOL,
		    "download: not a PEM certificate chain");
	bench_record(w, BENCH_STEP_DOWNLOAD, t);
	return 0;
}

int
bench_issue(struct bench_worker *w, const struct bench_account *a)
{
	struct bench_order o = {0};
	char *names[BENCH_MAX_NAMES] = {0};
	int n = w->run->opts->names;
	int64_t t = bench_now_us();
	int rc = -1;

	w->err = -1;
	bench_names(w, names, n);
	if (bench_new_order(w, a, names, n, &o) != 0 ||
	    bench_validate(w, a, &o) != 0 ||
	    bench_finalize(w, a, &o, names, n) != 0 ||
	    bench_download(w, a, &o) != 0)
		goto out;
	bench_record(w, BENCH_STEP_ISSUANCE, t);
	w->stats.issued++;
	rc = 0;
out:
	if (rc != 0) {
		w->stats.failed++;
		w->stats.errors[w->err >= 0 ? w->err : BENCH_ERR_LOCAL]++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	bench_order_clear(&o);
	return rc;
}
