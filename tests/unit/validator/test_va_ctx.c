/* SPDX-License-Identifier: ISC */
/* Tests for va_ctx.c: context creation, dispatch, the test-mode knobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "va_int.h"

static const struct va_task http_task = {
    .challenge_type = "http-01",
    .ident_type = "dns",
    .ident_value = "www.example.test",
    .token = "tok",
    .key_authorization = "tok.thumb",
};

static void
test_new_defaults(void **state)
{
	struct va_config cfg = {0};
	struct va_ctx *va;

	(void)state;
	va = va_new(&cfg);
	assert_non_null(va);
	assert_int_equal(va->cfg.http01_port, 80);
	assert_true(va->cfg.timeout_ms > 0);
	assert_string_equal(va->cfg.dns_server, "");
	assert_false(va->addr_policy.allow_loopback);
	va_free(va);
	va_free(NULL);
}

static void
test_new_copies_config(void **state)
{
	char server[32] = "127.0.0.1:5353";
	struct va_config cfg = {
	    .http01_port = 5002, .dns_server = server, .allow_private = true};
	struct va_ctx *va;

	(void)state;
	va = va_new(&cfg);
	assert_non_null(va);
	memset(server, 0, sizeof(server));
	assert_string_equal(va->cfg.dns_server, "127.0.0.1:5353");
	assert_int_equal(va->cfg.http01_port, 5002);
	assert_true(va->addr_policy.allow_private);
	va_free(va);
}

static void
test_always_valid(void **state)
{
	struct va_config cfg = {.always_valid = true, .timeout_ms = 100};
	struct va_ctx *va = va_new(&cfg);
	struct va_result res;
	json_t *rec;

	(void)state;
	assert_non_null(va);
	/* No DNS or HTTP server exists for this name: nothing is asked. */
	assert_int_equal(va_validate(va, &http_task, &res), 0);
	assert_true(res.valid);
	assert_false(cb_problem_is_set(&res.prob));
	rec = json_loads(res.record_json, 0, NULL);
	assert_non_null(rec);
	assert_int_equal(json_array_size(rec), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(rec, 0), "hostname")),
	    "www.example.test");
	assert_non_null(strstr(res.record_json, "test mode"));
	json_decref(rec);
	va_result_clear(&res);
	va_free(va);
}

static void
test_delay(void **state)
{
	struct va_config cfg = {.always_valid = true, .delay_ms = 150};
	struct va_ctx *va = va_new(&cfg);
	struct va_result res;
	int64_t start = va_now_ms();

	(void)state;
	assert_int_equal(va_validate(va, &http_task, &res), 0);
	assert_true(va_now_ms() - start >= 150);
	assert_true(res.valid);
	va_result_clear(&res);
	va_free(va);
}

static void
test_unknown_challenge_type(void **state)
{
	struct va_config cfg = {0};
	struct va_ctx *va = va_new(&cfg);
	struct va_task task = http_task;
	struct va_result res;

	(void)state;
	task.challenge_type = "tls-sni-02";
	assert_int_equal(va_validate(va, &task, &res), 0);
	assert_false(res.valid);
	assert_int_equal(res.prob.type, CB_PROB_MALFORMED);
	assert_string_equal(res.prob.detail, "unsupported challenge type");
	assert_string_equal(res.prob.ident_type, "dns");
	assert_string_equal(res.prob.ident_value, "www.example.test");
	assert_string_equal(res.record_json, "[]");
	va_result_clear(&res);

	task.challenge_type = NULL;
	assert_int_equal(va_validate(va, &task, &res), -1);
	assert_int_equal(res.prob.type, CB_PROB_SERVER_INTERNAL);
	va_result_clear(&res);
	va_free(va);
}

static void
test_result_clear(void **state)
{
	struct va_result res;

	(void)state;
	memset(&res, 0, sizeof(res));
	va_result_clear(&res);
	va_result_clear(NULL);
	res.record_json = cb_strdup("[]");
	res.valid = true;
	va_result_clear(&res);
	assert_null(res.record_json);
	assert_false(res.valid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_defaults),
	    cmocka_unit_test(test_new_copies_config),
	    cmocka_unit_test(test_always_valid),
	    cmocka_unit_test(test_delay),
	    cmocka_unit_test(test_unknown_challenge_type),
	    cmocka_unit_test(test_result_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
