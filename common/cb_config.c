/* SPDX-License-Identifier: ISC */
/* The configuration table, the JSON loader over it, the cross-field checks,
 * the test-mode warnings and the redacted printout (STYLE rule 12). */
#include "cb_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cb_limits.h"
#include "cb_log.h"

enum cb_cfg_type {
	CB_CFG_STRING,    /* char *; min/max bound the length */
	CB_CFG_INT,       /* int in [min, max] */
	CB_CFG_BOOL,      /* bool */
	CB_CFG_PORT,      /* int in [min, max], a TCP port */
	CB_CFG_STRINGS,   /* char *[max] and an int count; non-empty entries */
	CB_CFG_LOG_LEVEL, /* int, a syslog level, written as its name */
};

/* May hold a password: never printed, wiped before free. */
#define CB_CFG_SECRET 0x1u
/* Only for testing; a warning is logged when not at its default. */
#define CB_CFG_TESTMODE 0x2u

struct cb_cfg_opt {
	const char *key; /* dotted path: section "." name */
	enum cb_cfg_type type;
	size_t off;       /* of the value in struct cb_config */
	size_t count_off; /* CB_CFG_STRINGS: of the int count */
	const char *def;  /* the default, as text ("" for arrays: empty) */
	long long min, max;
	unsigned flags;
};

#define CB_CFG_OFF(f) offsetof(struct cb_config, f)
/* A path fits here; the longest known key is far shorter. */
#define CB_CFG_PATH_MAX 128
/* Paths and DSNs; a longer string is certainly a mistake. */
#define CB_CFG_STR_MAX 4096
/* Leaves room for the paths Cobble appends within CB_MAX_URL_LEN. */
#define CB_CFG_URL_MAX 512
/* The CA appends " Root CA" and the like; X.509 caps a CN at 64. */
#define CB_CFG_CA_NAME_MAX 48

/*
 * The table. It is written once, as an X-macro, so that the rows and the
 * NULL-terminated key list of cb_config_keys() cannot drift apart.
 * Columns: key, type, field, count field (arrays), default, min, max, flags.
 * Strings: min/max bound the length. Arrays: max is the number of entries.
 */
#define CB_CFG_TABLE(X)                                                        \
	X("state_dir", CB_CFG_STRING, CB_CFG_OFF(state_dir), 0,                \
	    "/var/lib/cobble", 1, CB_CFG_STR_MAX, 0)                           \
	X("log.level", CB_CFG_LOG_LEVEL, CB_CFG_OFF(log_level), 0, "info", 0,  \
	    0, 0)                                                              \
	X("server.listen", CB_CFG_STRING, CB_CFG_OFF(listen_address), 0,       \
	    "127.0.0.1", 1, INET6_ADDRSTRLEN, 0)                               \
	X("server.port", CB_CFG_PORT, CB_CFG_OFF(port), 0, "14000", 1, 65535,  \
	    0)                                                                 \
	X("server.base_url", CB_CFG_STRING, CB_CFG_OFF(base_url), 0, "", 0,    \
	    CB_CFG_URL_MAX, 0)                                                 \
	X("server.hostnames", CB_CFG_STRINGS, CB_CFG_OFF(hostnames),           \
	    CB_CFG_OFF(nhostnames), "", 0, CB_CONFIG_MAX_NAMES, 0)             \
	X("server.tls_cert", CB_CFG_STRING, CB_CFG_OFF(tls_cert_file), 0, "",  \
	    0, CB_CFG_STR_MAX, 0)                                              \
	X("server.tls_key", CB_CFG_STRING, CB_CFG_OFF(tls_key_file), 0, "", 0, \
	    CB_CFG_STR_MAX, 0)                                                 \
	X("server.threads", CB_CFG_INT, CB_CFG_OFF(threads), 0, "32", 1, 64,   \
	    0)                                                                 \
	X("server.max_connections", CB_CFG_INT, CB_CFG_OFF(max_connections),   \
	    0, "1024", 1, 65536, 0)                                            \
	X("server.per_ip_connections", CB_CFG_INT,                             \
	    CB_CFG_OFF(per_ip_connections), 0, "0", 0, 65536, 0)               \
	X("server.connection_timeout", CB_CFG_INT,                             \
	    CB_CFG_OFF(connection_timeout), 0, "30", 1, 3600, 0)               \
	X("server.nonce_prefix", CB_CFG_STRING, CB_CFG_OFF(nonce_prefix), 0,   \
	    "", 0, 8, 0)                                                       \
	X("server.nonce_lifetime", CB_CFG_INT, CB_CFG_OFF(nonce_lifetime), 0,  \
	    "3600", 10, 86400, 0)                                              \
	X("server.test_nonce_reject_percent", CB_CFG_INT,                      \
	    CB_CFG_OFF(test_nonce_reject_percent), 0, "0", 0, 100,             \
	    CB_CFG_TESTMODE)                                                   \
	X("storage.dsn", CB_CFG_STRING, CB_CFG_OFF(dsn), 0, "", 0,             \
	    CB_CFG_STR_MAX, CB_CFG_SECRET)                                     \
	X("storage.pool_size", CB_CFG_INT, CB_CFG_OFF(pool_size), 0, "0", 0,   \
	    256, 0)                                                            \
	X("storage.embedded_user", CB_CFG_STRING, CB_CFG_OFF(embedded_user),   \
	    0, "postgres", 1, 64, 0)                                           \
	X("storage.synchronous_commit", CB_CFG_BOOL,                           \
	    CB_CFG_OFF(synchronous_commit), 0, "true", 0, 0, 0)                \
	X("storage.group_commit", CB_CFG_BOOL, CB_CFG_OFF(group_commit), 0,    \
	    "true", 0, 0, 0)                                                   \
	X("ca.key_type", CB_CFG_STRING, CB_CFG_OFF(ca_key_type), 0, "ecdsa",   \
	    1, 8, 0)                                                           \
	X("ca.name", CB_CFG_STRING, CB_CFG_OFF(ca_name), 0, "Cobble", 1,       \
	    CB_CFG_CA_NAME_MAX, 0)                                             \
	X("ca.root_cert", CB_CFG_STRING, CB_CFG_OFF(ca_root_cert_file), 0, "", \
	    0, CB_CFG_STR_MAX, 0)                                              \
	X("ca.intermediate_cert", CB_CFG_STRING,                               \
	    CB_CFG_OFF(ca_intermediate_cert_file), 0, "", 0, CB_CFG_STR_MAX,   \
	    0)                                                                 \
	X("ca.intermediate_key", CB_CFG_STRING,                                \
	    CB_CFG_OFF(ca_intermediate_key_file), 0, "", 0, CB_CFG_STR_MAX, 0) \
	X("ca.cert_validity_days", CB_CFG_INT, CB_CFG_OFF(cert_validity_days), \
	    0, "90", 1, 825, 0)                                                \
	X("acme.terms_of_service", CB_CFG_STRING,                              \
	    CB_CFG_OFF(terms_of_service), 0, "", 0, CB_CFG_URL_MAX, 0)         \
	X("acme.website", CB_CFG_STRING, CB_CFG_OFF(website), 0, "", 0,        \
	    CB_CFG_URL_MAX, 0)                                                 \
	X("acme.caa_identities", CB_CFG_STRINGS, CB_CFG_OFF(caa_identities),   \
	    CB_CFG_OFF(ncaa_identities), "", 0, CB_CONFIG_MAX_NAMES, 0)        \
	X("acme.order_lifetime", CB_CFG_INT, CB_CFG_OFF(order_lifetime), 0,    \
	    "604800", 60, 31536000, 0)                                         \
	X("acme.pending_authz_lifetime", CB_CFG_INT,                           \
	    CB_CFG_OFF(pending_authz_lifetime), 0, "604800", 60, 31536000, 0)  \
	X("acme.valid_authz_lifetime", CB_CFG_INT,                             \
	    CB_CFG_OFF(valid_authz_lifetime), 0, "2592000", 60, 31536000, 0)   \
	X("acme.retry_after", CB_CFG_INT, CB_CFG_OFF(retry_after), 0, "1", 0,  \
	    60, 0)                                                             \
	X("acme.max_identifiers", CB_CFG_INT, CB_CFG_OFF(max_identifiers), 0,  \
	    "100", 1, CB_MAX_IDENTIFIERS, 0)                                   \
	X("validator.workers", CB_CFG_INT, CB_CFG_OFF(va_workers), 0, "16", 1, \
	    64, 0)                                                             \
	X("validator.http01_port", CB_CFG_PORT, CB_CFG_OFF(va_http01_port), 0, \
	    "80", 1, 65535, CB_CFG_TESTMODE)                                   \
	X("validator.dns_server", CB_CFG_STRING, CB_CFG_OFF(va_dns_server), 0, \
	    "", 0, INET6_ADDRSTRLEN + 8, CB_CFG_TESTMODE)                      \
	X("validator.allow_loopback", CB_CFG_BOOL,                             \
	    CB_CFG_OFF(va_allow_loopback), 0, "false", 0, 0, CB_CFG_TESTMODE)  \
	X("validator.allow_private", CB_CFG_BOOL,                              \
	    CB_CFG_OFF(va_allow_private), 0, "false", 0, 0, CB_CFG_TESTMODE)   \
	X("validator.timeout_ms", CB_CFG_INT, CB_CFG_OFF(va_timeout_ms), 0,    \
	    "10000", 100, 60000, 0)                                            \
	X("validator.test_always_valid", CB_CFG_BOOL,                          \
	    CB_CFG_OFF(va_always_valid), 0, "false", 0, 0, CB_CFG_TESTMODE)    \
	X("validator.test_delay_ms", CB_CFG_INT, CB_CFG_OFF(va_delay_ms), 0,   \
	    "0", 0, 60000, CB_CFG_TESTMODE)

#define CB_CFG_ROW(k, t, o, c, d, lo, hi, f) {k, t, o, c, d, lo, hi, f},
#define CB_CFG_KEY(k, t, o, c, d, lo, hi, f) k,

static const struct cb_cfg_opt cb_cfg_table[] = {CB_CFG_TABLE(CB_CFG_ROW)};
static const char *const cb_cfg_keys[] = {CB_CFG_TABLE(CB_CFG_KEY) NULL};

#define CB_CFG_NOPTS (sizeof(cb_cfg_table) / sizeof(cb_cfg_table[0]))

/* Indexed by syslog level; only LOG_ERR..LOG_DEBUG are accepted. */
static const char *const cb_cfg_level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

/* What one load works on; the error goes to ERR as "NAME: key: reason". */
struct cb_cfg_load {
	struct cb_config *cfg;
	const char *name;
	char *err;
	size_t errlen;
};

static int cb_cfg_fail(struct cb_cfg_load *ld, const char *key, const char *fmt,
    ...) CB_PRINTF(3, 4);

static int
cb_cfg_fail(struct cb_cfg_load *ld, const char *key, const char *fmt, ...)
{
	char esc[CB_CFG_PATH_MAX * 4];
	va_list ap;
	int n;

	if (ld->err == NULL || ld->errlen == 0)
		return -1;
	/* Keys come from the file: escape them before they reach a log. */
	if (key != NULL) {
		cb_log_escape(key, esc, sizeof(esc));
		n = snprintf(ld->err, ld->errlen, "%s: %s: ", ld->name, esc);
	} else {
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->name);
	}
	if (n < 0 || (size_t)n >= ld->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static char **
cb_cfg_str(struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	return (char **)(void *)((char *)cfg + o->off);
}

static int *
cb_cfg_int(struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	return (int *)(void *)((char *)cfg + o->off);
}

static bool *
cb_cfg_bool(struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	return (bool *)(void *)((char *)cfg + o->off);
}

static int *
cb_cfg_count(struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	return (int *)(void *)((char *)cfg + o->count_off);
}

static void
cb_cfg_str_free(char *s, const struct cb_cfg_opt *o)
{
	if (s != NULL && (o->flags & CB_CFG_SECRET) != 0)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void
cb_cfg_set_str(
    struct cb_config *cfg, const struct cb_cfg_opt *o, const char *val)
{
	char **sp = cb_cfg_str(cfg, o);

	cb_cfg_str_free(*sp, o);
	*sp = cb_strdup(val);
}

/* Frees the entries of an array option and empties it. */
static void
cb_cfg_strings_clear(struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	char **arr = cb_cfg_str(cfg, o);
	int *n = cb_cfg_count(cfg, o);

	for (int i = 0; i < *n; i++) {
		cb_cfg_str_free(arr[i], o);
		arr[i] = NULL;
	}
	*n = 0;
}

/* Sets O to its default; the defaults are trusted text from the table. */
static void
cb_cfg_set_default(struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	switch (o->type) {
	case CB_CFG_STRING:
		cb_cfg_set_str(cfg, o, o->def);
		break;
	case CB_CFG_INT:
	case CB_CFG_PORT:
		*cb_cfg_int(cfg, o) = (int)strtol(o->def, NULL, 10);
		break;
	case CB_CFG_BOOL:
		*cb_cfg_bool(cfg, o) = strcmp(o->def, "true") == 0;
		break;
	case CB_CFG_STRINGS:
		cb_cfg_strings_clear(cfg, o);
		break;
	case CB_CFG_LOG_LEVEL:
		*cb_cfg_int(cfg, o) = cb_log_level_parse(o->def);
		break;
	}
}

static void
cb_cfg_apply_defaults(struct cb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < CB_CFG_NOPTS; i++)
		cb_cfg_set_default(cfg, &cb_cfg_table[i]);
}

static int
cb_cfg_check_len(
    struct cb_cfg_load *ld, const struct cb_cfg_opt *o, const char *s)
{
	size_t len = strlen(s);

	if (len < (size_t)o->min)
		return cb_cfg_fail(ld, o->key, "must not be empty");
	if (len > (size_t)o->max)
		return cb_cfg_fail(
		    ld, o->key, "must be at most %lld characters", o->max);
	return 0;
}

static int
cb_cfg_parse_strings(
    struct cb_cfg_load *ld, const struct cb_cfg_opt *o, const json_t *val)
{
	char **arr = cb_cfg_str(ld->cfg, o);
	int *n = cb_cfg_count(ld->cfg, o);
	const json_t *item;
	size_t i;

	if (!json_is_array(val))
		return cb_cfg_fail(ld, o->key, "expected an array of strings");
	if (json_array_size(val) > (size_t)o->max)
		return cb_cfg_fail(ld, o->key, "at most %lld entries", o->max);
	cb_cfg_strings_clear(ld->cfg, o);
	json_array_foreach (val, i, item) {
		if (!json_is_string(item))
			return cb_cfg_fail(
			    ld, o->key, "expected an array of strings");
		if (json_string_length(item) == 0 ||
		    json_string_length(item) > CB_MAX_DNS_NAME)
			return cb_cfg_fail(ld, o->key,
			    "entries must be 1 to %d characters",
			    CB_MAX_DNS_NAME);
		arr[*n] = cb_strdup(json_string_value(item));
		(*n)++;
	}
	return 0;
}

static int
cb_cfg_parse_int(
    struct cb_cfg_load *ld, const struct cb_cfg_opt *o, const json_t *val)
{
	json_int_t v;

	if (!json_is_integer(val))
		return cb_cfg_fail(ld, o->key, "expected an integer");
	v = json_integer_value(val);
	if (v < o->min || v > o->max)
		return cb_cfg_fail(ld, o->key, "must be between %lld and %lld",
		    o->min, o->max);
	*cb_cfg_int(ld->cfg, o) = (int)v;
	return 0;
}

/* Stores VAL, checked against O's type and bounds, into the config. */
static int
cb_cfg_parse_value(
    struct cb_cfg_load *ld, const struct cb_cfg_opt *o, const json_t *val)
{
	int level;

	switch (o->type) {
	case CB_CFG_INT:
	case CB_CFG_PORT:
		return cb_cfg_parse_int(ld, o, val);
	case CB_CFG_BOOL:
		if (!json_is_boolean(val))
			return cb_cfg_fail(
			    ld, o->key, "expected true or false");
		*cb_cfg_bool(ld->cfg, o) = json_is_true(val);
		return 0;
	case CB_CFG_STRINGS:
		return cb_cfg_parse_strings(ld, o, val);
	case CB_CFG_LOG_LEVEL:
		if (!json_is_string(val))
			return cb_cfg_fail(ld, o->key, "expected a string");
		level = cb_log_level_parse(json_string_value(val));
		if (level < 0)
			return cb_cfg_fail(ld, o->key,
			    "must be one of err, warning, notice, info, debug");
		*cb_cfg_int(ld->cfg, o) = level;
		return 0;
	case CB_CFG_STRING:
		break;
	}
	if (!json_is_string(val))
		return cb_cfg_fail(ld, o->key, "expected a string");
	if (cb_cfg_check_len(ld, o, json_string_value(val)) < 0)
		return -1;
	cb_cfg_set_str(ld->cfg, o, json_string_value(val));
	return 0;
}

static const struct cb_cfg_opt *
cb_cfg_find(const char *key)
{
	for (size_t i = 0; i < CB_CFG_NOPTS; i++)
		if (strcmp(cb_cfg_table[i].key, key) == 0)
			return &cb_cfg_table[i];
	return NULL;
}

/* True when some key lives under PATH, i.e. PATH names a section. */
static bool
cb_cfg_is_section(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < CB_CFG_NOPTS; i++)
		if (strncmp(cb_cfg_table[i].key, path, len) == 0 &&
		    cb_cfg_table[i].key[len] == '.')
			return true;
	return false;
}

/* Walks OBJ, whose keys sit under PREFIX ("" at the top). Keys must be
 * nested objects, never dotted, so each option is written one way only;
 * recursion is bounded by the table's depth since unknown keys fail. */
static int
cb_cfg_walk(struct cb_cfg_load *ld, const char *prefix, const json_t *obj)
{
	char path[CB_CFG_PATH_MAX];
	const struct cb_cfg_opt *o;
	const char *key;
	json_t *val;
	int n;

	json_object_foreach ((json_t *)obj, key, val) {
		n = snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", key);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    strchr(key, '.') != NULL || key[0] == '\0')
			return cb_cfg_fail(ld, path, "unknown key");
		if ((o = cb_cfg_find(path)) != NULL) {
			if (cb_cfg_parse_value(ld, o, val) < 0)
				return -1;
			continue;
		}
		if (!cb_cfg_is_section(path))
			return cb_cfg_fail(ld, path, "unknown key");
		if (!json_is_object(val))
			return cb_cfg_fail(
			    ld, path, "expected an object (a section)");
		if (cb_cfg_walk(ld, path, val) < 0)
			return -1;
	}
	return 0;
}

static bool
cb_cfg_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/* "IP", "IPv4:PORT" or "[IPv6]:PORT", as c-ares accepts them. */
static bool
cb_cfg_is_dns_server(const char *s)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	size_t hlen;
	char *end;
	long p;

	if (cb_cfg_is_ip(s))
		return true;
	if (s[0] == '[') {
		port = strstr(s, "]:");
		if (port == NULL)
			return false;
		s++;
		hlen = (size_t)(port - s);
		port += 2;
	} else {
		port = strrchr(s, ':');
		if (port == NULL)
			return false;
		hlen = (size_t)(port - s);
		port++;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno != 0 || *port == '\0' || *end != '\0' || p < 1 || p > 65535)
		return false;
	return cb_cfg_is_ip(host);
}

static bool
cb_cfg_is_http_url(const char *s)
{
	const char *rest;

	if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else
		return false;
	if (*rest == '\0' || *rest == '/')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* server.base_url: derived when empty, no trailing "/", http(s) only. */
static int
cb_cfg_check_base_url(struct cb_cfg_load *ld)
{
	struct cb_config *cfg = ld->cfg;
	size_t len;

	if (cfg->base_url[0] == '\0') {
		free(cfg->base_url);
		cfg->base_url = cb_asprintf("https://localhost:%d", cfg->port);
	}
	len = strlen(cfg->base_url);
	while (len > 0 && cfg->base_url[len - 1] == '/')
		cfg->base_url[--len] = '\0';
	if (!cb_cfg_is_http_url(cfg->base_url) ||
	    strpbrk(cfg->base_url, "?#") != NULL)
		return cb_cfg_fail(ld, "server.base_url",
		    "must start with https:// or http:// and name a host, "
		    "with no query or fragment");
	return 0;
}

/* Two options that are set together or not at all. */
static int
cb_cfg_check_pair(struct cb_cfg_load *ld, const char *ka, const char *a,
    const char *kb, const char *b)
{
	if (a[0] != '\0' && b[0] == '\0')
		return cb_cfg_fail(ld, kb, "required when %s is set", ka);
	if (b[0] != '\0' && a[0] == '\0')
		return cb_cfg_fail(ld, ka, "required when %s is set", kb);
	return 0;
}

static int
cb_cfg_check_server(struct cb_cfg_load *ld)
{
	struct cb_config *cfg = ld->cfg;

	if (!cb_cfg_is_ip(cfg->listen_address))
		return cb_cfg_fail(
		    ld, "server.listen", "expected an IPv4 or IPv6 address");
	if (cb_cfg_check_base_url(ld) < 0)
		return -1;
	if (cb_cfg_check_pair(ld, "server.tls_cert", cfg->tls_cert_file,
	        "server.tls_key", cfg->tls_key_file) < 0)
		return -1;
	/* The prefix starts every nonce, which is base64url (RFC 8555 6.5.1).
	 */
	if (strspn(cfg->nonce_prefix,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789-_") != strlen(cfg->nonce_prefix))
		return cb_cfg_fail(ld, "server.nonce_prefix",
		    "only A-Z, a-z, 0-9, \"-\" and \"_\" are allowed");
	return 0;
}

static int
cb_cfg_check_ca(struct cb_cfg_load *ld)
{
	struct cb_config *cfg = ld->cfg;

	if (strcmp(cfg->ca_key_type, "ecdsa") != 0 &&
	    strcmp(cfg->ca_key_type, "rsa") != 0)
		return cb_cfg_fail(
		    ld, "ca.key_type", "must be \"ecdsa\" or \"rsa\"");
	if (cb_cfg_check_pair(ld, "ca.intermediate_cert",
	        cfg->ca_intermediate_cert_file, "ca.intermediate_key",
	        cfg->ca_intermediate_key_file) < 0)
		return -1;
	/* A loaded hierarchy is all three files; without the root key the
	 * CA could not make an intermediate for a lone root. */
	return cb_cfg_check_pair(ld, "ca.root_cert", cfg->ca_root_cert_file,
	    "ca.intermediate_cert", cfg->ca_intermediate_cert_file);
}

/* The cross-field checks, after every key is read (STYLE rule 12). */
static int
cb_config_check(struct cb_cfg_load *ld)
{
	struct cb_config *cfg = ld->cfg;

	if (cb_cfg_check_server(ld) < 0 || cb_cfg_check_ca(ld) < 0)
		return -1;
	if (cfg->terms_of_service[0] != '\0' &&
	    !cb_cfg_is_http_url(cfg->terms_of_service))
		return cb_cfg_fail(ld, "acme.terms_of_service",
		    "must be an https:// or http:// URL");
	if (cfg->website[0] != '\0' && !cb_cfg_is_http_url(cfg->website))
		return cb_cfg_fail(
		    ld, "acme.website", "must be an https:// or http:// URL");
	if (cfg->va_dns_server[0] != '\0' &&
	    !cb_cfg_is_dns_server(cfg->va_dns_server))
		return cb_cfg_fail(ld, "validator.dns_server",
		    "expected IP, IPv4:PORT or [IPv6]:PORT");
	return 0;
}

void
cb_config_defaults(struct cb_config *cfg)
{
	struct cb_cfg_load ld = {cfg, "defaults", NULL, 0};

	cb_cfg_apply_defaults(cfg);
	/* Derives base_url; the defaults pass every other check. */
	(void)cb_config_check(&ld);
}

int
cb_config_load_buffer(const char *name, const char *buf, size_t len,
    struct cb_config *cfg, char *err, size_t errlen)
{
	struct cb_cfg_load ld = {cfg, name, err, errlen};
	json_error_t jerr;
	json_t *root = NULL;
	int rc = -1;

	if (name == NULL)
		ld.name = "configuration";
	cb_cfg_apply_defaults(cfg);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > CB_MAX_CONFIG_BYTES) {
		cb_cfg_fail(
		    &ld, NULL, "larger than %d bytes", CB_MAX_CONFIG_BYTES);
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		cb_cfg_fail(&ld, NULL, "line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		cb_cfg_fail(&ld, NULL, "expected a JSON object");
		goto out;
	}
	if (cb_cfg_walk(&ld, "", root) < 0 || cb_config_check(&ld) < 0)
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
cb_config_load(
    const char *path, struct cb_config *cfg, char *err, size_t errlen)
{
	struct cb_cfg_load ld = {cfg, path, err, errlen};
	char *buf = NULL;
	FILE *f = NULL;
	size_t len;
	int rc = -1;

	cb_cfg_apply_defaults(cfg);
	if ((f = fopen(path, "re")) == NULL) {
		cb_cfg_fail(&ld, NULL, "%s", strerror(errno));
		goto out;
	}
	/* One byte more than allowed tells "too large" from "exactly full". */
	buf = cb_malloc(CB_MAX_CONFIG_BYTES + 1);
	len = fread(buf, 1, CB_MAX_CONFIG_BYTES + 1, f);
	if (ferror(f)) {
		cb_cfg_fail(&ld, NULL, "%s", strerror(errno));
		goto out;
	}
	if (len > CB_MAX_CONFIG_BYTES) {
		cb_cfg_fail(
		    &ld, NULL, "larger than %d bytes", CB_MAX_CONFIG_BYTES);
		goto out;
	}
	/* The buffer loader starts again from the defaults. */
	cb_config_clear(cfg);
	rc = cb_config_load_buffer(path, buf, len, cfg, err, errlen);
out:
	if (f != NULL)
		fclose(f);
	if (buf != NULL)
		OPENSSL_cleanse(buf, CB_MAX_CONFIG_BYTES + 1);
	free(buf);
	return rc;
}

static bool
cb_cfg_is_default(const struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	struct cb_config *c = (struct cb_config *)cfg;

	switch (o->type) {
	case CB_CFG_INT:
	case CB_CFG_PORT:
		return *cb_cfg_int(c, o) == (int)strtol(o->def, NULL, 10);
	case CB_CFG_BOOL:
		return *cb_cfg_bool(c, o) == (strcmp(o->def, "true") == 0);
	case CB_CFG_STRINGS:
		return *cb_cfg_count(c, o) == 0;
	case CB_CFG_LOG_LEVEL:
		return *cb_cfg_int(c, o) == cb_log_level_parse(o->def);
	case CB_CFG_STRING:
		break;
	}
	return strcmp(*cb_cfg_str(c, o), o->def) == 0;
}

/* O's value as JSON; secrets that are set print as "(redacted)". */
static json_t *
cb_cfg_value_json(const struct cb_config *cfg, const struct cb_cfg_opt *o)
{
	struct cb_config *c = (struct cb_config *)cfg;
	const char *s;
	json_t *arr;
	int level;

	switch (o->type) {
	case CB_CFG_INT:
	case CB_CFG_PORT:
		return json_integer(*cb_cfg_int(c, o));
	case CB_CFG_BOOL:
		return json_boolean(*cb_cfg_bool(c, o));
	case CB_CFG_STRINGS:
		if ((arr = json_array()) == NULL)
			return NULL;
		for (int i = 0; i < *cb_cfg_count(c, o); i++)
			json_array_append_new(
			    arr, json_string(cb_cfg_str(c, o)[i]));
		return arr;
	case CB_CFG_LOG_LEVEL:
		level = *cb_cfg_int(c, o);
		if (level < LOG_ERR || level > LOG_DEBUG)
			level = LOG_DEBUG;
		return json_string(cb_cfg_level_names[level]);
	case CB_CFG_STRING:
		break;
	}
	s = *cb_cfg_str(c, o);
	if (s == NULL)
		s = "";
	if ((o->flags & CB_CFG_SECRET) != 0 && s[0] != '\0')
		s = "(redacted)";
	return json_string(s);
}

void
cb_config_warn_testmode(const struct cb_config *cfg)
{
	char *val;

	for (size_t i = 0; i < CB_CFG_NOPTS; i++) {
		const struct cb_cfg_opt *o = &cb_cfg_table[i];
		json_t *j;

		if ((o->flags & CB_CFG_TESTMODE) == 0 ||
		    cb_cfg_is_default(cfg, o))
			continue;
		j = cb_cfg_value_json(cfg, o);
		val = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
		cb_log(LOG_WARNING,
		    "TEST MODE: %s is %s (default %s); never use this in "
		    "production",
		    o->key, val != NULL ? val : "?",
		    o->def[0] ? o->def : "\"\"");
		free(val);
		json_decref(j);
	}
}

/* Adds VAL at O's dotted path under ROOT, creating section objects. */
static int
cb_cfg_put(json_t *root, const struct cb_cfg_opt *o, json_t *val)
{
	char section[CB_CFG_PATH_MAX];
	const char *key = o->key;
	const char *dot;
	json_t *obj = root;

	while ((dot = strchr(key, '.')) != NULL) {
		json_t *sub;

		snprintf(
		    section, sizeof(section), "%.*s", (int)(dot - key), key);
		if ((sub = json_object_get(obj, section)) == NULL) {
			sub = json_object();
			if (json_object_set_new(obj, section, sub) < 0)
				goto fail;
		}
		obj = sub;
		key = dot + 1;
	}
	return json_object_set_new(obj, key, val);
fail:
	json_decref(val);
	return -1;
}

void
cb_config_print(const struct cb_config *cfg, FILE *out)
{
	json_t *root = NULL;

	if ((root = json_object()) == NULL)
		goto out;
	for (size_t i = 0; i < CB_CFG_NOPTS; i++)
		if (cb_cfg_put(root, &cb_cfg_table[i],
		        cb_cfg_value_json(cfg, &cb_cfg_table[i])) < 0)
			goto out;
	if (json_dumpf(root, out, JSON_INDENT(2)) == 0)
		fputc('\n', out);
out:
	json_decref(root);
}

void
cb_config_clear(struct cb_config *cfg)
{
	for (size_t i = 0; i < CB_CFG_NOPTS; i++) {
		const struct cb_cfg_opt *o = &cb_cfg_table[i];

		if (o->type == CB_CFG_STRINGS)
			cb_cfg_strings_clear(cfg, o);
		else if (o->type == CB_CFG_STRING)
			cb_cfg_str_free(*cb_cfg_str(cfg, o), o);
	}
	memset(cfg, 0, sizeof(*cfg));
}

const char *const *
cb_config_keys(void)
{
	return cb_cfg_keys;
}
