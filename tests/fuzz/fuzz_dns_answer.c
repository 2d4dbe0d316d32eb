/* SPDX-License-Identifier: ISC */
/* Fuzz target: raw DNS answers through va_dns_parse_addrs() as A and as
 * AAAA answers; the result never exceeds CB_MAX_DNS_ANSWERS addresses of
 * the asked family. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "va_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_dns_answer_family(const unsigned char *buf, int len, int family)
{
	struct va_addrs addrs;
	int rc;

	memset(&addrs, 0, sizeof(addrs));
	rc = va_dns_parse_addrs(buf, len, family, &addrs);
	if (rc != 0 && rc != -1)
		abort();
	if (addrs.n < 0 || addrs.n > CB_MAX_DNS_ANSWERS)
		abort();
	for (int i = 0; i < addrs.n; i++)
		if (addrs.addr[i].family != family)
			abort();
	/* Appending to a full set must stay within bounds too. */
	addrs.n = CB_MAX_DNS_ANSWERS;
	(void)!va_dns_parse_addrs(buf, len, family, &addrs);
	if (addrs.n != CB_MAX_DNS_ANSWERS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf;

	/* A DNS message over TCP is at most 65535 bytes. */
	if (size == 0 || size > 65535)
		return 0;
	buf = cb_malloc(size);
	memcpy(buf, data, size);
	fuzz_dns_answer_family(buf, (int)size, AF_INET);
	fuzz_dns_answer_family(buf, (int)size, AF_INET6);
	free(buf);
	return 0;
}
