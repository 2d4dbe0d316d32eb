/* SPDX-License-Identifier: ISC */
/* Tests for va_http01.c: HTTP-01 against loopback DNS and HTTP servers
 * running in this process, and the body comparison on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>

#include "va_int.h"
#include "va_test_servers.h"

struct fixture {
	struct test_dns dns;
	struct test_http http;
	char dns_server[64];
};

static struct fixture *fx;

static int
group_setup(void **state)
{
	(void)state;
	fx = calloc(1, sizeof(*fx));
	test_dns_start(&fx->dns);
	test_http_start(&fx->http);
	snprintf(fx->dns_server, sizeof(fx->dns_server), "127.0.0.1:%d",
	    fx->dns.port);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	test_http_stop(&fx->http);
	test_dns_stop(&fx->dns);
	free(fx);
	return 0;
}

static struct va_config
test_config(void)
{
	struct va_config cfg = {
	    .http01_port = fx->http.port,
	    .dns_server = fx->dns_server,
	    .allow_loopback = true,
	    .timeout_ms = 3000,
	};
	return cfg;
}

/* Validates TOKEN for NAME under CFG; RES must be cleared by the caller. */
static void
run_cfg(const struct va_config *cfg, const char *name, const char *token,
    struct va_result *res)
{
	struct va_task task = {
	    .challenge_type = "http-01",
	    .ident_type = "dns",
	    .ident_value = name,
	    .token = token,
	    .key_authorization = TEST_KA,
	};
	struct va_ctx *va = va_new(cfg);

	assert_non_null(va);
	assert_int_equal(va_validate(va, &task, res), 0);
	assert_non_null(res->record_json);
	va_free(va);
}

static void
run(const char *name, const char *token, struct va_result *res)
{
	struct va_config cfg = test_config();

	run_cfg(&cfg, name, token, res);
}

/* Expects RES invalid with TYPE and a detail containing WANT. */
static void
expect_problem(
    const struct va_result *res, enum cb_prob_type type, const char *want)
{
	assert_false(res->valid);
	if (res->prob.type != type || strstr(res->prob.detail, want) == NULL)
		fail_msg("got %s \"%s\", want %s with \"%s\"",
		    cb_prob_type_name(res->prob.type), res->prob.detail,
		    cb_prob_type_name(type), want);
}

static json_t *
records(const struct va_result *res, size_t want_n)
{
	json_error_t err;
	json_t *arr = json_loads(res->record_json, 0, &err);

	assert_non_null(arr);
	assert_true(json_is_array(arr));
	if (json_array_size(arr) != want_n)
		fail_msg("%zu records, want %zu: %s", json_array_size(arr),
		    want_n, res->record_json);
	return arr;
}

static const char *
rec_str(json_t *arr, size_t i, const char *key)
{
	json_t *v = json_object_get(json_array_get(arr, i), key);

	return json_is_string(v) ? json_string_value(v) : "(missing)";
}

static void
test_body_matches(void **state)
{
	(void)state;
	assert_true(va_http01_body_matches("abc.def", 7, "abc.def"));
	assert_true(va_http01_body_matches("abc.def\r\n \t\n", 12, "abc.def"));
	assert_false(va_http01_body_matches(" abc.def", 8, "abc.def"));
	assert_false(va_http01_body_matches("abc.de", 6, "abc.def"));
	assert_false(va_http01_body_matches("abc.defg", 8, "abc.def"));
	assert_false(va_http01_body_matches("abc.def\v", 8, "abc.def"));
	assert_false(va_http01_body_matches("abc\0def", 7, "abc"));
	assert_false(va_http01_body_matches("", 0, ""));
	assert_false(va_http01_body_matches("   ", 3, ""));
	assert_false(va_http01_body_matches(NULL, 0, "abc"));
	assert_false(va_http01_body_matches("abc", 3, NULL));
}

static void
test_valid(void **state)
{
	struct va_result res;
	char url[256], port[16];
	json_t *arr;

	(void)state;
	run("OK.cobble.test", "good", &res);
	assert_true(res.valid);
	assert_false(cb_problem_is_set(&res.prob));
	arr = records(&res, 1);
	snprintf(url, sizeof(url), "http://ok.cobble.test:%d" TEST_WK "good",
	    fx->http.port);
	snprintf(port, sizeof(port), "%d", fx->http.port);
	assert_string_equal(rec_str(arr, 0, "url"), url);
	assert_string_equal(rec_str(arr, 0, "hostname"), "ok.cobble.test");
	assert_string_equal(rec_str(arr, 0, "port"), port);
	assert_string_equal(rec_str(arr, 0, "addressUsed"), "127.0.0.1");
	json_t *resolved =
	    json_object_get(json_array_get(arr, 0), "addressesResolved");
	assert_int_equal(json_array_size(resolved), 1);
	assert_string_equal(
	    json_string_value(json_array_get(resolved, 0)), "127.0.0.1");
	json_decref(arr);
	va_result_clear(&res);
}

static void
test_trailing_whitespace(void **state)
{
	struct va_result res;

	(void)state;
	run("ok.cobble.test", "ws", &res);
	assert_true(res.valid);
	va_result_clear(&res);
	/* Exactly CB_MAX_HTTP01_BODY bytes is still read in full. */
	run("ok.cobble.test", "exact", &res);
	assert_true(res.valid);
	va_result_clear(&res);
}

static void
test_wrong_body(void **state)
{
	struct va_result res;

	(void)state;
	run("ok.cobble.test", "wrong", &res);
	expect_problem(&res, CB_PROB_UNAUTHORIZED,
	    "The key authorization file from the server did not match this "
	    "challenge. Expected \"" TEST_KA "\" (got \"not\\x09the "
	    "key\\x01\")");
	assert_string_equal(res.prob.ident_type, "dns");
	assert_string_equal(res.prob.ident_value, "ok.cobble.test");
	va_result_clear(&res);
}

static void
test_not_found(void **state)
{
	struct va_result res;
	char want[256];

	(void)state;
	run("ok.cobble.test", "missing", &res);
	snprintf(want, sizeof(want),
	    "Invalid response from http://ok.cobble.test:%d" TEST_WK
	    "missing: 404",
	    fx->http.port);
	expect_problem(&res, CB_PROB_UNAUTHORIZED, want);
	va_result_clear(&res);
}

static void
test_too_large(void **state)
{
	struct va_result res;

	(void)state;
	run("ok.cobble.test", "big", &res);
	expect_problem(&res, CB_PROB_UNAUTHORIZED, "larger than 8192 bytes");
	va_result_clear(&res);
}

static void
test_redirect_same_host(void **state)
{
	struct va_result res;
	json_t *arr;

	(void)state;
	run("ok.cobble.test", "redir", &res);
	assert_true(res.valid);
	arr = records(&res, 2);
	assert_non_null(strstr(rec_str(arr, 0, "url"), TEST_WK "redir"));
	assert_non_null(strstr(rec_str(arr, 1, "url"), TEST_WK "good"));
	assert_string_equal(rec_str(arr, 1, "addressUsed"), "127.0.0.1");
	json_decref(arr);
	va_result_clear(&res);
}

static void
test_redirect_other_host(void **state)
{
	struct va_result res;
	json_t *arr;

	(void)state;
	run("ok.cobble.test", "redirabs", &res);
	assert_true(res.valid);
	arr = records(&res, 2);
	assert_string_equal(rec_str(arr, 1, "hostname"), "other.cobble.test");
	json_decref(arr);
	va_result_clear(&res);
}

static void
test_redirect_refused(void **state)
{
	struct va_result res;

	(void)state;
	run("ok.cobble.test", "redir8080", &res);
	expect_problem(&res, CB_PROB_CONNECTION,
	    "Only ports 80 and 443 are supported, not 8080");
	va_result_clear(&res);

	run("ok.cobble.test", "redirip", &res);
	expect_problem(&res, CB_PROB_CONNECTION,
	    "Only domain names are supported, not IP addresses");
	va_result_clear(&res);

	run("ok.cobble.test", "redirftp", &res);
	expect_problem(&res, CB_PROB_CONNECTION, "not \"ftp\"");
	va_result_clear(&res);

	run("ok.cobble.test", "redirnx", &res);
	expect_problem(&res, CB_PROB_DNS,
	    "No valid IP addresses found for nx.cobble.test");
	json_decref(records(&res, 2));
	va_result_clear(&res);
}

/* One va_target_parse() case: BASE and REF in, the URL and port out (NULL
 * URL: refused, with WANT in the detail). */
struct target_case {
	const char *base, *ref;
	const char *url; /* NULL: refused */
	int port;
	const char *want; /* detail excerpt when refused */
};

static void
check_target(struct va_ctx *va, const struct target_case *c)
{
	struct va_target t;
	struct cb_problem prob;
	json_t *doc;
	int rc;

	cb_problem_init(&prob);
	rc = va_target_parse(va, c->base, c->ref, &t, &prob);
	if (c->url != NULL) {
		if (rc != 0)
			fail_msg("%s: refused: %s", c->ref, prob.detail);
		assert_string_equal(t.url, c->url);
		assert_int_equal(t.port, c->port);
		assert_false(cb_problem_is_set(&prob));
		va_target_clear(&t);
		assert_null(t.url);
		return;
	}
	if (rc == 0)
		fail_msg("%s: accepted as %s", c->ref, t.url);
	assert_null(t.url);
	assert_null(t.host);
	if (prob.type != CB_PROB_CONNECTION ||
	    strstr(prob.detail, c->want) == NULL)
		fail_msg("%s: got %s \"%s\", want connection with \"%s\"",
		    c->ref, cb_prob_type_name(prob.type), prob.detail, c->want);
	/* The detail goes to the client as JSON: valid UTF-8 only. */
	doc = cb_problem_to_json(&prob);
	assert_non_null(doc);
	json_decref(doc);
}

static void
test_target_rules(void **state)
{
	static const char wk[] = "http://a.example.com/.well-known/x";
	char long_ref[CB_MAX_URL_LEN + 2], spaces[CB_MAX_URL_LEN / 2];
	char test_port[128], tls_port[128];
	struct va_config cfg = test_config();
	struct va_ctx *va = va_new(&cfg);
	const struct target_case cases[] = {
	    /* Only http and https, on ports 80 and 443. */
	    {NULL, "http://a.example.com/x", "http://a.example.com/x", 80,
	        NULL},
	    {NULL, "https://a.example.com/x", "https://a.example.com/x", 443,
	        NULL},
	    {NULL, "https://a.example.com:443/x", "https://a.example.com:443/x",
	        443, NULL},
	    {NULL, "http://a.example.com:443/x", "http://a.example.com:443/x",
	        443, NULL},
	    {NULL, "ftp://a.example.com/x", NULL, 0, "not \"ftp\""},
	    {NULL, "file:///etc/passwd", NULL, 0, "Invalid redirect target"},
	    {NULL, "javascript:alert(1)", NULL, 0, "Invalid redirect target"},
	    {NULL, "http://a.example.com:8080/x", NULL, 0, "not 8080"},
	    {NULL, "https://a.example.com:80443/x", NULL, 0,
	        "Invalid redirect target"},
	    /* Never an IP literal, however it is spelled. */
	    {NULL, "http://127.0.0.1/x", NULL, 0, "not IP addresses"},
	    {NULL, "http://[::1]/x", NULL, 0, "not IP addresses"},
	    {NULL, "http://0x7f.1/x", NULL, 0, "not IP addresses"},
	    {NULL, "http://2130706433/x", NULL, 0, "not IP addresses"},
	    {NULL, "http://%31%32%37.0.0.1/x", NULL, 0, "not IP addresses"},
	    {NULL, "http://co.uk/x", NULL, 0, "below a public suffix"},
	    /* A host that decodes to bytes that are not UTF-8 is quoted. */
	    {NULL, "http://%ff%fe.example/x", NULL, 0, "\\xff\\xfe.example"},
	    /* Relative references, credentials, fragments, escapes. */
	    {wk, "/y?z=1", "http://a.example.com/y?z=1", 80, NULL},
	    {wk, "//b.example.com/y", "http://b.example.com/y", 80, NULL},
	    {wk, "https://u:p@b.example.com/y#frag", "https://b.example.com/y",
	        443, NULL},
	    {wk, "/a b/\xc3\xa9\x01", "http://a.example.com/a%20b/%C3%A9%01",
	        80, NULL},
	    {wk, long_ref, NULL, 0, "longer than 1024 characters"},
	    /* Short enough, but not once each space is "%20". */
	    {wk, spaces, NULL, 0, "longer than 1024 characters"},
	    /* The test-mode port is for http only. */
	    {NULL, test_port, test_port, cfg.http01_port, NULL},
	    {NULL, tls_port, NULL, 0, "Only ports 80 and 443"},
	};

	(void)state;
	assert_non_null(va);
	memset(long_ref, 'a', sizeof(long_ref) - 1);
	long_ref[0] = '/';
	long_ref[sizeof(long_ref) - 1] = '\0';
	memset(spaces, ' ', sizeof(spaces) - 1);
	spaces[0] = '/';
	spaces[sizeof(spaces) - 1] = '\0';
	snprintf(test_port, sizeof(test_port), "http://a.example.com:%d/x",
	    cfg.http01_port);
	snprintf(tls_port, sizeof(tls_port), "https://a.example.com:%d/x",
	    cfg.http01_port);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_target(va, &cases[i]);
	va_free(va);
}

static void
test_redirect_limit(void **state)
{
	struct va_result res;
	json_t *arr;

	(void)state;
	/* Ten redirects are followed... */
	run("ok.cobble.test", "chain10", &res);
	assert_true(res.valid);
	arr = records(&res, 11);
	json_decref(arr);
	va_result_clear(&res);
	/* ...the eleventh is not. */
	run("ok.cobble.test", "chain11", &res);
	expect_problem(&res, CB_PROB_CONNECTION, "Too many redirects");
	arr = records(&res, 11);
	json_decref(arr);
	va_result_clear(&res);
}

/* DESIGN.md: a redirect may go to https on port 443, and the certificate
 * there is not verified (RFC 8555 8.3: HTTP-01 bootstraps certificates).
 * The server's is self-signed and for another name. */
static void
test_redirect_https(void **state)
{
	struct test_https tls;
	struct va_result res;
	char token[64], url[128];
	json_t *arr;

	(void)state;
	if (test_https_start(&tls) != 0) {
		/* Only root may bind 443; CI runs as root, so there this
		 * is a failure, not a skip. */
		if (geteuid() == 0)
			fail_msg("cannot bind port 443 on loopback");
		print_message("not root, cannot bind port 443: skipped\n");
		skip();
	}
	snprintf(token, sizeof(token), "redirtls-%s", tls.label);
	run("ok.cobble.test", token, &res);
	if (!res.valid)
		fail_msg("%s: %s", token, res.prob.detail);
	assert_int_equal(atomic_load(&tls.requests), 1);
	arr = records(&res, 2);
	snprintf(url, sizeof(url), "https://tls-%s.cobble.test" TEST_WK "good",
	    tls.label);
	assert_string_equal(rec_str(arr, 1, "url"), url);
	assert_string_equal(rec_str(arr, 1, "port"), "443");
	assert_string_equal(rec_str(arr, 1, "addressUsed"), tls.addr);
	json_decref(arr);
	va_result_clear(&res);

	/* https on any other port is refused before connecting, the
	 * test-mode http port included. */
	snprintf(token, sizeof(token), "redirtlsport-%s", tls.label);
	run("ok.cobble.test", token, &res);
	expect_problem(
	    &res, CB_PROB_CONNECTION, "Only ports 80 and 443 are supported");
	assert_int_equal(atomic_load(&tls.requests), 1);
	va_result_clear(&res);
	test_https_stop(&tls);
}

static void
test_ipv6_fallback(void **state)
{
	struct va_result res;
	json_t *arr, *tried;

	(void)state;
	/* AAAA ::1 has nothing listening on our port: IPv4 is used. */
	run("v6.cobble.test", "good", &res);
	assert_true(res.valid);
	arr = records(&res, 1);
	assert_string_equal(rec_str(arr, 0, "addressUsed"), "127.0.0.1");
	tried = json_object_get(json_array_get(arr, 0), "addressesTried");
	assert_int_equal(json_array_size(tried), 1);
	assert_string_equal(json_string_value(json_array_get(tried, 0)), "::1");
	json_decref(arr);
	va_result_clear(&res);
}

static void
test_loopback_refused(void **state)
{
	struct va_config cfg = test_config();
	struct va_result res;
	int before = atomic_load(&fx->http.requests);

	(void)state;
	cfg.allow_loopback = false;
	run_cfg(&cfg, "ok.cobble.test", "good", &res);
	expect_problem(&res, CB_PROB_CONNECTION, "127.0.0.1");
	assert_int_equal(atomic_load(&fx->http.requests), before);
	va_result_clear(&res);

	cfg.allow_loopback = true;
	run_cfg(&cfg, "priv.cobble.test", "good", &res);
	expect_problem(&res, CB_PROB_CONNECTION, "10.0.0.1");
	va_result_clear(&res);
}

static void
test_dns_failures(void **state)
{
	struct va_config cfg = test_config();
	struct va_result res;
	int64_t start;

	(void)state;
	run("nx.cobble.test", "good", &res);
	expect_problem(&res, CB_PROB_DNS,
	    "No valid IP addresses found for nx.cobble.test");
	assert_string_equal(res.prob.ident_value, "nx.cobble.test");
	json_decref(records(&res, 1));
	va_result_clear(&res);

	cfg.timeout_ms = 500;
	start = va_now_ms();
	run_cfg(&cfg, "to.cobble.test", "good", &res);
	expect_problem(&res, CB_PROB_DNS, "timed out");
	assert_true(va_now_ms() - start < 2000);
	va_result_clear(&res);
}

static void
test_connection_failures(void **state)
{
	struct va_config cfg = test_config();
	struct va_result res;

	(void)state;
	run("ok.cobble.test", "close", &res);
	expect_problem(
	    &res, CB_PROB_CONNECTION, "Connection closed without a response");
	va_result_clear(&res);

	cfg.http01_port = test_closed_port();
	run_cfg(&cfg, "ok.cobble.test", "good", &res);
	expect_problem(&res, CB_PROB_CONNECTION,
	    "127.0.0.1: Fetching http://ok.cobble.test:");
	expect_problem(&res, CB_PROB_CONNECTION, "Connection refused");
	va_result_clear(&res);
}

static void
test_bad_tasks(void **state)
{
	struct va_result res;

	(void)state;
	run("*.cobble.test", "good", &res);
	expect_problem(&res, CB_PROB_REJECTED_IDENTIFIER, "wildcard");
	va_result_clear(&res);

	run("co.uk", "good", &res);
	expect_problem(&res, CB_PROB_REJECTED_IDENTIFIER, "public suffix");
	va_result_clear(&res);

	run("ok.cobble.test", "../../etc/passwd", &res);
	expect_problem(&res, CB_PROB_MALFORMED, "token");
	va_result_clear(&res);

	struct va_config cfg = test_config();
	struct va_ctx *va = va_new(&cfg);
	struct va_task task = {"http-01", "ip", "127.0.0.1", "good", TEST_KA};
	assert_int_equal(va_validate(va, &task, &res), 0);
	expect_problem(&res, CB_PROB_UNSUPPORTED_IDENTIFIER, "\"ip\"");
	va_result_clear(&res);

	task.ident_type = "dns";
	task.ident_value = "ok.cobble.test";
	task.key_authorization = NULL;
	assert_int_equal(va_validate(va, &task, &res), -1);
	assert_int_equal(res.prob.type, CB_PROB_SERVER_INTERNAL);
	va_result_clear(&res);
	va_free(va);
}

static void
test_reused_context(void **state)
{
	struct va_config cfg = test_config();
	struct va_ctx *va = va_new(&cfg);
	struct va_task task = {
	    "http-01", "dns", "ok.cobble.test", "good", TEST_KA};
	const char *tokens[] = {"good", "wrong", "redir", "missing", "good"};
	const bool want[] = {true, false, true, false, true};
	struct va_result res;

	(void)state;
	assert_non_null(va);
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		task.token = tokens[i];
		assert_int_equal(va_validate(va, &task, &res), 0);
		assert_int_equal(res.valid, want[i]);
		va_result_clear(&res);
	}
	va_free(va);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_body_matches),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_trailing_whitespace),
	    cmocka_unit_test(test_wrong_body),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_redirect_same_host),
	    cmocka_unit_test(test_redirect_other_host),
	    cmocka_unit_test(test_redirect_refused),
	    cmocka_unit_test(test_redirect_limit),
	    cmocka_unit_test(test_target_rules),
	    cmocka_unit_test(test_redirect_https),
	    cmocka_unit_test(test_ipv6_fallback),
	    cmocka_unit_test(test_loopback_refused),
	    cmocka_unit_test(test_dns_failures),
	    cmocka_unit_test(test_connection_failures),
	    cmocka_unit_test(test_bad_tasks),
	    cmocka_unit_test(test_reused_context),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
