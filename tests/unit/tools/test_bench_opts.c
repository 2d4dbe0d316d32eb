/* SPDX-License-Identifier: ISC */
/* Unit tests for tools/bench/bench_opts.c: defaults, each option, and the
 * usage errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bench.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static void
test_defaults(void **state)
{
	char *argv[] = {"cobble-bench", "--directory", "https://ca/dir", NULL};
	struct bench_opts o;

	(void)state;
	assert_int_equal(bench_opts_parse(ARGC(argv), argv, &o), 0);
	assert_string_equal(o.directory, "https://ca/dir");
	assert_null(o.ca_bundle);
	assert_int_equal(o.concurrency, 8);
	assert_int_equal(o.accounts, 8); /* follows the concurrency */
	assert_true(o.duration == 10.0);
	assert_int_equal(o.certificates, 0);
	assert_int_equal(o.names, 1);
	assert_int_equal(o.acct_key, BENCH_KEY_P256);
	assert_int_equal(o.cert_key, BENCH_KEY_P256);
	assert_string_equal(o.responder_host, "127.0.0.1");
	assert_int_equal(o.responder_port, 5002);
	assert_string_equal(o.challenge, "http-01");
	assert_false(o.always_valid);
	assert_int_equal(o.poll_interval_ms, 0);
	assert_int_equal(o.stall_timeout, 0);
	assert_string_equal(o.domain_suffix, "bench.cobble.test");
	assert_false(o.json);
	assert_false(o.quiet);
}

static void
test_all_options(void **state)
{
	char *argv[] = {"cobble-bench", "--directory", "https://ca/dir",
	    "--ca-bundle", "/r.pem", "--accounts", "100", "--concurrency", "32",
	    "--certificates", "20", "--names", "3", "--account-key", "rs256",
	    "--cert-key", "p384", "--challenge", "http-01", "--responder",
	    "[::1]:8080", "--always-valid", "--poll-interval", "25",
	    "--domain-suffix", "load.example", "--json", "--quiet",
	    "--stall-timeout", "7", NULL};
	struct bench_opts o;

	(void)state;
	assert_int_equal(bench_opts_parse(ARGC(argv), argv, &o), 0);
	assert_string_equal(o.ca_bundle, "/r.pem");
	assert_int_equal(o.accounts, 100);
	assert_int_equal(o.concurrency, 32);
	assert_int_equal(o.certificates, 20);
	assert_true(o.duration == 0);
	assert_int_equal(o.names, 3);
	assert_int_equal(o.acct_key, BENCH_KEY_RSA2048);
	assert_int_equal(o.cert_key, BENCH_KEY_P384);
	assert_string_equal(o.responder_host, "::1");
	assert_int_equal(o.responder_port, 8080);
	assert_string_equal(o.challenge, "http-01");
	assert_true(o.always_valid);
	assert_int_equal(o.poll_interval_ms, 25);
	assert_int_equal(o.stall_timeout, 7);
	assert_string_equal(o.domain_suffix, "load.example");
	assert_true(o.json);
	assert_true(o.quiet);
}

static void
test_duration_fraction(void **state)
{
	char *argv[] = {"cobble-bench", "--directory", "u", "--duration", "2.5",
	    "--responder", "127.0.0.2:80", NULL};
	struct bench_opts o;

	(void)state;
	assert_int_equal(bench_opts_parse(ARGC(argv), argv, &o), 0);
	assert_true(o.duration == 2.5);
	assert_string_equal(o.responder_host, "127.0.0.2");
	assert_int_equal(o.responder_port, 80);
}

static void
test_help_and_version(void **state)
{
	char *help[] = {"cobble-bench", "--help", NULL};
	char *version[] = {"cobble-bench", "--version", NULL};
	struct bench_opts o;

	(void)state;
	assert_int_equal(bench_opts_parse(ARGC(help), help, &o), 1);
	assert_int_equal(bench_opts_parse(ARGC(version), version, &o), 1);
}

/* Each of these command lines is refused. */
static void
test_usage_errors(void **state)
{
	static const char *const bad[][3] = {
	    {"--concurrency", "0", NULL},
	    {"--concurrency", "12x", NULL},
	    {"--accounts", "-1", NULL},
	    {"--names", "101", NULL},
	    {"--account-key", "p384", NULL},
	    {"--account-key", "ES256", NULL},
	    {"--cert-key", "ed25519", NULL},
	    {"--challenge", "dns-01", NULL}, /* without --always-valid */
	    {"--challenge", "HTTP-01", NULL},
	    {"--challenge", "tls-sni-01", NULL},
	    {"--responder", "127.0.0.1", NULL},
	    {"--responder", "localhost:80", NULL},
	    {"--responder", "127.0.0.1:0", NULL},
	    {"--responder", "127.0.0.1:65536", NULL},
	    {"--duration", "0", NULL},
	    {"--duration", "nan", NULL},
	    {"--poll-interval", "0", NULL},
	    {"--stall-timeout", "0", NULL},
	    {"--domain-suffix", "Bad.Example", NULL},
	    {"--domain-suffix", "a..b", NULL},
	    {"--domain-suffix", "x.", NULL},
	    {"--bogus", NULL, NULL},
	    {"extra-argument", NULL, NULL},
	};
	struct bench_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[6] = {"cobble-bench", "--directory", "u",
		    (char *)bad[i][0], (char *)bad[i][1], NULL};
		int argc = bad[i][1] != NULL ? 5 : 4;

		if (bench_opts_parse(argc, argv, &o) != -1)
			fail_msg("accepted %s %s", bad[i][0],
			    bad[i][1] ? bad[i][1] : "");
	}
}

static void
test_missing_directory_and_conflicts(void **state)
{
	char *none[] = {"cobble-bench", "--concurrency", "2", NULL};
	char *both[] = {"cobble-bench", "--directory", "u", "--duration", "5",
	    "--certificates", "5", NULL};
	struct bench_opts o;

	(void)state;
	assert_int_equal(bench_opts_parse(ARGC(none), none, &o), -1);
	assert_int_equal(bench_opts_parse(ARGC(both), both, &o), -1);
}

/* dns-01, which has no responder, needs the server's always-valid mode;
 * tls-alpn-01 has one. */
static void
test_challenge_types(void **state)
{
	char *dns[] = {"cobble-bench", "--directory", "u", "--challenge",
	    "dns-01", "--always-valid", NULL};
	char *alpn[] = {"cobble-bench", "--directory", "u", "--challenge",
	    "tls-alpn-01", NULL};
	struct bench_opts o;

	(void)state;
	assert_int_equal(bench_opts_parse(ARGC(dns), dns, &o), 0);
	assert_string_equal(o.challenge, "dns-01");
	assert_int_equal(bench_opts_parse(ARGC(alpn), alpn, &o), 0);
	assert_string_equal(o.challenge, "tls-alpn-01");
	assert_false(o.always_valid);
}

static void
test_keytype_names(void **state)
{
	(void)state;
	assert_string_equal(bench_keytype_name(BENCH_KEY_P256, true), "es256");
	assert_string_equal(bench_keytype_name(BENCH_KEY_P256, false), "p256");
	assert_string_equal(
	    bench_keytype_name(BENCH_KEY_RSA2048, true), "rs256");
	assert_string_equal(
	    bench_keytype_name(BENCH_KEY_RSA2048, false), "rsa2048");
	assert_string_equal(bench_keytype_name(BENCH_KEY_P384, false), "p384");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_all_options),
	    cmocka_unit_test(test_duration_fraction),
	    cmocka_unit_test(test_help_and_version),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_missing_directory_and_conflicts),
	    cmocka_unit_test(test_challenge_types),
	    cmocka_unit_test(test_keytype_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
