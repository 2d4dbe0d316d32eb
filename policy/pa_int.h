/* SPDX-License-Identifier: ISC */
/* Declarations shared inside the policy module. */
#ifndef PA_INT_H
#define PA_INT_H

#include <stddef.h>

#include "cb_problem.h"

/* Longest piece of client input quoted in a problem detail. */
#define PA_QUOTE_MAX 100

/* Checks the syntax of a lowercase DNS NAME (no wildcard, no trailing dot):
 * LDH labels of 1..63 characters, at most CB_MAX_DNS_NAME in all, at least
 * two labels, a last label that is not all digits and no IP address.
 * Returns NULL when NAME passes, else a static reason for a problem detail
 * and the problem type in *TYPE (malformed for bad syntax,
 * rejectedIdentifier for IP addresses and single labels). */
const char *pa_dns_syntax_error(const char *name, enum cb_prob_type *type);
/* Copies S into OUT (size N >= 4) for quoting in a problem detail: bytes
 * that are not printable ASCII become '?', and a long S is cut at
 * PA_QUOTE_MAX characters with "...". Returns OUT. */
const char *pa_quote(const char *s, char *out, size_t n);

#endif
