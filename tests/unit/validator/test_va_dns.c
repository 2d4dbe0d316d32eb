/* SPDX-License-Identifier: ISC */
/* Tests for va_dns.c: the answer parser on crafted answers, and lookups
 * through c-ares against a loopback DNS responder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "va_int.h"
#include "va_test_servers.h"

struct dns_fixture {
	struct test_dns dns;
	struct va_ctx *va;
};

/* A query for NAME of TYPE, answered by the test responder's rules. */
static size_t
make_answer(const char *name, int type, unsigned char *out)
{
	unsigned char *q = NULL;
	int qlen = 0;
	size_t n;

	assert_int_equal(
	    ares_create_query(name, 1, type, 0x1234, 1, &q, &qlen, 0),
	    ARES_SUCCESS);
	n = test_dns_respond(q, (size_t)qlen, out);
	ares_free_string(q);
	assert_true(n > 0);
	return n;
}

static void
test_parse_a(void **state)
{
	unsigned char buf[2048];
	struct va_addrs addrs = {0};
	char text[INET6_ADDRSTRLEN];
	size_t n;

	(void)state;
	n = make_answer("ok.cobble.test", 1, buf);
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_INET, &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_int_equal(addrs.addr[0].family, AF_INET);
	assert_string_equal(
	    va_addr_format(&addrs.addr[0], text, sizeof(text)), "127.0.0.1");
	/* The same answer read as AAAA holds no IPv6 address. */
	addrs.n = 0;
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_INET6, &addrs), 0);
	assert_int_equal(addrs.n, 0);
}

static void
test_parse_aaaa_and_nodata(void **state)
{
	unsigned char buf[2048];
	struct va_addrs addrs = {0};
	char text[INET6_ADDRSTRLEN];
	size_t n;

	(void)state;
	n = make_answer("v6.cobble.test", 28, buf);
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_INET6, &addrs), 0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(
	    va_addr_format(&addrs.addr[0], text, sizeof(text)), "::1");
	/* NODATA: well-formed, no address. */
	n = make_answer("ok.cobble.test", 28, buf);
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_INET6, &addrs), 0);
	assert_int_equal(addrs.n, 1);
}

static void
test_parse_caps_answers(void **state)
{
	unsigned char buf[2048];
	struct va_addrs addrs = {0};
	size_t n;

	(void)state;
	n = make_answer("many.cobble.test", 1, buf);
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_INET, &addrs), 0);
	assert_int_equal(addrs.n, CB_MAX_DNS_ANSWERS);
	/* Appending to a full set adds nothing and does not fail. */
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_INET, &addrs), 0);
	assert_int_equal(addrs.n, CB_MAX_DNS_ANSWERS);
}

static void
test_parse_malformed(void **state)
{
	unsigned char buf[2048];
	struct va_addrs addrs = {0};
	size_t n;

	(void)state;
	n = make_answer("ok.cobble.test", 1, buf);
	/* Every truncation of a valid answer is refused or harmless. */
	for (size_t cut = 0; cut < n; cut++) {
		addrs.n = 0;
		int rc = va_dns_parse_addrs(buf, (int)cut, AF_INET, &addrs);
		assert_true(rc == -1 || rc == 0);
		assert_true(addrs.n <= 1);
	}
	assert_int_equal(va_dns_parse_addrs(buf, 5, AF_INET, &addrs), -1);
	assert_int_equal(va_dns_parse_addrs(NULL, 0, AF_INET, &addrs), -1);
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_UNIX, &addrs), -1);
	/* A length pointer that points past the end. */
	buf[n - 5] = 0xff;
	addrs.n = 0;
	assert_int_equal(va_dns_parse_addrs(buf, (int)n, AF_INET, &addrs), -1);
	assert_int_equal(addrs.n, 0);
}

static int
setup(void **state)
{
	struct dns_fixture *f = calloc(1, sizeof(*f));
	char server[64];

	test_dns_start(&f->dns);
	snprintf(server, sizeof(server), "127.0.0.1:%d", f->dns.port);
	struct va_config cfg = {
	    .http01_port = 80,
	    .dns_server = server,
	    .allow_loopback = true,
	    .timeout_ms = 600,
	};
	f->va = va_new(&cfg);
	assert_non_null(f->va);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct dns_fixture *f = *state;

	va_free(f->va);
	test_dns_stop(&f->dns);
	free(f);
	return 0;
}

static void
test_resolve_ok(void **state)
{
	struct dns_fixture *f = *state;
	struct va_addrs addrs;
	struct cb_problem prob;
	char text[INET6_ADDRSTRLEN];

	cb_problem_init(&prob);
	assert_int_equal(va_dns_resolve(f->va, "ok.cobble.test",
	                     va_now_ms() + 2000, &addrs, &prob),
	    0);
	assert_int_equal(addrs.n, 1);
	assert_string_equal(
	    va_addr_format(&addrs.addr[0], text, sizeof(text)), "127.0.0.1");
	assert_false(cb_problem_is_set(&prob));
	assert_true(atomic_load(&f->dns.queries) >= 2);
}

static void
test_resolve_v6_first(void **state)
{
	struct dns_fixture *f = *state;
	struct va_addrs addrs;
	struct cb_problem prob;

	cb_problem_init(&prob);
	assert_int_equal(va_dns_resolve(f->va, "v6.cobble.test",
	                     va_now_ms() + 2000, &addrs, &prob),
	    0);
	assert_int_equal(addrs.n, 2);
	assert_int_equal(addrs.addr[0].family, AF_INET6);
	assert_int_equal(addrs.addr[1].family, AF_INET);
}

static void
test_resolve_nxdomain(void **state)
{
	struct dns_fixture *f = *state;
	struct va_addrs addrs;
	struct cb_problem prob;

	cb_problem_init(&prob);
	assert_int_equal(va_dns_resolve(f->va, "nx.cobble.test",
	                     va_now_ms() + 2000, &addrs, &prob),
	    -1);
	assert_int_equal(prob.type, CB_PROB_DNS);
	assert_string_equal(
	    prob.detail, "No valid IP addresses found for nx.cobble.test");
	assert_int_equal(addrs.n, 0);
}

static void
test_resolve_servfail(void **state)
{
	struct dns_fixture *f = *state;
	struct va_addrs addrs;
	struct cb_problem prob;

	cb_problem_init(&prob);
	assert_int_equal(va_dns_resolve(f->va, "sf.cobble.test",
	                     va_now_ms() + 2000, &addrs, &prob),
	    -1);
	assert_int_equal(prob.type, CB_PROB_DNS);
	if (strstr(prob.detail, "SERVFAIL") == NULL)
		fail_msg("detail: %s", prob.detail);
}

static void
test_resolve_timeout(void **state)
{
	struct dns_fixture *f = *state;
	struct va_addrs addrs;
	struct cb_problem prob;
	int64_t start = va_now_ms();

	cb_problem_init(&prob);
	assert_int_equal(
	    va_dns_resolve(f->va, "to.cobble.test", start + 500, &addrs, &prob),
	    -1);
	assert_int_equal(prob.type, CB_PROB_DNS);
	assert_non_null(strstr(prob.detail, "timed out"));
	assert_true(va_now_ms() - start < 1500);
	/* The channel still works after a cancelled lookup. */
	cb_problem_init(&prob);
	assert_int_equal(va_dns_resolve(f->va, "ok.cobble.test",
	                     va_now_ms() + 2000, &addrs, &prob),
	    0);
}

static void
test_bad_server_config(void **state)
{
	struct va_config cfg = {.dns_server = "not an address"};

	(void)state;
	assert_null(va_new(&cfg));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_a),
	    cmocka_unit_test(test_parse_aaaa_and_nodata),
	    cmocka_unit_test(test_parse_caps_answers),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test_setup_teardown(test_resolve_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_resolve_v6_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_resolve_nxdomain, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_resolve_servfail, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_resolve_timeout, setup, teardown),
	    cmocka_unit_test(test_bad_server_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
