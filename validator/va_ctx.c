/* SPDX-License-Identifier: ISC */
/* The validator context (one c-ares channel and one curl handle per worker)
 * and the entry point that dispatches a task to its challenge type. */
#include "va.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cb_log.h"
#include "va_int.h"

#define VA_DEFAULT_TIMEOUT_MS 30000
/* Per-try DNS timeout bounds; c-ares retries with backoff until the
 * validation's deadline. */
#define VA_DNS_TRY_MIN_MS 100
#define VA_DNS_TRY_MAX_MS 2000
#define VA_DNS_TRIES 3

int64_t
va_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
va_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
va_dns_init(struct va_ctx *va)
{
	struct ares_options opts;
	int st, try_ms = va->cfg.timeout_ms / 4;

	if (try_ms < VA_DNS_TRY_MIN_MS)
		try_ms = VA_DNS_TRY_MIN_MS;
	if (try_ms > VA_DNS_TRY_MAX_MS)
		try_ms = VA_DNS_TRY_MAX_MS;
	memset(&opts, 0, sizeof(opts));
	opts.timeout = try_ms;
	opts.tries = VA_DNS_TRIES;
	/* Hand SERVFAIL and REFUSED to us as such (a validation fails on
	 * them) instead of retrying and reporting "connection refused". */
	opts.flags = ARES_FLAG_NOCHECKRESP;
	st = ares_init_options(&va->channel, &opts,
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
	if (st != ARES_SUCCESS) {
		va->channel = NULL;
		cb_log(
		    LOG_ERR, "validator: c-ares init: %s", ares_strerror(st));
		return -1;
	}
	if (va->cfg.dns_server[0] == '\0')
		return 0;
	st = ares_set_servers_ports_csv(va->channel, va->cfg.dns_server);
	if (st != ARES_SUCCESS) {
		cb_log(LOG_ERR, "validator: DNS server \"%s\": %s",
		    va->cfg.dns_server, ares_strerror(st));
		return -1;
	}
	return 0;
}

struct va_ctx *
va_new(const struct va_config *cfg)
{
	struct va_ctx *va = NULL;
	CURLcode cc;

	va = cb_calloc(1, sizeof(*va));
	va->cfg = *cfg;
	va->dns_server_buf =
	    cb_strdup(cfg->dns_server != NULL ? cfg->dns_server : "");
	va->cfg.dns_server = va->dns_server_buf;
	if (va->cfg.timeout_ms <= 0)
		va->cfg.timeout_ms = VA_DEFAULT_TIMEOUT_MS;
	if (va->cfg.http01_port <= 0 || va->cfg.http01_port > 65535)
		va->cfg.http01_port = 80;
	va->addr_policy.allow_loopback = cfg->allow_loopback;
	va->addr_policy.allow_private = cfg->allow_private;
	if (va_dns_init(va) != 0)
		goto fail;
	/* Reference-counted; thread-safe in the curl versions we support. */
	cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		cb_log(LOG_ERR, "validator: curl init: %s",
		    curl_easy_strerror(cc));
		goto fail;
	}
	va->curl_global = true;
	va->curl = curl_easy_init();
	if (va->curl == NULL) {
		cb_log(LOG_ERR, "validator: curl_easy_init failed");
		goto fail;
	}
	return va;
fail:
	va_free(va);
	return NULL;
}

void
va_free(struct va_ctx *va)
{
	if (va == NULL)
		return;
	if (va->curl != NULL)
		curl_easy_cleanup(va->curl);
	if (va->curl_global)
		curl_global_cleanup();
	if (va->channel != NULL)
		ares_destroy(va->channel);
	free(va->dns_server_buf);
	free(va);
}

void
va_result_clear(struct va_result *res)
{
	if (res == NULL)
		return;
	free(res->record_json);
	res->record_json = NULL;
	res->valid = false;
	cb_problem_init(&res->prob);
}

/* Test mode: no request at all, one record saying so. */
static int
va_always_valid(const struct va_task *task, struct va_result *res)
{
	json_t *rec = NULL;
	int rc = -1;

	rec = json_pack("[{s:s, s:s}]", "hostname",
	    task->ident_value != NULL ? task->ident_value : "", "note",
	    "test mode (validator.test_always_valid): not checked");
	if (rec == NULL)
		rec = json_pack("[{s:s}]", "note",
		    "test mode (validator.test_always_valid): not checked");
	if (rec != NULL)
		res->record_json = json_dumps(rec, JSON_COMPACT);
	if (res->record_json == NULL) {
		cb_log(LOG_ERR, "validator: cannot build a validation record");
		cb_problem_set(&res->prob, CB_PROB_SERVER_INTERNAL,
		    "Internal error building the validation record");
		goto out;
	}
	res->valid = true;
	rc = 0;
out:
	json_decref(rec);
	return rc;
}

static void
va_log_outcome(
    const struct va_task *task, const struct va_result *res, int64_t started)
{
	char ident[128];

	cb_log(LOG_INFO,
	    "validation type=%s ident=%s valid=%s problem=%s ms=%lld",
	    task->challenge_type,
	    cb_log_escape(task->ident_value != NULL ? task->ident_value : "",
	        ident, sizeof(ident)),
	    res->valid ? "true" : "false",
	    res->valid ? "-" : cb_prob_type_name(res->prob.type),
	    (long long)(va_now_ms() - started));
}

int
va_validate(
    struct va_ctx *va, const struct va_task *task, struct va_result *res)
{
	int64_t started;
	int rc = -1;

	res->valid = false;
	res->record_json = NULL;
	cb_problem_init(&res->prob);
	if (task == NULL || task->challenge_type == NULL) {
		cb_log(LOG_ERR, "validator: task without a challenge type");
		return cb_problem_set(&res->prob, CB_PROB_SERVER_INTERNAL,
		    "Internal error: incomplete validation task");
	}
	if (va->cfg.delay_ms > 0)
		va_sleep_ms(va->cfg.delay_ms);
	started = va_now_ms();
	if (va->cfg.always_valid) {
		rc = va_always_valid(task, res);
	} else if (strcmp(task->challenge_type, "http-01") == 0) {
		rc = va_http01_validate(
		    va, task, started + va->cfg.timeout_ms, res);
	} else {
		res->record_json = cb_strdup("[]");
		cb_problem_set(&res->prob, CB_PROB_MALFORMED,
		    "unsupported challenge type");
		rc = 0;
	}
	if (cb_problem_is_set(&res->prob) && task->ident_type != NULL &&
	    task->ident_value != NULL)
		cb_problem_set_ident(
		    &res->prob, task->ident_type, task->ident_value);
	va_log_outcome(task, res, started);
	return rc;
}
