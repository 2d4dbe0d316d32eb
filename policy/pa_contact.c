/* SPDX-License-Identifier: ISC */
/* Account contact rules (RFC 8555 7.3): one plain "mailto:" address. */
#include "pa.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "pa_int.h"

#define PA_MAILTO "mailto:"
#define PA_LOCAL_MAX 64

/* RFC 5322 3.2.3 atext, less '%' (percent-encoding is not supported) and
 * '?' (it starts hfields in a mailto URL, RFC 6068). */
static bool
pa_is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$&'*+-/=^_`{|}~", c) != NULL;
}

/* A dot-atom local part (RFC 5322 3.4.1) of LEN bytes; NULL if valid. */
static const char *
pa_local_error(const char *local, size_t len)
{
	if (len == 0)
		return "empty local part";
	if (len > PA_LOCAL_MAX)
		return "local part longer than 64 characters";
	if (local[0] == '.' || local[len - 1] == '.')
		return "local part starts or ends with a dot";
	for (size_t i = 0; i < len; i++) {
		if (local[i] == '.' && local[i + 1] == '.')
			return "two dots in a row in the local part";
		if (local[i] != '.' && !pa_is_atext(local[i]))
			return "invalid character in the local part";
	}
	return NULL;
}

/* Checks the addr-spec ADDR; NULL if acceptable, else the reason. */
static const char *
pa_addr_spec_error(const char *addr, char *domain, size_t dlen)
{
	const char *at, *why;
	enum cb_prob_type type;

	if (addr[0] == '\0')
		return "no address";
	if (strchr(addr, '?') != NULL)
		return "header fields (\"?\") are not allowed";
	if (strchr(addr, ',') != NULL)
		return "only one address is allowed";
	at = strchr(addr, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return "the address needs exactly one \"@\"";
	why = pa_local_error(addr, (size_t)(at - addr));
	if (why != NULL)
		return why;
	if (at[1] == '\0')
		return "empty domain";
	if (strlen(at + 1) >= dlen)
		return "domain too long";
	/* Domains are case-insensitive; the syntax check wants lowercase. */
	size_t i;
	for (i = 0; at[i + 1] != '\0'; i++) {
		char c = at[i + 1];
		domain[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	domain[i] = '\0';
	why = pa_dns_syntax_error(domain, &type);
	if (why != NULL)
		return "the domain is not a valid DNS name";
	return NULL;
}

int
pa_contact_check(const char *contact, struct cb_problem *prob)
{
	char quoted[PA_QUOTE_MAX + 1];
	char domain[CB_MAX_DNS_NAME + 2];
	const char *why;

	if (contact == NULL || contact[0] == '\0')
		return cb_problem_set(
		    prob, CB_PROB_INVALID_CONTACT, "Contact URL is empty");
	pa_quote(contact, quoted, sizeof(quoted));
	if (strlen(contact) > CB_MAX_CONTACT_LEN)
		return cb_problem_set(prob, CB_PROB_INVALID_CONTACT,
		    "Contact \"%s\" is longer than %d characters", quoted,
		    CB_MAX_CONTACT_LEN);
	if (strncasecmp(contact, PA_MAILTO, strlen(PA_MAILTO)) != 0)
		return cb_problem_set(prob, CB_PROB_UNSUPPORTED_CONTACT,
		    "Contact \"%s\": only \"mailto:\" URLs are supported",
		    quoted);
	why = pa_addr_spec_error(
	    contact + strlen(PA_MAILTO), domain, sizeof(domain));
	if (why != NULL)
		return cb_problem_set(prob, CB_PROB_INVALID_CONTACT,
		    "Contact \"%s\" is not a valid email address: %s", quoted,
		    why);
	return 0;
}
