/* SPDX-License-Identifier: ISC */
/* Latency histograms, error counts and the final report (text and JSON).
 * Each worker fills its own struct bench_stats without locks; the main
 * thread merges them after the run. */
#include "bench.h"

#include <string.h>

static const char *const bench_step_names[BENCH_STEP_COUNT] = {
    [BENCH_STEP_NONCE] = "newNonce",
    [BENCH_STEP_ACCOUNT] = "newAccount",
    [BENCH_STEP_ORDER] = "newOrder",
    [BENCH_STEP_AUTHZ] = "authz",
    [BENCH_STEP_CHALLENGE] = "challenge",
    [BENCH_STEP_VALIDATION] = "validationWait",
    [BENCH_STEP_FINALIZE] = "finalize",
    [BENCH_STEP_ORDER_WAIT] = "orderWait",
    [BENCH_STEP_DOWNLOAD] = "download",
    [BENCH_STEP_ISSUANCE] = "issuance",
};

static const char *const bench_err_names[] = {
    [BENCH_ERR_TRANSPORT - CB_PROB_TYPE_COUNT] = "transport",
    [BENCH_ERR_HTTP - CB_PROB_TYPE_COUNT] = "httpStatus",
    [BENCH_ERR_PROTOCOL - CB_PROB_TYPE_COUNT] = "protocol",
    [BENCH_ERR_INVALID - CB_PROB_TYPE_COUNT] = "invalid",
    [BENCH_ERR_TIMEOUT - CB_PROB_TYPE_COUNT] = "pollTimeout",
    [BENCH_ERR_OTHER_PROBLEM - CB_PROB_TYPE_COUNT] = "otherProblem",
    [BENCH_ERR_LOCAL - CB_PROB_TYPE_COUNT] = "local",
    [BENCH_ERR_ABORTED - CB_PROB_TYPE_COUNT] = "aborted",
};

const char *
bench_step_name(enum bench_step s)
{
	return s < BENCH_STEP_COUNT ? bench_step_names[s] : "?";
}

const char *
bench_err_name(int k)
{
	if (k > CB_PROB_NONE && k < CB_PROB_TYPE_COUNT)
		return cb_prob_type_name((enum cb_prob_type)k);
	if (k >= CB_PROB_TYPE_COUNT && k < BENCH_ERR_COUNT)
		return bench_err_names[k - CB_PROB_TYPE_COUNT];
	return "?";
}

/* Values below BENCH_HIST_SUB are exact; above, a value with its top bit
 * at position p lands in row p-3, column = its next four bits. */
static size_t
bench_hist_index(uint64_t v)
{
	int shift;

	if (v < BENCH_HIST_SUB)
		return (size_t)v;
	shift = 63 - __builtin_clzll(v) - 4;
	if ((size_t)shift * BENCH_HIST_SUB + 2 * BENCH_HIST_SUB >
	    BENCH_HIST_BUCKETS)
		return BENCH_HIST_BUCKETS - 1;
	return (size_t)shift * BENCH_HIST_SUB + (size_t)(v >> shift);
}

/* The middle of bucket I's value range. */
static uint64_t
bench_hist_value(size_t i)
{
	size_t shift;
	uint64_t low;

	if (i < BENCH_HIST_SUB)
		return i;
	shift = i / BENCH_HIST_SUB - 1;
	low = (uint64_t)(i % BENCH_HIST_SUB + BENCH_HIST_SUB) << shift;
	return low + ((1ull << shift) - 1) / 2;
}

void
bench_hist_add(struct bench_hist *h, uint64_t us)
{
	if (h->count == 0 || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	h->count++;
	h->sum_us += us;
	h->bucket[bench_hist_index(us)]++;
}

void
bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min_us < dst->min_us)
		dst->min_us = src->min_us;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
	dst->count += src->count;
	dst->sum_us += src->sum_us;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
}

uint64_t
bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, seen = 0, v;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min_us;
	if (q >= 1)
		return h->max_us;
	/* The smallest value with at least ceil(q * count) samples <= it. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			v = bench_hist_value(i);
			if (v < h->min_us)
				v = h->min_us;
			if (v > h->max_us)
				v = h->max_us;
			return v;
		}
	}
	return h->max_us;
}

void
bench_stats_merge(struct bench_stats *dst, const struct bench_stats *src)
{
	for (int s = 0; s < BENCH_STEP_COUNT; s++)
		bench_hist_merge(&dst->hist[s], &src->hist[s]);
	for (int k = 0; k < BENCH_ERR_COUNT; k++)
		dst->errors[k] += src->errors[k];
	dst->issued += src->issued;
	dst->failed += src->failed;
	dst->requests += src->requests;
	dst->bad_nonce_retries += src->bad_nonce_retries;
	dst->retry_after_waits += src->retry_after_waits;
}

static double
bench_ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static double
bench_rate(uint64_t n, double elapsed)
{
	return elapsed > 0 ? (double)n / elapsed : 0.0;
}

static void
bench_report_steps(FILE *f, const struct bench_stats *st)
{
	fprintf(f, "\n%-16s %8s %9s %9s %9s %9s %9s\n", "latency (ms)", "count",
	    "mean", "p50", "p90", "p99", "max");
	for (int s = 0; s < BENCH_STEP_COUNT; s++) {
		const struct bench_hist *h = &st->hist[s];

		if (h->count == 0)
			continue;
		fprintf(f, "%-16s %8llu %9.2f %9.2f %9.2f %9.2f %9.2f\n",
		    bench_step_name((enum bench_step)s),
		    (unsigned long long)h->count,
		    bench_ms(h->sum_us) / (double)h->count,
		    bench_ms(bench_hist_quantile(h, 0.50)),
		    bench_ms(bench_hist_quantile(h, 0.90)),
		    bench_ms(bench_hist_quantile(h, 0.99)),
		    bench_ms(h->max_us));
	}
}

void
bench_report_text(
    FILE *f, const struct bench_summary *sum, const struct bench_stats *st)
{
	const struct bench_opts *o = sum->opts;
	uint64_t nerr = 0;

	fprintf(f, "cobble-bench against %s\n", o->directory);
	fprintf(f,
	    "  concurrency %d, accounts %d (%s), cert keys %s, %d name(s) "
	    "per order, %s %s\n",
	    o->concurrency, o->accounts, bench_keytype_name(o->acct_key, true),
	    bench_keytype_name(o->cert_key, false), o->names, o->challenge,
	    o->always_valid ? "in the server's always-valid mode"
	                    : "via the built-in responder");
	fprintf(f,
	    "  elapsed %.2f s, %llu issued, %llu failed, %llu requests "
	    "(%.1f/s), %llu badNonce retries, %llu Retry-After pauses\n",
	    sum->elapsed, (unsigned long long)st->issued,
	    (unsigned long long)st->failed, (unsigned long long)st->requests,
	    bench_rate(st->requests, sum->elapsed),
	    (unsigned long long)st->bad_nonce_retries,
	    (unsigned long long)st->retry_after_waits);
	fprintf(
	    f, "  issuances/s: %.1f\n", bench_rate(st->issued, sum->elapsed));
	if (sum->stalled)
		fprintf(f,
		    "  STALLED: no issuance ended for %d s; the run was "
		    "stopped and rates cover the %.2f s before\n",
		    o->stall_timeout, sum->elapsed);
	if (!o->always_valid)
		fprintf(f, "  responder: %llu answered, %llu unknown tokens\n",
		    (unsigned long long)sum->resp_found,
		    (unsigned long long)sum->resp_missing);
	for (int k = 0; k < BENCH_ERR_COUNT; k++) {
		if (st->errors[k] == 0)
			continue;
		if (nerr == 0)
			fprintf(f, "  errors:");
		fprintf(f, " %s=%llu", bench_err_name(k),
		    (unsigned long long)st->errors[k]);
		nerr += st->errors[k];
	}
	if (nerr != 0)
		fprintf(f, "\n");
	bench_report_steps(f, st);
}

static json_t *
bench_hist_json(const struct bench_hist *h)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "count",
	    (json_int_t)h->count, "mean",
	    h->count ? bench_ms(h->sum_us) / (double)h->count : 0.0, "min",
	    bench_ms(h->min_us), "p50", bench_ms(bench_hist_quantile(h, 0.5)),
	    "p90", bench_ms(bench_hist_quantile(h, 0.9)), "p99",
	    bench_ms(bench_hist_quantile(h, 0.99)), "max", bench_ms(h->max_us));
}

static json_t *
bench_config_json(const struct bench_opts *o)
{
	return json_pack(
	    "{s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:f, s:I, s:i}",
	    "directory", o->directory, "concurrency", o->concurrency,
	    "accounts", o->accounts, "names_per_order", o->names, "account_key",
	    bench_keytype_name(o->acct_key, true), "cert_key",
	    bench_keytype_name(o->cert_key, false), "challenge", o->challenge,
	    "validation", o->always_valid ? "always-valid" : o->challenge,
	    "poll_interval_ms", o->poll_interval_ms, "duration", o->duration,
	    "certificates", (json_int_t)o->certificates, "stall_timeout",
	    o->stall_timeout);
}

json_t *
bench_report_json(const struct bench_summary *sum, const struct bench_stats *st)
{
	json_t *root = NULL, *errs = NULL, *lat = NULL;
	uint64_t nerr = 0;

	errs = json_object();
	lat = json_object();
	if (errs == NULL || lat == NULL)
		goto out;
	for (int k = 0; k < BENCH_ERR_COUNT; k++) {
		if (st->errors[k] == 0)
			continue;
		nerr += st->errors[k];
		json_object_set_new(errs, bench_err_name(k),
		    json_integer((json_int_t)st->errors[k]));
	}
	for (int s = 0; s < BENCH_STEP_COUNT; s++)
		json_object_set_new(lat, bench_step_name((enum bench_step)s),
		    bench_hist_json(&st->hist[s]));
	root = json_pack(
	    "{s:o, s:f, s:I, s:I, s:f, s:I, s:O, s:I, s:I, s:I, s:O}", "config",
	    bench_config_json(sum->opts), "elapsed_s", sum->elapsed, "issued",
	    (json_int_t)st->issued, "failed", (json_int_t)st->failed,
	    "issuances_per_s", bench_rate(st->issued, sum->elapsed), "errors",
	    (json_int_t)nerr, "errors_by_type", errs, "requests",
	    (json_int_t)st->requests, "bad_nonce_retries",
	    (json_int_t)st->bad_nonce_retries, "retry_after_waits",
	    (json_int_t)st->retry_after_waits, "latency_ms", lat);
	if (root != NULL)
		json_object_set_new(
		    root, "stalled", json_boolean(sum->stalled));
	if (root != NULL && !sum->opts->always_valid)
		json_object_set_new(root, "responder",
		    json_pack("{s:I, s:I}", "found",
		        (json_int_t)sum->resp_found, "missing",
		        (json_int_t)sum->resp_missing));
out:
	json_decref(errs);
	json_decref(lat);
	return root;
}
