/* SPDX-License-Identifier: ISC */
/* Policy: what may be issued to whom. Identifier syntax and public-suffix
 * rules, contact rules, key policy, address rules for validation. */
#ifndef PA_H
#define PA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "cb_limits.h"
#include "cb_mem.h"
#include "cb_problem.h"

/* Checks and normalises a "dns" identifier: lowercased into OUT
 * (CB_MAX_DNS_NAME + 1 bytes), LDH labels of 1..63 characters, at most 253
 * in all, at least two labels, no trailing dot, not an IP address, not a
 * public suffix (libpsl), and not a wildcard unless ALLOW_WILDCARD (then
 * "*." may lead and *WILDCARD is set). Sets rejectedIdentifier or
 * malformed in PROB. */
int pa_dns_name_check(const char *name, bool allow_wildcard, char *out,
    bool *wildcard, struct cb_problem *prob) CB_MUSTCHECK;
/* Checks an account contact: a "mailto:" URL with one address, no
 * hfields, a plausible domain; sets unsupportedContact or invalidContact. */
int pa_contact_check(const char *contact, struct cb_problem *prob) CB_MUSTCHECK;
/* Key policy for account and certificate keys: RSA 2048/3072/4096 with
 * e = 65537, ECDSA P-256 or P-384 (and for accounts also P-521 and Ed25519
 * when ACCOUNT_KEY). Sets FAIL_TYPE (badPublicKey or badCSR) on refusal. */
int pa_key_check(const EVP_PKEY *pkey, bool account_key,
    enum cb_prob_type fail_type, struct cb_problem *prob) CB_MUSTCHECK;

struct pa_addr_policy {
	bool allow_loopback; /* 127.0.0.0/8, ::1 (test CA on one machine) */
	bool allow_private;  /* RFC 1918, RFC 4193, link-local... */
};

/* True when validation may connect to SA under POL: reserved, multicast,
 * unspecified and documentation ranges are never allowed. */
bool pa_addr_is_allowed(
    const struct sockaddr *sa, const struct pa_addr_policy *pol);
/* SHA-256 over the sorted, deduplicated, lowercased NAMES joined by ","
 * (the certificate's FQDN set, for rate limits and renewal detection). */
void pa_fqdn_set_hash(const char *const *names, int n, unsigned char out[32]);

#endif
