/* SPDX-License-Identifier: ISC */
/* Unit tests for common/cb_config.c: defaults, loading, every error, the
 * derived base URL, redaction, test-mode warnings and the docs check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cb_config.h"
#include "cb_limits.h"
#include "cb_log.h"

#define ERRLEN 512

/* Loads DOC as "t.json"; returns load's result, the message in ERR. */
static int
load(const char *doc, struct cb_config *cfg, char *err)
{
	return cb_config_load_buffer(
	    "t.json", doc, strlen(doc), cfg, err, ERRLEN);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = calloc(1, 1024 * 1024);
	assert_non_null(buf);
	n = fread(buf, 1, 1024 * 1024 - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
assert_defaults(const struct cb_config *cfg)
{
	assert_string_equal(cfg->state_dir, "/var/lib/cobble");
	assert_int_equal(cfg->log_level, LOG_INFO);
	assert_string_equal(cfg->listen_address, "127.0.0.1");
	assert_int_equal(cfg->port, 14000);
	assert_string_equal(cfg->base_url, "https://localhost:14000");
	assert_int_equal(cfg->nhostnames, 0);
	assert_string_equal(cfg->tls_cert_file, "");
	assert_string_equal(cfg->tls_key_file, "");
	assert_int_equal(cfg->threads, 32);
	assert_int_equal(cfg->max_connections, 1024);
	assert_int_equal(cfg->per_ip_connections, 0);
	assert_int_equal(cfg->connection_timeout, 30);
	assert_string_equal(cfg->nonce_prefix, "");
	assert_int_equal(cfg->nonce_lifetime, 3600);
	assert_int_equal(cfg->test_nonce_reject_percent, 0);
	assert_string_equal(cfg->dsn, "");
	assert_int_equal(cfg->pool_size, 0);
	assert_string_equal(cfg->embedded_user, "postgres");
	assert_true(cfg->synchronous_commit);
	assert_true(cfg->group_commit);
	assert_string_equal(cfg->ca_key_type, "ecdsa");
	assert_string_equal(cfg->ca_name, "Cobble");
	assert_string_equal(cfg->ca_root_cert_file, "");
	assert_string_equal(cfg->ca_intermediate_cert_file, "");
	assert_string_equal(cfg->ca_intermediate_key_file, "");
	assert_int_equal(cfg->cert_validity_days, 90);
	assert_string_equal(cfg->terms_of_service, "");
	assert_string_equal(cfg->website, "");
	assert_int_equal(cfg->ncaa_identities, 0);
	assert_int_equal(cfg->order_lifetime, 604800);
	assert_int_equal(cfg->pending_authz_lifetime, 604800);
	assert_int_equal(cfg->valid_authz_lifetime, 2592000);
	assert_int_equal(cfg->retry_after, 1);
	assert_int_equal(cfg->max_identifiers, 100);
	assert_int_equal(cfg->va_workers, 16);
	assert_int_equal(cfg->va_http01_port, 80);
	assert_string_equal(cfg->va_dns_server, "");
	assert_false(cfg->va_allow_loopback);
	assert_false(cfg->va_allow_private);
	assert_int_equal(cfg->va_timeout_ms, 10000);
	assert_false(cfg->va_always_valid);
	assert_int_equal(cfg->va_delay_ms, 0);
}

static void
test_defaults(void **state)
{
	struct cb_config cfg;

	(void)state;
	cb_config_defaults(&cfg);
	assert_defaults(&cfg);
	cb_config_clear(&cfg);
	assert_null(cfg.state_dir);
	assert_null(cfg.base_url);
	/* Clearing twice is harmless. */
	cb_config_clear(&cfg);
}

static void
test_empty_object_is_defaults(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(load("{}", &cfg, err), 0);
	assert_string_equal(err, "");
	assert_defaults(&cfg);
	cb_config_clear(&cfg);
	/* Empty sections are fine too. */
	assert_int_equal(load("{\"server\": {}, \"ca\": {}}", &cfg, err), 0);
	assert_defaults(&cfg);
	cb_config_clear(&cfg);
}

static const char full_doc[] =
    "{\n"
    " \"state_dir\": \"/srv/cobble\",\n"
    " \"log\": {\"level\": \"debug\"},\n"
    " \"server\": {\n"
    "  \"listen\": \"::\", \"port\": 443,\n"
    "  \"base_url\": \"https://acme.example.org/\",\n"
    "  \"hostnames\": [\"acme.example.org\", \"ca.example.org\"],\n"
    "  \"tls_cert\": \"/etc/c.pem\", \"tls_key\": \"/etc/k.pem\",\n"
    "  \"threads\": 8, \"max_connections\": 2048,\n"
    "  \"per_ip_connections\": 32, \"connection_timeout\": 10,\n"
    "  \"nonce_prefix\": \"a-1_\", \"nonce_lifetime\": 600,\n"
    "  \"test_nonce_reject_percent\": 5\n"
    " },\n"
    " \"storage\": {\"dsn\": \"host=db password=hunter2\",\n"
    "  \"pool_size\": 12, \"embedded_user\": \"cobble\",\n"
    "  \"synchronous_commit\": false, \"group_commit\": false},\n"
    " \"ca\": {\"key_type\": \"rsa\", \"name\": \"Example\",\n"
    "  \"root_cert\": \"/r.pem\", \"intermediate_cert\": \"/i.pem\",\n"
    "  \"intermediate_key\": \"/i.key\", \"cert_validity_days\": 30},\n"
    " \"acme\": {\"terms_of_service\": \"https://example.org/tos\",\n"
    "  \"website\": \"https://example.org\",\n"
    "  \"caa_identities\": [\"example.org\"],\n"
    "  \"order_lifetime\": 3600, \"pending_authz_lifetime\": 7200,\n"
    "  \"valid_authz_lifetime\": 86400, \"retry_after\": 3,\n"
    "  \"max_identifiers\": 10},\n"
    " \"validator\": {\"workers\": 2, \"http01_port\": 5002,\n"
    "  \"dns_server\": \"127.0.0.1:5353\", \"allow_loopback\": true,\n"
    "  \"allow_private\": true, \"timeout_ms\": 2000,\n"
    "  \"test_always_valid\": true, \"test_delay_ms\": 100}\n"
    "}\n";

static void
test_full_document(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(load(full_doc, &cfg, err), 0);
	assert_string_equal(cfg.state_dir, "/srv/cobble");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_string_equal(cfg.listen_address, "::");
	assert_int_equal(cfg.port, 443);
	assert_string_equal(cfg.base_url, "https://acme.example.org");
	assert_int_equal(cfg.nhostnames, 2);
	assert_string_equal(cfg.hostnames[1], "ca.example.org");
	assert_string_equal(cfg.tls_key_file, "/etc/k.pem");
	assert_int_equal(cfg.threads, 8);
	assert_int_equal(cfg.max_connections, 2048);
	assert_int_equal(cfg.per_ip_connections, 32);
	assert_int_equal(cfg.connection_timeout, 10);
	assert_string_equal(cfg.nonce_prefix, "a-1_");
	assert_int_equal(cfg.nonce_lifetime, 600);
	assert_int_equal(cfg.test_nonce_reject_percent, 5);
	assert_string_equal(cfg.dsn, "host=db password=hunter2");
	assert_int_equal(cfg.pool_size, 12);
	assert_string_equal(cfg.embedded_user, "cobble");
	assert_false(cfg.synchronous_commit);
	assert_false(cfg.group_commit);
	assert_string_equal(cfg.ca_key_type, "rsa");
	assert_string_equal(cfg.ca_name, "Example");
	assert_string_equal(cfg.ca_intermediate_key_file, "/i.key");
	assert_int_equal(cfg.cert_validity_days, 30);
	assert_string_equal(cfg.terms_of_service, "https://example.org/tos");
	assert_int_equal(cfg.ncaa_identities, 1);
	assert_string_equal(cfg.caa_identities[0], "example.org");
	assert_int_equal(cfg.order_lifetime, 3600);
	assert_int_equal(cfg.pending_authz_lifetime, 7200);
	assert_int_equal(cfg.valid_authz_lifetime, 86400);
	assert_int_equal(cfg.retry_after, 3);
	assert_int_equal(cfg.max_identifiers, 10);
	assert_int_equal(cfg.va_workers, 2);
	assert_int_equal(cfg.va_http01_port, 5002);
	assert_string_equal(cfg.va_dns_server, "127.0.0.1:5353");
	assert_true(cfg.va_allow_loopback);
	assert_true(cfg.va_allow_private);
	assert_int_equal(cfg.va_timeout_ms, 2000);
	assert_true(cfg.va_always_valid);
	assert_int_equal(cfg.va_delay_ms, 100);
	cb_config_clear(&cfg);
}

/* The shipped example and a file on disk go through cb_config_load. */
static void
test_example_file(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];

	(void)state;
	if (cb_config_load(COBBLE_SOURCE_DIR "/deploy/cobble.example.json",
	        &cfg, err, sizeof(err)) != 0)
		fail_msg("example: %s", err);
	assert_string_equal(cfg.state_dir, "/var/lib/cobble");
	cb_config_clear(&cfg);
}

static void
test_missing_file(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(
	    cb_config_load("/nonexistent/c.json", &cfg, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "/nonexistent/c.json: No such file or directory");
	cb_config_clear(&cfg);
	assert_int_equal(cb_config_load("/tmp", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: Is a directory");
	cb_config_clear(&cfg);
}

struct bad_case {
	const char *doc;
	const char *msg; /* exact, or a prefix when it ends in "*" */
};

static const struct bad_case bad_cases[] = {
    {"{\"server\": {\"prot\": 1}}", "t.json: server.prot: unknown key"},
    {"{\"colour\": 1}", "t.json: colour: unknown key"},
    {"{\"server.port\": 1}", "t.json: server.port: unknown key"},
    {"{\"server\": {\"port\": {\"x\": 1}}}",
        "t.json: server.port: expected an integer"},
    {"{\"server\": {\"port\": \"14000\"}}",
        "t.json: server.port: expected an integer"},
    {"{\"server\": {\"port\": 14000.0}}",
        "t.json: server.port: expected an integer"},
    {"{\"server\": {\"port\": null}}",
        "t.json: server.port: expected an integer"},
    {"{\"server\": {\"port\": 0}}",
        "t.json: server.port: must be between 1 and 65535"},
    {"{\"server\": {\"port\": 65536}}",
        "t.json: server.port: must be between 1 and 65535"},
    {"{\"server\": {\"port\": 99999999999999999}}",
        "t.json: server.port: must be between 1 and 65535"},
    {"{\"server\": {\"threads\": 65}}",
        "t.json: server.threads: must be between 1 and 64"},
    {"{\"acme\": {\"max_identifiers\": 101}}",
        "t.json: acme.max_identifiers: must be between 1 and 100"},
    {"{\"server\": {\"test_nonce_reject_percent\": 101}}",
        "t.json: server.test_nonce_reject_percent: must be between 0 and "
        "100"},
    {"{\"ca\": {\"cert_validity_days\": 826}}",
        "t.json: ca.cert_validity_days: must be between 1 and 825"},
    {"{\"state_dir\": 3}", "t.json: state_dir: expected a string"},
    {"{\"state_dir\": \"\"}", "t.json: state_dir: must not be empty"},
    {"{\"storage\": {\"synchronous_commit\": 1}}",
        "t.json: storage.synchronous_commit: expected true or false"},
    {"{\"log\": {\"level\": \"loud\"}}",
        "t.json: log.level: must be one of err, warning, notice, info, "
        "debug"},
    {"{\"log\": {\"level\": 7}}", "t.json: log.level: expected a string"},
    {"{\"server\": {\"hostnames\": \"a.example\"}}",
        "t.json: server.hostnames: expected an array of strings"},
    {"{\"server\": {\"hostnames\": [1]}}",
        "t.json: server.hostnames: expected an array of strings"},
    {"{\"server\": {\"hostnames\": [\"\"]}}",
        "t.json: server.hostnames: entries must be 1 to 253 characters"},
    {"{\"server\": {\"hostnames\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
     "\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]}}",
        "t.json: server.hostnames: at most 16 entries"},
    {"{\"server\": 1}", "t.json: server: expected an object (a section)"},
    {"{\"server\": []}", "t.json: server: expected an object (a section)"},
    {"[]", "t.json: expected a JSON object"},
    {"", "t.json: line 1 column 0: *"},
    {"{\"server\": {\"port\": 1, \"port\": 2}}",
        "t.json: line 1 column 29: duplicate object key*"},
    {"{\"server\": {\"port\": 1}", "t.json: line 1 column 22: '}' expected*"},
    {"{\"server\": {\"tls_cert\": \"/c.pem\"}}",
        "t.json: server.tls_key: required when server.tls_cert is set"},
    {"{\"server\": {\"tls_key\": \"/k.pem\"}}",
        "t.json: server.tls_cert: required when server.tls_key is set"},
    {"{\"server\": {\"listen\": \"localhost\"}}",
        "t.json: server.listen: expected an IPv4 or IPv6 address"},
    {"{\"server\": {\"nonce_prefix\": \"abcdefghi\"}}",
        "t.json: server.nonce_prefix: must be at most 8 characters"},
    {"{\"server\": {\"nonce_prefix\": \"a+b\"}}",
        "t.json: server.nonce_prefix: only A-Z, a-z, 0-9, \"-\" and \"_\" "
        "are allowed"},
    {"{\"server\": {\"base_url\": \"ftp://x\"}}",
        "t.json: server.base_url: must start with https:// or http://*"},
    {"{\"server\": {\"base_url\": \"https://\"}}",
        "t.json: server.base_url: must start with https:// or http://*"},
    {"{\"server\": {\"base_url\": \"https://a b\"}}",
        "t.json: server.base_url: must start with https:// or http://*"},
    {"{\"server\": {\"base_url\": \"https://a/?x\"}}",
        "t.json: server.base_url: must start with https:// or http://*"},
    {"{\"ca\": {\"key_type\": \"ed25519\"}}",
        "t.json: ca.key_type: must be \"ecdsa\" or \"rsa\""},
    {"{\"ca\": {\"name\": \"\"}}", "t.json: ca.name: must not be empty"},
    {"{\"ca\": {\"intermediate_cert\": \"/i.pem\"}}",
        "t.json: ca.intermediate_key: required when ca.intermediate_cert "
        "is set"},
    {"{\"ca\": {\"intermediate_cert\": \"/i.pem\", "
     "\"intermediate_key\": \"/i.key\"}}",
        "t.json: ca.root_cert: required when ca.intermediate_cert is set"},
    {"{\"ca\": {\"root_cert\": \"/r.pem\"}}",
        "t.json: ca.intermediate_cert: required when ca.root_cert is set"},
    {"{\"acme\": {\"website\": \"example.org\"}}",
        "t.json: acme.website: must be an https:// or http:// URL"},
    {"{\"acme\": {\"terms_of_service\": \"file:///tos\"}}",
        "t.json: acme.terms_of_service: must be an https:// or http:// "
        "URL"},
    {"{\"validator\": {\"dns_server\": \"ns.example\"}}",
        "t.json: validator.dns_server: expected IP, IPv4:PORT or "
        "[IPv6]:PORT"},
    {"{\"validator\": {\"dns_server\": \"127.0.0.1:0\"}}",
        "t.json: validator.dns_server: expected IP, IPv4:PORT or "
        "[IPv6]:PORT"},
    {"{\"validator\": {\"dns_server\": \"[::1]\"}}",
        "t.json: validator.dns_server: expected IP, IPv4:PORT or "
        "[IPv6]:PORT"},
    {"{\"validator\": {\"timeout_ms\": 99}}",
        "t.json: validator.timeout_ms: must be between 100 and 60000"},
    /* Control characters in a key are escaped in the message. */
    {"{\"a\\nb\": 1}", "t.json: a\\x0ab: unknown key"},
};

static void
test_errors(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t n = strlen(c->msg);

		if (load(c->doc, &cfg, err) != -1)
			fail_msg("accepted: %s", c->doc);
		if (c->msg[n - 1] == '*') {
			if (strncmp(err, c->msg, n - 1) != 0)
				fail_msg("%s: got \"%s\"", c->doc, err);
		} else if (strcmp(err, c->msg) != 0) {
			fail_msg("%s: got \"%s\"", c->doc, err);
		}
		cb_config_clear(&cfg);
	}
}

static void
test_good_values(void **state)
{
	static const char *const docs[] = {
	    "{\"validator\": {\"dns_server\": \"127.0.0.1\"}}",
	    "{\"validator\": {\"dns_server\": \"::1\"}}",
	    "{\"validator\": {\"dns_server\": \"[::1]:5353\"}}",
	    "{\"server\": {\"listen\": \"0.0.0.0\", \"port\": 1}}",
	    "{\"server\": {\"port\": 65535, \"threads\": 1}}",
	    ("{\"ca\": {\"root_cert\": \"/r\", \"intermediate_cert\": \"/i\", "
	     "\"intermediate_key\": \"/k\"}}"),
	    "{\"log\": {\"level\": \"err\"}}",
	    "{\"server\": {\"nonce_prefix\": \"ABCDefgh\"}}",
	};
	struct cb_config cfg;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if (load(docs[i], &cfg, err) != 0)
			fail_msg("%s: %s", docs[i], err);
		cb_config_clear(&cfg);
	}
}

static void
test_too_large(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];
	char path[] = "/tmp/cb_config_test_XXXXXX";
	char *buf;
	FILE *f;
	int fd;

	(void)state;
	/* Valid JSON padded with whitespace just past the limit. */
	buf = malloc(CB_MAX_CONFIG_BYTES + 2);
	assert_non_null(buf);
	memset(buf, ' ', CB_MAX_CONFIG_BYTES + 1);
	memcpy(buf, "{}", 2);
	assert_int_equal(cb_config_load_buffer("t.json", buf,
	                     CB_MAX_CONFIG_BYTES + 1, &cfg, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "t.json: larger than 262144 bytes");
	cb_config_clear(&cfg);
	/* Exactly at the limit is fine. */
	assert_int_equal(cb_config_load_buffer("t.json", buf,
	                     CB_MAX_CONFIG_BYTES, &cfg, err, sizeof(err)),
	    0);
	cb_config_clear(&cfg);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, CB_MAX_CONFIG_BYTES + 1, f),
	    CB_MAX_CONFIG_BYTES + 1);
	fclose(f);
	assert_int_equal(cb_config_load(path, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ": larger than 262144 bytes"));
	assert_memory_equal(err, path, strlen(path));
	cb_config_clear(&cfg);
	unlink(path);
	free(buf);
}

static void
test_base_url(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(load("{\"server\": {\"port\": 15000}}", &cfg, err), 0);
	assert_string_equal(cfg.base_url, "https://localhost:15000");
	cb_config_clear(&cfg);
	assert_int_equal(load("{\"server\": {\"base_url\": "
	                      "\"http://ca.internal:8080/acme//\"}}",
	                     &cfg, err),
	    0);
	assert_string_equal(cfg.base_url, "http://ca.internal:8080/acme");
	cb_config_clear(&cfg);
}

/* Prints CFG to a string the caller frees. */
static char *
print_to_string(const struct cb_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	cb_config_print(cfg, f);
	fclose(f);
	return buf;
}

static void
test_print_redacts(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];
	json_error_t jerr;
	json_t *root;
	char *out;

	(void)state;
	assert_int_equal(load(full_doc, &cfg, err), 0);
	out = print_to_string(&cfg);
	assert_null(strstr(out, "hunter2"));
	root = json_loads(out, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(root, "storage"), "dsn")),
	    "(redacted)");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(root, "server"), "port")),
	    443);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(root, "log"), "level")),
	    "debug");
	assert_string_equal(
	    json_string_value(json_array_get(
	        json_object_get(json_object_get(root, "server"), "hostnames"),
	        1)),
	    "ca.example.org");
	json_decref(root);
	free(out);
	cb_config_clear(&cfg);

	/* An empty secret prints as empty, so operators see it is unset. */
	cb_config_defaults(&cfg);
	out = print_to_string(&cfg);
	assert_non_null(strstr(out, "\"dsn\": \"\""));
	cb_config_clear(&cfg);
	/* The printout of a config loads back to the same config. */
	assert_int_equal(load(out, &cfg, err), 0);
	assert_defaults(&cfg);
	cb_config_clear(&cfg);
	free(out);
}

/* Runs cb_config_warn_testmode with stderr sent to a string. */
static char *
capture_warnings(const struct cb_config *cfg)
{
	char path[] = "/tmp/cb_config_log_XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(STDERR_FILENO);
	char *out;

	assert_true(fd >= 0 && saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	cb_config_warn_testmode(cfg);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(fd);
	out = read_file(path);
	unlink(path);
	assert_non_null(out);
	return out;
}

static void
test_warn_testmode(void **state)
{
	struct cb_config cfg;
	char err[ERRLEN];
	char *out;

	(void)state;
	cb_log_set_level(LOG_INFO);
	cb_config_defaults(&cfg);
	out = capture_warnings(&cfg);
	assert_string_equal(out, "");
	free(out);
	cb_config_clear(&cfg);

	assert_int_equal(load(full_doc, &cfg, err), 0);
	out = capture_warnings(&cfg);
	assert_non_null(strstr(out,
	    "warning: TEST MODE: validator.http01_port"
	    " is 5002 (default 80)"));
	assert_non_null(strstr(
	    out, "TEST MODE: validator.dns_server is \"127.0.0.1:5353\""));
	assert_non_null(strstr(out, "validator.allow_loopback is true"));
	assert_non_null(strstr(out, "validator.allow_private is true"));
	assert_non_null(strstr(out, "validator.test_always_valid is true"));
	assert_non_null(strstr(out, "validator.test_delay_ms is 100"));
	assert_non_null(
	    strstr(out, "server.test_nonce_reject_percent is 5 (default 0)"));
	/* Only test-mode knobs are reported, and secrets never. */
	assert_null(strstr(out, "server.port"));
	assert_null(strstr(out, "hunter2"));
	free(out);
	cb_config_clear(&cfg);
}

static void
test_keys(void **state)
{
	const char *const *keys = cb_config_keys();
	size_t n = 0;

	(void)state;
	for (; keys[n] != NULL; n++)
		;
	assert_int_equal(n, 42);
	assert_string_equal(keys[0], "state_dir");
	assert_string_equal(keys[n - 1], "validator.test_delay_ms");
}

/* Every key is documented: docs/configuration.md names it as `key`. */
static void
test_keys_documented(void **state)
{
	const char *const *keys = cb_config_keys();
	char *doc;
	char needle[160];
	int missing = 0;

	(void)state;
	doc = read_file(COBBLE_SOURCE_DIR "/docs/configuration.md");
	if (doc == NULL)
		fail_msg("cannot read docs/configuration.md");
	for (size_t i = 0; keys[i] != NULL; i++) {
		snprintf(needle, sizeof(needle), "`%s`", keys[i]);
		if (strstr(doc, needle) == NULL) {
			print_error("undocumented key: %s\n", keys[i]);
			missing++;
		}
	}
	free(doc);
	assert_int_equal(missing, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_empty_object_is_defaults),
	    cmocka_unit_test(test_full_document),
	    cmocka_unit_test(test_example_file),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_good_values),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_base_url),
	    cmocka_unit_test(test_print_redacts),
	    cmocka_unit_test(test_warn_testmode),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_keys_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
