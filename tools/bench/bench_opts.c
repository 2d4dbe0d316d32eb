/* SPDX-License-Identifier: ISC */
/* cobble-bench's command line: getopt_long, defaults and range checks. */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Default duration when neither --duration nor --certificates is given. */
#define BENCH_DEFAULT_DURATION 10.0
#define BENCH_DEFAULT_RESPONDER_PORT 5002

enum bench_opt_id {
	BENCH_OPT_DIRECTORY = 256,
	BENCH_OPT_CA_BUNDLE,
	BENCH_OPT_ACCOUNTS,
	BENCH_OPT_CONCURRENCY,
	BENCH_OPT_DURATION,
	BENCH_OPT_CERTIFICATES,
	BENCH_OPT_NAMES,
	BENCH_OPT_ACCOUNT_KEY,
	BENCH_OPT_CERT_KEY,
	BENCH_OPT_CHALLENGE,
	BENCH_OPT_RESPONDER,
	BENCH_OPT_ALWAYS_VALID,
	BENCH_OPT_POLL_INTERVAL,
	BENCH_OPT_STALL_TIMEOUT,
	BENCH_OPT_DOMAIN_SUFFIX,
	BENCH_OPT_JSON,
	BENCH_OPT_QUIET,
	BENCH_OPT_HELP,
	BENCH_OPT_VERSION,
};

static const struct option bench_longopts[] = {
    {"directory", required_argument, NULL, BENCH_OPT_DIRECTORY},
    {"ca-bundle", required_argument, NULL, BENCH_OPT_CA_BUNDLE},
    {"accounts", required_argument, NULL, BENCH_OPT_ACCOUNTS},
    {"concurrency", required_argument, NULL, BENCH_OPT_CONCURRENCY},
    {"duration", required_argument, NULL, BENCH_OPT_DURATION},
    {"certificates", required_argument, NULL, BENCH_OPT_CERTIFICATES},
    {"names", required_argument, NULL, BENCH_OPT_NAMES},
    {"account-key", required_argument, NULL, BENCH_OPT_ACCOUNT_KEY},
    {"cert-key", required_argument, NULL, BENCH_OPT_CERT_KEY},
    {"challenge", required_argument, NULL, BENCH_OPT_CHALLENGE},
    {"responder", required_argument, NULL, BENCH_OPT_RESPONDER},
    {"always-valid", no_argument, NULL, BENCH_OPT_ALWAYS_VALID},
    {"poll-interval", required_argument, NULL, BENCH_OPT_POLL_INTERVAL},
    {"stall-timeout", required_argument, NULL, BENCH_OPT_STALL_TIMEOUT},
    {"domain-suffix", required_argument, NULL, BENCH_OPT_DOMAIN_SUFFIX},
    {"json", no_argument, NULL, BENCH_OPT_JSON},
    {"quiet", no_argument, NULL, BENCH_OPT_QUIET},
    {"help", no_argument, NULL, BENCH_OPT_HELP},
    {"version", no_argument, NULL, BENCH_OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char bench_usage[] =
    "usage: cobble-bench --directory URL [options]\n"
    "Issues certificates from an ACME (RFC 8555) server as fast as it\n"
    "allows and reports throughput, errors and latencies.\n"
    "\n"
    "  --directory URL        the server's directory URL (required)\n"
    "  --ca-bundle FILE       PEM roots to trust for HTTPS (default: "
    "system)\n"
    "  --accounts N           accounts registered up front and used in\n"
    "                         turn (default: the concurrency)\n"
    "  --concurrency N        parallel issuances (default 8)\n"
    "  --duration SECONDS     start issuances for this long (default 10)\n"
    "  --certificates N       or: start exactly N issuances\n"
    "  --names N              names per order (default 1)\n"
    "  --account-key TYPE     es256 (default) or rs256\n"
    "  --cert-key TYPE        p256 (default), p384 or rsa2048\n"
    "  --challenge TYPE       http-01 (default), tls-alpn-01, or with\n"
    "                         --always-valid dns-01\n"
    "  --responder ADDR:PORT  built-in HTTP-01 or TLS-ALPN-01 responder\n"
    "                         (default 127.0.0.1:5002; [::1]:PORT for "
    "IPv6)\n"
    "  --always-valid         the server validates nothing (its test "
    "mode):\n"
    "                         start no responder\n"
    "  --poll-interval MS     poll at most this often even when "
    "Retry-After\n"
    "                         says more (default: Retry-After, else 1 s)\n"
    "  --stall-timeout SECONDS  end the run when no issuance ends for this\n"
    "                         long (a hung server); rates then cover the\n"
    "                         time up to the last issuance (default: off)\n"
    "  --domain-suffix NAME   names are random labels under NAME\n"
    "                         (default bench.cobble.test)\n"
    "  --json                 print the report as JSON on stdout\n"
    "  --quiet                no progress line on stderr\n"
    "  --help, --version\n";

const char *
bench_keytype_name(enum bench_keytype t, bool account)
{
	switch (t) {
	case BENCH_KEY_P256:
		return account ? "es256" : "p256";
	case BENCH_KEY_P384:
		return "p384";
	case BENCH_KEY_RSA2048:
		return account ? "rs256" : "rsa2048";
	}
	return "?";
}

static int bench_opt_fail(const char *fmt, ...) CB_PRINTF(1, 2);

static int
bench_opt_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cobble-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see cobble-bench --help)\n");
	return -1;
}

/* A whole decimal number in [MIN, MAX]. */
static int
bench_opt_long(const char *name, const char *arg, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
		    "cobble-bench: --%s: expected a whole number from %ld to "
		    "%ld, got \"%s\"\n",
		    name, min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int
bench_opt_int(const char *name, const char *arg, int min, int max, int *out)
{
	long v;

	if (bench_opt_long(name, arg, min, max, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int
bench_opt_duration(const char *arg, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v > 0) || v > 86400.0)
		return bench_opt_fail(
		    "--duration: expected seconds in (0, 86400], got \"%s\"",
		    arg);
	*out = v;
	return 0;
}

static int
bench_opt_keytype(const char *arg, bool account, enum bench_keytype *out)
{
	static const enum bench_keytype acct[] = {
	    BENCH_KEY_P256, BENCH_KEY_RSA2048};
	static const enum bench_keytype cert[] = {
	    BENCH_KEY_P256, BENCH_KEY_P384, BENCH_KEY_RSA2048};
	const enum bench_keytype *set = account ? acct : cert;
	size_t n = account ? 2 : 3;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(arg, bench_keytype_name(set[i], account)) == 0) {
			*out = set[i];
			return 0;
		}
	}
	return bench_opt_fail(account ? "--account-key: expected es256 or "
	                                "rs256, got \"%s\""
	                              : "--cert-key: expected p256, p384 or "
	                                "rsa2048, got \"%s\"",
	    arg);
}

/* ADDR:PORT with a numeric address; IPv6 as [ADDR]:PORT. */
static int
bench_opt_responder(const char *arg, struct bench_opts *o)
{
	const char *colon = strrchr(arg, ':');
	const char *host = arg;
	size_t hlen;
	unsigned char buf[sizeof(struct in6_addr)];
	long port;

	if (colon == NULL)
		return bench_opt_fail(
		    "--responder: expected ADDR:PORT, got \"%s\"", arg);
	hlen = (size_t)(colon - arg);
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(o->responder_host))
		return bench_opt_fail(
		    "--responder: bad address in \"%s\"", arg);
	memcpy(o->responder_host, host, hlen);
	o->responder_host[hlen] = '\0';
	if (inet_pton(AF_INET, o->responder_host, buf) != 1 &&
	    inet_pton(AF_INET6, o->responder_host, buf) != 1)
		return bench_opt_fail(
		    "--responder: \"%s\" is not a numeric address", arg);
	if (bench_opt_long("responder", colon + 1, 1, 65535, &port) != 0)
		return -1;
	o->responder_port = (int)port;
	return 0;
}

static void
bench_opts_defaults(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = 8;
	o->names = 1;
	o->acct_key = BENCH_KEY_P256;
	o->cert_key = BENCH_KEY_P256;
	snprintf(o->responder_host, sizeof(o->responder_host), "127.0.0.1");
	o->responder_port = BENCH_DEFAULT_RESPONDER_PORT;
	o->domain_suffix = "bench.cobble.test";
	o->challenge = "http-01";
}

/* The challenge types --challenge takes (RFC 8555 8.3, 8.4; RFC 8737).
 * http-01 and tls-alpn-01 have a built-in responder; dns-01 is for servers
 * in their always-valid test mode. */
static int
bench_opt_challenge(const char *arg, struct bench_opts *o)
{
	static const char *const types[] = {"http-01", "dns-01", "tls-alpn-01"};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(arg, types[i]) == 0) {
			o->challenge = types[i];
			return 0;
		}
	}
	return bench_opt_fail("--challenge: \"%s\" is not http-01, dns-01 or "
	                      "tls-alpn-01",
	    arg);
}

/* One option; returns 0, 1 (help/version printed) or -1. Long, but a flat
 * dispatch over the option table. */
static int
bench_opt_one(int c, const char *arg, struct bench_opts *o)
{
	switch (c) {
	case BENCH_OPT_DIRECTORY:
		o->directory = arg;
		return 0;
	case BENCH_OPT_CA_BUNDLE:
		o->ca_bundle = arg;
		return 0;
	case BENCH_OPT_ACCOUNTS:
		return bench_opt_int(
		    "accounts", arg, 1, BENCH_MAX_ACCOUNTS, &o->accounts);
	case BENCH_OPT_CONCURRENCY:
		return bench_opt_int("concurrency", arg, 1,
		    BENCH_MAX_CONCURRENCY, &o->concurrency);
	case BENCH_OPT_DURATION:
		return bench_opt_duration(arg, &o->duration);
	case BENCH_OPT_CERTIFICATES:
		return bench_opt_long(
		    "certificates", arg, 1, LONG_MAX / 2, &o->certificates);
	case BENCH_OPT_NAMES:
		return bench_opt_int(
		    "names", arg, 1, BENCH_MAX_NAMES, &o->names);
	case BENCH_OPT_ACCOUNT_KEY:
		return bench_opt_keytype(arg, true, &o->acct_key);
	case BENCH_OPT_CERT_KEY:
		return bench_opt_keytype(arg, false, &o->cert_key);
	case BENCH_OPT_CHALLENGE:
		return bench_opt_challenge(arg, o);
	case BENCH_OPT_RESPONDER:
		return bench_opt_responder(arg, o);
	case BENCH_OPT_ALWAYS_VALID:
		o->always_valid = true;
		return 0;
	case BENCH_OPT_POLL_INTERVAL:
		return bench_opt_int(
		    "poll-interval", arg, 1, 600000, &o->poll_interval_ms);
	case BENCH_OPT_STALL_TIMEOUT:
		return bench_opt_int(
		    "stall-timeout", arg, 1, 86400, &o->stall_timeout);
	case BENCH_OPT_DOMAIN_SUFFIX:
		o->domain_suffix = arg;
		return 0;
	case BENCH_OPT_JSON:
		o->json = true;
		return 0;
	case BENCH_OPT_QUIET:
		o->quiet = true;
		return 0;
	case BENCH_OPT_HELP:
		fputs(bench_usage, stdout);
		return 1;
	case BENCH_OPT_VERSION:
		printf("cobble-bench %s\n", COBBLE_VERSION);
		return 1;
	default:
		fprintf(stderr, "(see cobble-bench --help)\n");
		return -1;
	}
}

/* A suffix of LDH labels, so that label + "." + suffix is a DNS name. */
static bool
bench_suffix_is_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len + 1 + BENCH_LABEL_LEN > CB_MAX_DNS_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '-') ||
		    ++label > 63)
			return false;
	}
	return label > 0;
}

int
bench_opts_parse(int argc, char **argv, struct bench_opts *o)
{
	int c, rc;

	bench_opts_defaults(o);
	optind = 0; /* glibc: 0 restarts the scan from scratch */
	while ((c = getopt_long(argc, argv, "", bench_longopts, NULL)) != -1)
		if ((rc = bench_opt_one(c, optarg, o)) != 0)
			return rc;
	if (optind < argc)
		return bench_opt_fail(
		    "unexpected argument \"%s\"", argv[optind]);
	if (o->directory == NULL)
		return bench_opt_fail("%s", "--directory URL is required");
	if (o->duration > 0 && o->certificates > 0)
		return bench_opt_fail(
		    "%s", "--duration and --certificates exclude each other");
	if (o->duration == 0 && o->certificates == 0)
		o->duration = BENCH_DEFAULT_DURATION;
	if (o->accounts == 0)
		o->accounts = o->concurrency;
	if (strcmp(o->challenge, "dns-01") == 0 && !o->always_valid)
		return bench_opt_fail("%s",
		    "--challenge dns-01 needs --always-valid: there is no "
		    "built-in DNS responder");
	if (!bench_suffix_is_valid(o->domain_suffix))
		return bench_opt_fail("--domain-suffix: \"%s\" is not a "
		                      "lowercase DNS name",
		    o->domain_suffix);
	return 0;
}
