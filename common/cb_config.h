/* SPDX-License-Identifier: ISC */
/* The configuration: one JSON file, every key in one table (cb_config.c),
 * every key documented in docs/configuration.md. Built once before any
 * thread starts and never modified. */
#ifndef CB_CONFIG_H
#define CB_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "cb_mem.h"

#define CB_CONFIG_MAX_NAMES 16

struct cb_config {
	/* Where the embedded database, keys and certificates live. */
	char *state_dir;
	/* log.level: "err".."debug". */
	int log_level;

	/* server.*: the ACME API listener. */
	char *listen_address; /* server.listen */
	int port;             /* server.port */
	char *base_url;       /* server.base_url; "" = derived */
	char *hostnames[CB_CONFIG_MAX_NAMES]; /* server.hostnames */
	int nhostnames;
	char *tls_cert_file;           /* server.tls_cert ("" = issue) */
	char *tls_key_file;            /* server.tls_key */
	int threads;                   /* server.threads */
	int max_connections;           /* server.max_connections */
	int per_ip_connections;        /* server.per_ip_connections */
	int connection_timeout;        /* server.connection_timeout (s) */
	char *nonce_prefix;            /* server.nonce_prefix ("" = random) */
	int nonce_lifetime;            /* server.nonce_lifetime (s) */
	int test_nonce_reject_percent; /* server.test_nonce_reject_percent */

	/* storage.*: PostgreSQL. */
	char *dsn;               /* storage.dsn ("" = embedded) */
	int pool_size;           /* storage.pool_size (0 = auto) */
	char *embedded_user;     /* storage.embedded_user */
	bool synchronous_commit; /* storage.synchronous_commit */
	bool group_commit;       /* storage.group_commit */

	/* ca.*: the issuer hierarchy and the certificate profile. */
	char *ca_key_type;               /* ca.key_type: "ecdsa" or "rsa" */
	char *ca_name;                   /* ca.name (subject O and CN base) */
	char *ca_root_cert_file;         /* ca.root_cert ("" = generated) */
	char *ca_intermediate_cert_file; /* ca.intermediate_cert */
	char *ca_intermediate_key_file;  /* ca.intermediate_key */
	int cert_validity_days;          /* ca.cert_validity_days */

	/* acme.*: protocol behaviour. */
	char *terms_of_service;                    /* acme.terms_of_service */
	char *website;                             /* acme.website */
	char *caa_identities[CB_CONFIG_MAX_NAMES]; /* acme.caa_identities */
	int ncaa_identities;
	int order_lifetime;         /* acme.order_lifetime (s) */
	int pending_authz_lifetime; /* acme.pending_authz_lifetime (s) */
	int valid_authz_lifetime;   /* acme.valid_authz_lifetime (s) */
	int retry_after;            /* acme.retry_after (s) */
	int max_identifiers;        /* acme.max_identifiers */

	/* validator.*: local validation workers. */
	int va_workers;         /* validator.workers */
	int va_http01_port;     /* validator.http01_port (test) */
	char *va_dns_server;    /* validator.dns_server ("" = system) */
	bool va_allow_loopback; /* validator.allow_loopback (test) */
	bool va_allow_private;  /* validator.allow_private (test) */
	int va_timeout_ms;      /* validator.timeout_ms */
	bool va_always_valid;   /* validator.test_always_valid */
	int va_delay_ms;        /* validator.test_delay_ms */
};

/* Fills CFG with every default: every string is non-NULL and base_url is
 * derived. Release with cb_config_clear(). */
void cb_config_defaults(struct cb_config *cfg);
/* Fills CFG with the defaults itself, then loads PATH over them; CFG's
 * previous contents are overwritten, not freed. Unknown keys, wrong types,
 * out-of-range values and failed cross-field checks fail with "PATH: key:
 * reason" in ERR (size ERRLEN). Returns 0 or -1; on -1, CFG must still be
 * cleared. */
int cb_config_load(const char *path, struct cb_config *cfg, char *err,
    size_t errlen) CB_MUSTCHECK;
/* Parses a configuration from a buffer (NAME is used in messages). */
int cb_config_load_buffer(const char *name, const char *buf, size_t len,
    struct cb_config *cfg, char *err, size_t errlen) CB_MUSTCHECK;
/* Logs a warning for each test-mode knob that is on. */
void cb_config_warn_testmode(const struct cb_config *cfg);
/* Prints the effective configuration as JSON, secrets redacted. */
void cb_config_print(const struct cb_config *cfg, FILE *out);
/* Frees every string CFG owns. */
void cb_config_clear(struct cb_config *cfg);
/* Names every key in the table, NULL-terminated (for the docs test). */
const char *const *cb_config_keys(void);

#endif
