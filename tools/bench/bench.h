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

#include <jansson.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

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
/* Per-request timeout, and connection set-up timeout (s). */
#define BENCH_HTTP_TIMEOUT 30
#define BENCH_HTTP_CONNECT_TIMEOUT 10
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
	const char *challenge;       /* --challenge http-01, dns-01... */
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

/* ---- byte buffers (bench_buf.c) ---- */

/* Bytes that grow as they are appended (cb_reallocarray: never fails);
 * a zeroed struct is empty. */
struct bench_buf {
	char *p; /* owned */
	size_t len, cap;
};

/* Appends N bytes of DATA to B. */
void bench_buf_put(struct bench_buf *b, const void *data, size_t n);
/* Appends the string S to B (without its NUL). */
void bench_buf_puts(struct bench_buf *b, const char *s);
/* Appends S as a JSON string (RFC 8259 7): in quotes, with quotes,
 * backslashes and control characters escaped; other bytes as they are. */
void bench_buf_json_string(struct bench_buf *b, const char *s);
/* Appends a NUL and hands the text over: returns B's bytes (caller frees)
 * and leaves B empty. */
char *bench_buf_take(struct bench_buf *b);
/* Releases B's bytes; B is empty after. */
void bench_buf_clear(struct bench_buf *b);

/* ---- keys, JWS and CSRs (bench_key.c, bench_csr.c) ---- */

/* Largest signature a bench key makes (RSA 4096 bits). */
#define BENCH_MAX_SIG 512

/* A private key set up once for many signatures. OpenSSL 3 fetches the
 * algorithms on every EVP_DigestSignInit(); this keeps one EVP_PKEY_CTX
 * ready for EVP_PKEY_sign() over SHA-256 digests. Thread-safe. */
struct bench_signer;

/* Prepares KEY (EC or RSA) for signing; the signer holds its own
 * reference to KEY. Returns NULL on failure (logged). */
struct bench_signer *bench_signer_new(EVP_PKEY *key);
/* Frees S; NULL is ignored. */
void bench_signer_free(struct bench_signer *s);
/* Signs the SHA-256 digest of DATA (LEN bytes) into SIG (BENCH_MAX_SIG
 * bytes): ECDSA as a DER ECDSA-Sig-Value, RSA as PKCS#1 v1.5. Sets
 * *SIGLEN. Returns 0 or -1 (logged). Thread-safe. */
int bench_signer_sign(struct bench_signer *s, const unsigned char *data,
    size_t len, unsigned char *sig, size_t *siglen) CB_MUSTCHECK;

/* An account key with what JWS signing needs. */
struct bench_key {
	EVP_PKEY *pkey;              /* owned; private key */
	struct bench_signer *signer; /* owned; for PKEY */
	enum cb_jwk_alg alg;         /* ES256 or RS256 */
	struct cb_jwk jwk;           /* public JWK, its JSON and thumbprint */
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
 * JSON text (caller frees) or NULL. Thread-safe: KEY's signer locks. */
char *bench_jws_encode(const struct bench_key *key, const char *kid,
    const char *nonce, const char *url, const char *payload);

/* A certificate key: the private key, a signer for it and its encoded
 * SubjectPublicKeyInfo, so that a CSR costs one signature and no
 * re-encoding of the key. */
struct bench_cert_key {
	EVP_PKEY *pkey;              /* owned */
	struct bench_signer *signer; /* owned; for PKEY */
	unsigned char *spki;         /* owned; DER SubjectPublicKeyInfo */
	size_t spki_len;
	bool rsa; /* sha256WithRSAEncryption, else ecdsa-with-SHA256 */
};

/* Generates a certificate key of type T into OUT. Returns 0 or -1 (logged);
 * OUT is cleared on failure. */
int bench_cert_key_generate(
    enum bench_keytype t, struct bench_cert_key *out) CB_MUSTCHECK;
/* Releases what KEY holds; safe on a zeroed struct. */
void bench_cert_key_clear(struct bench_cert_key *key);
/* A PKCS#10 CSR (RFC 2986) for NAMES (first one also the CN when at most
 * 64 characters) with KEY's public key, signed with KEY using SHA-256, as
 * base64url DER. Caller frees; NULL on failure. Thread-safe. */
char *bench_csr_encode(
    const struct bench_cert_key *key, char *const *names, size_t n);

/* ---- HTTPS client (bench_http.c) ---- */

/* Read buffer of a connection; also the longest response header block. */
#define BENCH_HTTP_BUF 16384
#define BENCH_HTTP_ERRBUF 256

/* Outcomes of the non-blocking calls. */
enum bench_http_rc {
	BENCH_HTTP_OK = 0,     /* the response is complete */
	BENCH_HTTP_ERR = -1,   /* transport failure; detail in errbuf */
	BENCH_HTTP_AGAIN = -2, /* waiting for the socket: see bench_http */
};

/* Where a request is (private to bench_http.c). */
enum bench_http_phase {
	BENCH_HTTP_IDLE = 0,
	BENCH_HTTP_CONNECT,
	BENCH_HTTP_TLS,
	BENCH_HTTP_SEND,
	BENCH_HTTP_HEAD,
	BENCH_HTTP_BODY,
};

/* One keep-alive HTTP/1.1 connection (TLS for https URLs), the request in
 * flight and its response. Requests run without blocking: when a call
 * answers BENCH_HTTP_AGAIN, wait until FD is ready (for writing when
 * WANT_WRITE, else reading) or up to a second, then call bench_http_step().
 * FD changes when GEN does (a new socket: watch it). Not shared between
 * threads. */
struct bench_http {
	int fd;              /* -1 when not connected */
	uint64_t gen;        /* sockets opened so far */
	bool want_write;     /* with BENCH_HTTP_AGAIN: wait for writability */
	int64_t deadline_us; /* the request fails after this (monotonic) */
	uint64_t connects;   /* connections established so far */
	char errbuf[BENCH_HTTP_ERRBUF];
	/* the last response */
	long status; /* HTTP status */
	char *body;  /* owned; NUL-terminated, never NULL after a request */
	size_t len, cap;
	bool too_large; /* the body exceeded BENCH_MAX_RESPONSE */
	char nonce[CB_MAX_NONCE_LEN + 1]; /* last Replay-Nonce seen */
	bool has_nonce;                   /* NONCE unused so far */
	char *location;           /* owned; Location of the last response */
	long retry_after;         /* seconds; -1 when absent */
	bool problem;             /* Content-Type application/problem+json */
	const atomic_bool *abort; /* when set, transfers stop within 1 s */
	/* private to bench_http.c */
	SSL_CTX *ssl_ctx;         /* owned; trusts the CA bundle */
	SSL *ssl;                 /* owned; NULL unless a TLS connection */
	char *origin;             /* owned; "scheme://authority" of FD */
	char *url;                /* owned; of the request in flight */
	struct addrinfo *addrs;   /* owned; while connecting */
	struct addrinfo *addr;    /* the address being tried */
	int64_t connect_deadline; /* while connecting */
	enum bench_http_phase phase;
	bool head;    /* a HEAD request: no body */
	bool reused;  /* sent on a kept-alive connection */
	bool retried; /* sent again on a new connection */
	char *req;    /* owned; the request */
	size_t req_len, req_off, req_cap;
	char in[BENCH_HTTP_BUF]; /* bytes read, not consumed yet */
	size_t in_off, in_len;
	bool got_bytes;      /* a byte of the response arrived */
	int body_mode;       /* how the body ends */
	long long remaining; /* body or chunk bytes still due */
	bool close;          /* close the connection after it */
};

/* A TLS client context trusting CA_BUNDLE (NULL: the system's store),
 * checking the server's certificate, TLS 1.2 or later; shared by all
 * connections, so the roots are read once. Returns NULL on failure
 * (logged); free with SSL_CTX_free(). */
SSL_CTX *bench_tls_ctx_new(const char *ca_bundle);
/* Sets up H for requests over TLS contexts made from CTX (H keeps a
 * reference). When *ABORT (may be NULL) becomes true, a running transfer
 * fails within about a second. */
void bench_http_init(
    struct bench_http *h, SSL_CTX *ctx, const atomic_bool *abort);
/* Closes H's connection; a request in flight is dropped. The next request
 * opens a new connection. */
void bench_http_close(struct bench_http *h);
/* Releases H (closes its connection); safe on a zeroed struct. */
void bench_http_clear(struct bench_http *h);
/* Starts METHOD ("GET", "HEAD" or "POST") of URL on H, reusing H's
 * connection when it goes to the same origin. A POST sends BODY as
 * application/jose+json; PEM asks for a PEM certificate chain. Returns as
 * bench_http_step(). BODY is copied. */
enum bench_http_rc bench_http_start(struct bench_http *h, const char *method,
    const char *url, const char *body, bool pem) CB_MUSTCHECK;
/* Advances the request in flight as far as the socket allows. Returns
 * BENCH_HTTP_OK when a response arrived (any status), BENCH_HTTP_AGAIN
 * (see struct bench_http), or BENCH_HTTP_ERR on a transport failure,
 * time-out or abort. */
enum bench_http_rc bench_http_step(struct bench_http *h) CB_MUSTCHECK;
/* GET URL and wait for the response. Returns 0 when a response arrived
 * (any status), -1 on a transport failure (detail in H->errbuf). */
int bench_http_get(struct bench_http *h, const char *url) CB_MUSTCHECK;
/* HEAD URL; as bench_http_get(). */
int bench_http_head(struct bench_http *h, const char *url) CB_MUSTCHECK;
/* POST BODY as application/jose+json; PEM asks for a PEM chain. As
 * bench_http_get(). */
int bench_http_post(struct bench_http *h, const char *url, const char *body,
    bool pem) CB_MUSTCHECK;

/* Reads, as the response to a request already sent (HEAD: no body), what
 * arrives on FD, a connected stream socket without TLS that H takes over
 * (it is closed with H's connection). As bench_http_get(). For the fuzz
 * target, which writes the bytes of the response itself. */
int bench_http_read_response(
    struct bench_http *h, int fd, bool head) CB_MUSTCHECK;

/* ---- the challenge responder (bench_responder.c, bench_alpn.c) ---- */

struct bench_responder;

/* What the responder answers. */
enum bench_resp_kind {
	BENCH_RESP_HTTP01 = 0, /* GET /.well-known/acme-challenge/TOKEN */
	BENCH_RESP_TLSALPN01,  /* TLS handshakes, ALPN acme-tls/1, by SNI */
};

/* Starts a thread answering on HOST:PORT (numeric IPv4 or IPv6) from a
 * table of key authorizations: for HTTP-01, GET
 * /.well-known/acme-challenge/TOKEN by token (RFC 8555 8.3); for
 * TLS-ALPN-01, a TLS handshake by the name in SNI (RFC 8737). Returns NULL
 * on failure (logged). PORT 0 picks a free port. */
struct bench_responder *bench_responder_start(
    const char *host, int port, enum bench_resp_kind kind);
/* The port R listens on (useful when started with port 0). */
int bench_responder_port(const struct bench_responder *r);
/* Serves KEYAUTH for KEY (the token for HTTP-01, the name for
 * TLS-ALPN-01) until removed. Thread-safe. Returns 0 or -1 (key too
 * long). */
int bench_responder_add(struct bench_responder *r, const char *key,
    const char *keyauth) CB_MUSTCHECK;
/* Stops serving KEY. Thread-safe; unknown keys are ignored. */
void bench_responder_remove(struct bench_responder *r, const char *key);
/* The key authorization served for KEY, copied, and counted as found;
 * NULL (counted as missing) when there is none. Thread-safe. */
char *bench_responder_find(struct bench_responder *r, const char *key);
/* Requests answered 200 and 404 so far. Thread-safe. */
void bench_responder_counts(
    struct bench_responder *r, uint64_t *found, uint64_t *missing);
/* The response to REQ, a request's header block (NUL-terminated): 200
 * with the key authorization when it is GET of a known token's path, 404
 * otherwise; counted as found or missing. Caller frees. Thread-safe; the
 * responder's thread answers with it, the fuzz target calls it directly. */
char *bench_responder_reply(struct bench_responder *r, const char *req);
/* Stops the thread and frees R; NULL is ignored. */
void bench_responder_stop(struct bench_responder *r);

struct bench_alpn;

/* The self-signed TLS-ALPN-01 certificate for NAME (RFC 8737 3): NAME as
 * its only subjectAltName, the SHA-256 digest of KEYAUTH in the critical
 * acmeIdentifier extension, signed by KEY. NULL on failure. */
X509 *bench_alpn_cert(const char *name, const char *keyauth, EVP_PKEY *key);
/* A TLS server context for R: ALPN acme-tls/1 only, each certificate made
 * for the SNI name from R's table. NULL on failure (logged). */
struct bench_alpn *bench_alpn_new(struct bench_responder *r);
/* A server-side TLS connection over accepted socket FD (-1: none yet,
 * the caller sets BIOs); NULL on failure. */
SSL *bench_alpn_ssl(struct bench_alpn *a, int fd);
void bench_alpn_free(struct bench_alpn *a);

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
	uint64_t retry_after_waits; /* pauses a refusal's Retry-After asked */
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
	char *ident;     /* the identifier's value (a DNS name) */
	char *chall_url; /* the challenge of --challenge's type */
	char *token;
	int error; /* problem type of a challenge's "error", if any */
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
	SSL_CTX *tls;                      /* owned; for every connection */
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

/* What a worker waits for. */
enum bench_wait {
	BENCH_WAIT_NONE = 0, /* nothing: idle */
	BENCH_WAIT_HTTP,     /* its request (HTTP, the socket in the loop) */
	BENCH_WAIT_TIMER,    /* until WAKE_US */
};

struct bench_flow; /* what a worker is doing (bench_acme.c) */
struct bench_loop;

/* One stream of issuances, one after the other (--concurrency of them),
 * with its own keep-alive connection. Driven by one event loop. */
struct bench_worker {
	int id;
	struct bench_run *run;
	struct bench_loop *loop; /* the loop driving it */
	struct bench_http http;
	struct bench_stats stats;
	struct bench_cert_key cert_keys[BENCH_CERT_KEYS];
	unsigned next_key;
	uint64_t rng;                 /* xorshift state for names */
	int err;                      /* first failure kind of this issuance */
	bool logged[BENCH_ERR_COUNT]; /* kinds already logged at WARNING */
	struct bench_flow *flow;      /* owned */
	enum bench_wait wait;
	int64_t wake_us;   /* BENCH_WAIT_TIMER: monotonic */
	bool done_pending; /* the request ended in bench_http_start() */
	enum bench_http_rc done_rc;
	uint64_t watched_gen; /* HTTP's socket in the loop's epoll set */
	bool next_issue;      /* the timer starts the next issuance */
};

/* An event loop (one thread) driving several workers: their sockets in one
 * epoll set, their timers, and what follows when a request ends. */
struct bench_loop {
	struct bench_run *run;
	struct bench_worker **ws; /* owned array; the workers are borrowed */
	int n;
	int epfd;
	pthread_t thread;
};

/* The parsers of what an ACME server answers, each bounded by
 * BENCH_MAX_NAMES and CB_MAX_URL_LEN; they return 0 or -1 (the object
 * lacks what an issuance needs). */
/* Fills DIR from directory object D; on failure DIR is empty. */
int bench_dir_parse(const json_t *d, struct bench_dir *dir) CB_MUSTCHECK;
/* Fills O from an order object J (keeps O->url). */
int bench_order_parse(const json_t *j, struct bench_order *o) CB_MUSTCHECK;
/* Releases O's strings and zeroes it. */
void bench_order_clear(struct bench_order *o);
/* Fills A from an authorization object J: its status, its identifier's
 * value, the URL and token of the first challenge of type TYPE
 * ("http-01"...) that has both, and the first challenge error's type. */
int bench_authz_parse(
    const json_t *j, const char *type, struct bench_authz *a) CB_MUSTCHECK;
/* Releases A's strings and zeroes it. */
void bench_authz_clear(struct bench_authz *a);
/* Fetches the directory at URL into DIR with H. Returns 0 or -1 (logged). */
int bench_dir_fetch(
    struct bench_http *h, const char *url, struct bench_dir *dir) CB_MUSTCHECK;
/* Releases DIR. */
void bench_dir_clear(struct bench_dir *dir);
/* Releases A. */
void bench_account_clear(struct bench_account *a);
/* Monotonic clock in microseconds. */
int64_t bench_now_us(void);

/* The ACME flow (bench_acme.c), step by step; each call returns once W
 * waits (request or timer) or is done. */
/* Allocates W's flow state. */
struct bench_flow *bench_flow_new(void);
/* Frees F (and what an unfinished issuance holds); NULL is ignored. */
void bench_flow_free(struct bench_flow *f);
/* Registers W's share of the accounts (I, I + concurrency, ...), one
 * after the other; a failure is counted and sets the run's
 * setup_failed. */
void bench_flow_accounts(struct bench_worker *w);
/* Starts one issuance with the next account in turn: newOrder,
 * authorizations, challenges, validation, finalize, download. Its end is
 * reported with bench_worker_done(). */
void bench_flow_issue(struct bench_worker *w);
/* W's request ended with R (BENCH_HTTP_OK or BENCH_HTTP_ERR). */
void bench_flow_http(struct bench_worker *w, enum bench_http_rc r);
/* W's timer expired. */
void bench_flow_wake(struct bench_worker *w);

/* Workers and loops (bench_loop.c). */
/* Prepares W (HTTPS handle, certificate keys, flow). Returns 0 or -1. */
int bench_worker_init(
    struct bench_worker *w, struct bench_run *run, int id) CB_MUSTCHECK;
/* Releases W; safe on a zeroed struct. */
void bench_worker_clear(struct bench_worker *w);
/* Starts W's request (as bench_http_start()); W then waits for it. */
void bench_worker_request(struct bench_worker *w, const char *method,
    const char *url, const char *body, bool pem);
/* W waits MS milliseconds, then bench_flow_wake() is called. */
void bench_worker_sleep(struct bench_worker *w, long ms);
/* W's issuance ended (RC 0: issued): counts it, and W goes on with the
 * next one while the run lasts (after a pause when the server was
 * unreachable). */
void bench_worker_done(struct bench_worker *w, int rc);
/* Prepares L for RUN. Returns 0 or -1 (logged). */
int bench_loop_init(struct bench_loop *l, struct bench_run *run) CB_MUSTCHECK;
/* Releases L (not its workers); safe on a zeroed struct. */
void bench_loop_clear(struct bench_loop *l);
/* Makes L drive W. */
void bench_loop_add(struct bench_loop *l, struct bench_worker *w);
/* Registers the accounts of L's workers; returns when all are done. */
void bench_loop_accounts(struct bench_loop *l);
/* Runs issuances on L's workers until the run ends (duration, count,
 * signal or stall); counts the finished workers in the run. */
void bench_loop_issue(struct bench_loop *l);

#endif
