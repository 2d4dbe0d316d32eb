/* SPDX-License-Identifier: ISC */
/* cobble-bench: an ACME (RFC 8555) load generator. Options, keys and JWS,
 * CSRs, the HTTPS client, the HTTP-01 responder, latency statistics and the
 * issuance flow, shared by the files of tools/bench/. */
#ifndef BENCH_H
#define BENCH_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "cb_jwk.h"
#include "cb_limits.h"
#include "cb_mem.h"
#include "cb_problem.h"

/* Certificate keys each worker generates up front and reuses in turn. */
#define BENCH_CERT_KEYS 4
/* Largest response body read; larger ones are an error. */
#define BENCH_MAX_RESPONSE (1024 * 1024)
/* Attempts of one signed request while the server answers badNonce. */
#define BENCH_MAX_NONCE_TRIES 5
/* Longest time spent polling one authorization or order (ms). */
#define BENCH_POLL_TIMEOUT_MS 60000
/* Poll interval when neither --poll-interval nor Retry-After is given. */
#define BENCH_POLL_DEFAULT_MS 1000
/* Per-request timeout (s). */
#define BENCH_HTTP_TIMEOUT 30
/* Most names per order (--names). */
#define BENCH_MAX_NAMES 100
/* Most accounts and workers. */
#define BENCH_MAX_ACCOUNTS 100000
#define BENCH_MAX_CONCURRENCY 1024
/* Length of the random label of each name. */
#define BENCH_LABEL_LEN 12

/* ---- options (bench_opts.c) ---- */

enum bench_keytype {
	BENCH_KEY_P256 = 0,
	BENCH_KEY_P384,
	BENCH_KEY_RSA2048,
};

struct bench_opts {
	const char *directory;       /* --directory URL */
	const char *ca_bundle;       /* --ca-bundle FILE, NULL = system */
	int accounts;                /* --accounts, default: concurrency */
	int concurrency;             /* --concurrency */
	double duration;             /* --duration (s); 0 when unset */
	long certificates;           /* --certificates; 0 when unset */
	int names;                   /* --names per order */
	enum bench_keytype acct_key; /* --account-key es256|rs256 */
	enum bench_keytype cert_key; /* --cert-key p256|p384|rsa2048 */
	char responder_host[64];     /* --responder ADDR (numeric) */
	int responder_port;          /* --responder :PORT */
	bool always_valid;           /* --always-valid: no responder */
	int poll_interval_ms;        /* --poll-interval; 0 = Retry-After */
	int stall_timeout;           /* --stall-timeout (s); 0 = off */
	const char *domain_suffix;   /* --domain-suffix */
	bool json;                   /* --json */
	bool quiet;                  /* --quiet */
};

/* Parses the command line into OPTS (defaults filled in). Returns 0 to
 * run, 1 when --help or --version was printed (exit 0), -1 on a usage error
 * (already printed to stderr). OPTS borrows strings from ARGV. */
int bench_opts_parse(int argc, char **argv, struct bench_opts *opts);
/* The option name of a key type ("es256", "p384"...): ACCOUNT selects the
 * account spelling. */
const char *bench_keytype_name(enum bench_keytype t, bool account);

/* ---- keys, JWS and CSRs (bench_key.c) ---- */

/* An account key with what JWS signing needs. */
struct bench_key {
	EVP_PKEY *pkey;      /* owned; private key */
	enum cb_jwk_alg alg; /* ES256 or RS256 */
	struct cb_jwk jwk;   /* public JWK and thumbprint */
	json_t *jwk_obj;     /* owned; the JWK as a JSON object */
};

/* Generates a private key of type T. Returns NULL on failure (logged). */
EVP_PKEY *bench_pkey_generate(enum bench_keytype t);
/* Generates an account key of type T (P-256 or RSA 2048) into OUT.
 * Returns 0 or -1; OUT is cleared on failure. */
int bench_key_generate(
    enum bench_keytype t, struct bench_key *out) CB_MUSTCHECK;
/* Releases what KEY holds; safe on a zeroed struct. */
void bench_key_clear(struct bench_key *key);
/* A flattened JWS (RFC 7515 7.2.2) for ACME: protected header with alg,
 * nonce, url and KID (or the JWK when KID is NULL), PAYLOAD as given (NULL
 * or "" for POST-as-GET), signed with KEY (ES256 as raw R||S). Returns the
 * JSON text (caller frees) or NULL. Thread-safe: KEY is only read. */
char *bench_jws_encode(const struct bench_key *key, const char *kid,
    const char *nonce, const char *url, const char *payload);
/* A PKCS#10 CSR for NAMES (first one also the CN) with KEY's public key,
 * signed with KEY, as base64url DER. Caller frees; NULL on failure. */
char *bench_csr_encode(EVP_PKEY *key, char *const *names, size_t n);

/* ---- HTTPS client (bench_http.c) ---- */

/* One keep-alive connection (one curl easy handle) and its last response.
 * Not shared between threads. */
struct bench_http {
	CURL *curl;
	struct curl_slist *hdr_jose; /* Content-Type: application/jose+json */
	struct curl_slist *hdr_pem;  /* same, plus Accept: PEM chain */
	char errbuf[CURL_ERROR_SIZE];
	long status; /* HTTP status of the last response */
	char *body;  /* owned; NUL-terminated */
	size_t len, cap;
	bool too_large; /* the body exceeded BENCH_MAX_RESPONSE */
	char nonce[CB_MAX_NONCE_LEN + 1]; /* last Replay-Nonce seen */
	bool has_nonce;                   /* NONCE unused so far */
	char *location;           /* owned; Location of the last response */
	long retry_after;         /* seconds; -1 when absent */
	bool problem;             /* Content-Type application/problem+json */
	const atomic_bool *abort; /* when set, transfers stop at once */
};

/* Sets up H for requests, trusting CA_BUNDLE (NULL: the system's store).
 * When *ABORT (may be NULL) becomes true, a running transfer fails within
 * about a second. Returns 0 or -1. */
int bench_http_init(struct bench_http *h, const char *ca_bundle,
    const atomic_bool *abort) CB_MUSTCHECK;
/* Releases H. */
void bench_http_clear(struct bench_http *h);
/* GET URL. Returns 0 when a response arrived (any status), -1 on a
 * transport failure (detail in H->errbuf). */
int bench_http_get(struct bench_http *h, const char *url) CB_MUSTCHECK;
/* HEAD URL; as bench_http_get(). */
int bench_http_head(struct bench_http *h, const char *url) CB_MUSTCHECK;
/* POST BODY as application/jose+json; PEM asks for a PEM chain. As
 * bench_http_get(). */
int bench_http_post(struct bench_http *h, const char *url, const char *body,
    bool pem) CB_MUSTCHECK;

/* ---- HTTP-01 responder (bench_responder.c) ---- */

struct bench_responder;

/* Starts a thread answering GET /.well-known/acme-challenge/TOKEN on
 * HOST:PORT (numeric IPv4 or IPv6) from a table of tokens. Returns NULL on
 * failure (logged). PORT 0 picks a free port. */
struct bench_responder *bench_responder_start(const char *host, int port);
/* The port R listens on (useful when started with port 0). */
int bench_responder_port(const struct bench_responder *r);
/* Serves KEYAUTH for TOKEN until removed. Thread-safe. Returns 0 or -1
 * (token too long). */
int bench_responder_add(struct bench_responder *r, const char *token,
    const char *keyauth) CB_MUSTCHECK;
/* Stops serving TOKEN. Thread-safe; unknown tokens are ignored. */
void bench_responder_remove(struct bench_responder *r, const char *token);
/* Requests answered 200 and 404 so far. Thread-safe. */
void bench_responder_counts(
    struct bench_responder *r, uint64_t *found, uint64_t *missing);
/* Stops the thread and frees R; NULL is ignored. */
void bench_responder_stop(struct bench_responder *r);

/* ---- statistics (bench_stats.c) ---- */

enum bench_step {
	BENCH_STEP_NONCE = 0,
	BENCH_STEP_ACCOUNT,
	BENCH_STEP_ORDER,
	BENCH_STEP_AUTHZ,
	BENCH_STEP_CHALLENGE,
	BENCH_STEP_VALIDATION, /* challenge answered until authz valid */
	BENCH_STEP_FINALIZE,
	BENCH_STEP_ORDER_WAIT, /* finalize answered until order valid */
	BENCH_STEP_DOWNLOAD,
	BENCH_STEP_ISSUANCE, /* newOrder sent until certificate received */
	BENCH_STEP_COUNT
};

/* Failure kinds: the ACME problem types (enum cb_prob_type), then these. */
enum bench_err {
	BENCH_ERR_TRANSPORT = CB_PROB_TYPE_COUNT, /* connect, TLS, timeout */
	BENCH_ERR_HTTP,     /* unexpected status without a problem document */
	BENCH_ERR_PROTOCOL, /* response not as RFC 8555 says */
	BENCH_ERR_INVALID,  /* authorization or order invalid, no error given */
	BENCH_ERR_TIMEOUT,  /* polled longer than BENCH_POLL_TIMEOUT_MS */
	BENCH_ERR_OTHER_PROBLEM,
	/* a problem type this tool does not know */
	BENCH_ERR_LOCAL,   /* this tool failed (keys, CSR, responder) */
	BENCH_ERR_ABORTED, /* in flight when a stalled run was stopped */
	BENCH_ERR_COUNT
};

/* Latency histogram in microseconds: exact below 16 us, then 16 buckets
 * per power of two (at most 6.25% relative error), up to 2^43 us. Fixed
 * size, so memory does not grow with the number of samples. */
#define BENCH_HIST_SUB 16
#define BENCH_HIST_BUCKETS (BENCH_HIST_SUB * 41)

struct bench_hist {
	uint64_t count;
	uint64_t sum_us;
	uint64_t min_us;
	uint64_t max_us;
	uint32_t bucket[BENCH_HIST_BUCKETS];
};

/* One worker's counts; merged after the run. */
struct bench_stats {
	struct bench_hist hist[BENCH_STEP_COUNT];
	uint64_t errors[BENCH_ERR_COUNT];
	uint64_t issued;
	uint64_t failed;
	uint64_t requests;
	uint64_t bad_nonce_retries;
};

/* Adds one sample of US microseconds to H. */
void bench_hist_add(struct bench_hist *h, uint64_t us);
/* Adds SRC's samples to DST. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
/* The value (us) below which a fraction Q (0..1) of the samples lie, to
 * the histogram's precision, clamped to [min, max]; 0 when empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);
/* Adds SRC's counts to DST. */
void bench_stats_merge(struct bench_stats *dst, const struct bench_stats *src);
/* The report name of step S ("newOrder"...). */
const char *bench_step_name(enum bench_step s);
/* The report name of failure kind K ("badNonce", "transport"...). */
const char *bench_err_name(int k);

/* What the report shows besides the statistics. */
struct bench_summary {
	const struct bench_opts *opts;
	double elapsed;        /* s, from start of load to last worker done, or
  to the last issuance when the run stalled */
	bool stalled;          /* --stall-timeout ended the run */
	uint64_t resp_found;   /* responder: 200 answers */
	uint64_t resp_missing; /* responder: 404 answers */
};

/* Writes the human-readable report of ST to F. */
void bench_report_text(
    FILE *f, const struct bench_summary *sum, const struct bench_stats *st);
/* The report as a JSON object; caller owns the reference. */
json_t *bench_report_json(
    const struct bench_summary *sum, const struct bench_stats *st);

/* ---- the load (bench_acme.c) ---- */

/* URLs from the directory. */
struct bench_dir {
	char *new_nonce;
	char *new_account;
	char *new_order;
};

/* A registered account, shared read-only by all workers after setup. */
struct bench_account {
	struct bench_key key;
	char *kid; /* owned; the account URL */
};

/* State shared by the workers. */
struct bench_run {
	const struct bench_opts *opts;
	struct bench_dir dir;
	struct bench_account *accounts;    /* opts->accounts entries */
	struct bench_responder *responder; /* NULL with --always-valid */
	pthread_barrier_t ready;           /* workers + main: setup done */
	pthread_barrier_t go;              /* workers + main: deadline set */
	int64_t deadline_us; /* monotonic; 0 = none (set before ready) */
	atomic_long tickets; /* issuances left to start (--certificates) */
	atomic_ulong next_account; /* round-robin account choice */
	atomic_ulong issued;       /* for the progress line */
	atomic_ulong failed;
	atomic_int running; /* workers not finished */
	atomic_bool setup_failed;
	atomic_bool abort;                 /* stalled: stop, abort transfers */
	atomic_llong last_done_us;         /* when an issuance last ended */
	const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
};

/* One load thread. */
struct bench_worker {
	int id;
	struct bench_run *run;
	struct bench_http http;
	struct bench_stats stats;
	EVP_PKEY *cert_keys[BENCH_CERT_KEYS];
	unsigned next_key;
	uint64_t rng;                 /* xorshift state for names */
	int err;                      /* first failure kind of this issuance */
	bool logged[BENCH_ERR_COUNT]; /* kinds already logged at WARNING */
	pthread_t thread;
};

/* Fetches the directory at URL into DIR with H. Returns 0 or -1 (logged). */
int bench_dir_fetch(
    struct bench_http *h, const char *url, struct bench_dir *dir) CB_MUSTCHECK;
/* Releases DIR. */
void bench_dir_clear(struct bench_dir *dir);
/* Prepares W (HTTPS handle, certificate keys). Returns 0 or -1. */
int bench_worker_init(
    struct bench_worker *w, struct bench_run *run, int id) CB_MUSTCHECK;
/* Releases W. */
void bench_worker_clear(struct bench_worker *w);
/* Generates a key and registers the account A through W. Returns 0 or -1
 * (counted in W's statistics). */
int bench_account_create(
    struct bench_worker *w, struct bench_account *a) CB_MUSTCHECK;
/* Releases A. */
void bench_account_clear(struct bench_account *a);
/* One complete issuance through W with account A: newOrder, authorizations,
 * challenges, validation, finalize, download. Counts the outcome and the
 * latencies in W->stats. Returns 0 or -1. */
int bench_issue(struct bench_worker *w, const struct bench_account *a);
/* Monotonic clock in microseconds. */
int64_t bench_now_us(void);

#endif
