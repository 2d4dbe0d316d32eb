/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_stats.c: histogram buckets and
 * quantiles, merging, failure names and the JSON report. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The histogram promises at most 1/16 relative error. */
static void
assert_close(uint64_t got, uint64_t want)
{
	uint64_t tol = want / 16 + 1;

	if (got + tol < want || got > want + tol)
		fail_msg("got %llu, want %llu +- %llu", (unsigned long long)got,
		    (unsigned long long)want, (unsigned long long)tol);
}

static void
test_hist_empty(void **state)
{
	struct bench_hist h = {0};

	(void)state;
	assert_int_equal(bench_hist_quantile(&h, 0.5), 0);
	assert_int_equal(bench_hist_quantile(&h, 1.0), 0);
}

static void
test_hist_small_values_exact(void **state)
{
	struct bench_hist h = {0};

	(void)state;
	for (uint64_t v = 1; v <= 10; v++)
		bench_hist_add(&h, v);
	assert_int_equal(h.count, 10);
	assert_int_equal(h.min_us, 1);
	assert_int_equal(h.max_us, 10);
	assert_int_equal(h.sum_us, 55);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 5);
	assert_int_equal(bench_hist_quantile(&h, 0.9), 9);
	assert_int_equal(bench_hist_quantile(&h, 0.99), 10);
	assert_int_equal(bench_hist_quantile(&h, 0.0), 1);
}

static void
test_hist_uniform_quantiles(void **state)
{
	struct bench_hist *h = calloc(1, sizeof(*h));

	(void)state;
	/* 1..100000 us: the q-quantile is about q * 100000. */
	for (uint64_t v = 1; v <= 100000; v++)
		bench_hist_add(h, v);
	assert_close(bench_hist_quantile(h, 0.5), 50000);
	assert_close(bench_hist_quantile(h, 0.9), 90000);
	assert_close(bench_hist_quantile(h, 0.99), 99000);
	assert_int_equal(bench_hist_quantile(h, 1.0), 100000);
	free(h);
}

static void
test_hist_huge_value_clamped(void **state)
{
	struct bench_hist h = {0};

	(void)state;
	bench_hist_add(&h, UINT64_MAX / 2);
	bench_hist_add(&h, 7);
	assert_int_equal(h.max_us, UINT64_MAX / 2);
	assert_int_equal(bench_hist_quantile(&h, 0.5), 7);
	/* Clamped to the exact maximum, never beyond. */
	assert_true(bench_hist_quantile(&h, 0.99) <= UINT64_MAX / 2);
}

static void
test_hist_tail(void **state)
{
	struct bench_hist h = {0};

	(void)state;
	/* 990 fast samples and 10 slow ones: p99 is fast, max slow. */
	for (int i = 0; i < 990; i++)
		bench_hist_add(&h, 1000);
	for (int i = 0; i < 10; i++)
		bench_hist_add(&h, 500000);
	assert_close(bench_hist_quantile(&h, 0.99), 1000);
	assert_close(bench_hist_quantile(&h, 0.995), 500000);
	assert_int_equal(h.max_us, 500000);
}

static void
test_stats_merge(void **state)
{
	struct bench_stats *a = calloc(1, sizeof(*a));
	struct bench_stats *b = calloc(1, sizeof(*b));

	(void)state;
	bench_hist_add(&a->hist[BENCH_STEP_ORDER], 100);
	bench_hist_add(&b->hist[BENCH_STEP_ORDER], 300);
	bench_hist_add(&b->hist[BENCH_STEP_ORDER], 50);
	a->issued = 2;
	b->issued = 3;
	b->errors[CB_PROB_BAD_NONCE] = 4;
	b->errors[BENCH_ERR_TRANSPORT] = 1;
	b->bad_nonce_retries = 7;
	bench_stats_merge(a, b);
	assert_int_equal(a->issued, 5);
	assert_int_equal(a->errors[CB_PROB_BAD_NONCE], 4);
	assert_int_equal(a->errors[BENCH_ERR_TRANSPORT], 1);
	assert_int_equal(a->bad_nonce_retries, 7);
	assert_int_equal(a->hist[BENCH_STEP_ORDER].count, 3);
	assert_int_equal(a->hist[BENCH_STEP_ORDER].min_us, 50);
	assert_int_equal(a->hist[BENCH_STEP_ORDER].max_us, 300);
	assert_int_equal(a->hist[BENCH_STEP_ORDER].sum_us, 450);
	free(a);
	free(b);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(bench_step_name(BENCH_STEP_ORDER), "newOrder");
	assert_string_equal(
	    bench_step_name(BENCH_STEP_VALIDATION), "validationWait");
	assert_string_equal(bench_step_name(BENCH_STEP_ISSUANCE), "issuance");
	assert_string_equal(bench_err_name(CB_PROB_BAD_NONCE), "badNonce");
	assert_string_equal(bench_err_name(BENCH_ERR_TRANSPORT), "transport");
	assert_string_equal(bench_err_name(BENCH_ERR_LOCAL), "local");
	assert_string_equal(bench_err_name(BENCH_ERR_ABORTED), "aborted");
	assert_string_equal(bench_err_name(BENCH_ERR_COUNT), "?");
	assert_string_equal(bench_err_name(CB_PROB_NONE), "?");
}

static void
test_report_json(void **state)
{
	struct bench_opts o = {.directory = "https://x/dir",
	    .concurrency = 4,
	    .accounts = 2,
	    .names = 1,
	    .certificates = 10,
	    .challenge = "dns-01",
	    .always_valid = true};
	struct bench_summary sum = {.opts = &o, .elapsed = 2.0};
	struct bench_stats *st = calloc(1, sizeof(*st));
	json_t *j, *lat;

	(void)state;
	st->issued = 9;
	st->failed = 1;
	st->errors[CB_PROB_RATE_LIMITED] = 1;
	bench_hist_add(&st->hist[BENCH_STEP_FINALIZE], 2000);
	j = bench_report_json(&sum, st);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "issued")), 9);
	assert_int_equal(json_integer_value(json_object_get(j, "errors")), 1);
	assert_true(
	    json_real_value(json_object_get(j, "issuances_per_s")) == 4.5);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(j, "errors_by_type"), "rateLimited")),
	    1);
	lat = json_object_get(json_object_get(j, "latency_ms"), "finalize");
	assert_int_equal(json_integer_value(json_object_get(lat, "count")), 1);
	assert_true(json_real_value(json_object_get(lat, "max")) == 2.0);
	assert_null(json_object_get(j, "responder"));
	assert_true(json_is_false(json_object_get(j, "stalled")));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "config"), "validation")),
	    "always-valid");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(j, "config"), "challenge")),
	    "dns-01");
	json_decref(j);
	free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hist_empty),
	    cmocka_unit_test(test_hist_small_values_exact),
	    cmocka_unit_test(test_hist_uniform_quantiles),
	    cmocka_unit_test(test_hist_huge_value_clamped),
	    cmocka_unit_test(test_hist_tail),
	    cmocka_unit_test(test_stats_merge),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_report_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
