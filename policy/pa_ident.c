/* SPDX-License-Identifier: ISC */
/* DNS identifier rules: syntax (RFC 1035 LDH), IP lookalikes, wildcards and
 * public suffixes (libpsl). */
#include "pa.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <libpsl.h>

#include "cb_log.h"
#include "pa_int.h"

#define PA_LABEL_MAX 63

/*
 * The public suffix list, loaded once and read-only afterwards (libpsl
 * lookups do not modify the context). pa.h has no context argument, so this
 * set-once pointer is the one exception to "no mutable globals".
 */
static pthread_once_t pa_psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *pa_psl;

static void
pa_psl_load(void)
{
	pa_psl = psl_builtin();
	if (pa_psl == NULL) {
		/* Built without the list: read the system's copy (kept for
		 * the life of the process). */
		pa_psl = psl_latest(NULL);
	}
	if (pa_psl == NULL)
		cb_log(LOG_ERR, "policy: no public suffix list available");
}

const char *
pa_quote(const char *s, char *out, size_t n)
{
	size_t i, max = n - 1;
	bool cut = false;

	if (max > PA_QUOTE_MAX)
		max = PA_QUOTE_MAX;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == max) {
			cut = true;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[i] = '\0';
	if (cut && i >= 3)
		memcpy(out + i - 3, "...", 3);
	return out;
}

static bool
pa_is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* One label of LEN bytes at L; NULL when it is a valid LDH label. */
static const char *
pa_label_error(const char *l, size_t len)
{
	if (len == 0)
		return "empty label";
	if (len > PA_LABEL_MAX)
		return "label longer than 63 characters";
	for (size_t i = 0; i < len; i++)
		if (!pa_is_ldh(l[i]))
			return "invalid character (only a-z, 0-9 and '-' are "
			       "allowed)";
	if (l[0] == '-' || l[len - 1] == '-')
		return "label starts or ends with a hyphen";
	/* RFC 5891 4.2.3.1: "??--" is reserved for IDNA's "xn--". */
	if (len >= 4 && l[2] == '-' && l[3] == '-' && strncmp(l, "xn", 2) != 0)
		return "hyphens in the third and fourth positions of a "
		       "label that is not an IDN (xn--) label";
	return NULL;
}

static bool
pa_is_ip_literal(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

static bool
pa_all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

const char *
pa_dns_syntax_error(const char *name, enum cb_prob_type *type)
{
	size_t len = strlen(name);
	const char *start = name, *last = name, *why;
	int nlabels = 0;

	*type = CB_PROB_REJECTED_IDENTIFIER;
	if (pa_is_ip_literal(name))
		return "is an IP address, not a DNS name";
	*type = CB_PROB_MALFORMED;
	if (len == 0)
		return "empty name";
	if (len > CB_MAX_DNS_NAME)
		return "name longer than 253 characters";
	for (const char *p = name;; p++) {
		if (*p != '.' && *p != '\0')
			continue;
		why = pa_label_error(start, (size_t)(p - start));
		if (why != NULL)
			return why;
		nlabels++;
		last = start;
		if (*p == '\0')
			break;
		start = p + 1;
	}
	*type = CB_PROB_REJECTED_IDENTIFIER;
	if (nlabels < 2)
		return "has a single label (at least two are required)";
	if (pa_all_digits(last))
		return "ends in a numeric label (looks like an IP address)";
	return NULL;
}

/* Lowercases NAME into OUT (CB_MAX_DNS_NAME + 1 bytes); false if too long. */
static bool
pa_lower_copy(const char *name, char *out)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i == CB_MAX_DNS_NAME)
			return false;
		char c = name[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[i] = '\0';
	return true;
}

/* Splits off a leading "*." and checks where '*' may appear. */
static int
pa_wildcard_split(const char *lower, bool allow_wildcard, const char *quoted,
    const char **base, bool *wildcard, struct cb_problem *prob)
{
	*base = lower;
	*wildcard = false;
	if (strncmp(lower, "*.", 2) == 0) {
		if (!allow_wildcard)
			return cb_problem_set(prob, CB_PROB_REJECTED_IDENTIFIER,
			    "Cobble will not issue for \"%s\": wildcard names "
			    "are not allowed here",
			    quoted);
		*base = lower + 2;
		*wildcard = true;
	}
	if (strchr(*base, '*') != NULL)
		return cb_problem_set(prob, CB_PROB_MALFORMED,
		    "Invalid DNS identifier \"%s\": a wildcard must be the "
		    "whole leftmost label (\"*.\")",
		    quoted);
	return 0;
}

int
pa_dns_name_check(const char *name, bool allow_wildcard, char *out,
    bool *wildcard, struct cb_problem *prob)
{
	char quoted[PA_QUOTE_MAX + 1];
	enum cb_prob_type type;
	const char *base, *why;
	bool wild = false;
	int rc = -1;

	out[0] = '\0';
	if (name == NULL || name[0] == '\0') {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "Invalid DNS identifier: empty name");
		goto out;
	}
	pa_quote(name, quoted, sizeof(quoted));
	if (!pa_lower_copy(name, out)) {
		cb_problem_set(prob, CB_PROB_MALFORMED,
		    "Invalid DNS identifier \"%s\": name longer than 253 "
		    "characters",
		    quoted);
		goto out;
	}
	if (pa_wildcard_split(
	        out, allow_wildcard, quoted, &base, &wild, prob) != 0)
		goto out;
	why = pa_dns_syntax_error(base, &type);
	if (why != NULL) {
		if (type == CB_PROB_MALFORMED)
			cb_problem_set(prob, type,
			    "Invalid DNS identifier \"%s\": %s", quoted, why);
		else
			cb_problem_set(prob, type,
			    "Cobble will not issue for \"%s\": %s", quoted,
			    why);
		goto out;
	}
	pthread_once(&pa_psl_once, pa_psl_load);
	if (pa_psl == NULL) {
		cb_problem_set(prob, CB_PROB_SERVER_INTERNAL,
		    "The public suffix list is not available");
		goto out;
	}
	if (psl_is_public_suffix2(
	        pa_psl, base, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)) {
		cb_problem_set(prob, CB_PROB_REJECTED_IDENTIFIER,
		    "Cobble will not issue for \"%s\": %s is a public suffix",
		    quoted, wild ? "the name under the wildcard" : "the name");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		out[0] = '\0';
	if (wildcard != NULL)
		*wildcard = rc == 0 && wild;
	return rc;
}
