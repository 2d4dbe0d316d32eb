/* SPDX-License-Identifier: ISC */
/* docs/limits.md must list every limit with the value compiled in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cb_config.h"
#include "cb_limits.h"

#define L(name)                                                                \
	{                                                                      \
#name, name                                                    \
	}

static const struct {
	const char *name;
	long value;
} limits[] = {
    L(CB_MAX_BODY_BYTES),
    L(CB_MAX_CONNECTION_MEMORY),
    L(CB_MAX_JSON_DEPTH),
    L(CB_MAX_CSR_BYTES),
    L(CB_MAX_CERT_BYTES),
    L(CB_MAX_IDENTIFIERS),
    L(CB_MAX_DNS_NAME),
    L(CB_MAX_CONTACTS),
    L(CB_MAX_CONTACT_LEN),
    L(CB_MAX_NONCE_LEN),
    L(CB_MAX_URL_LEN),
    L(CB_MAX_JWK_BYTES),
    L(CB_MIN_RSA_BITS),
    L(CB_MAX_RSA_BITS),
    L(CB_MAX_HTTP01_BODY),
    L(CB_MAX_HTTP01_REDIRECTS),
    L(CB_MAX_DNS_ANSWERS),
    L(CB_MAX_TXT_BYTES),
    L(CB_MAX_CONFIG_BYTES),
    L(CB_ORDERS_PER_PAGE),
    L(CB_CONFIG_MAX_NAMES),
};

static char *
read_doc(void)
{
	FILE *f = fopen(COBBLE_SOURCE_DIR "/docs/limits.md", "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_limits_documented(void **state)
{
	char *doc = read_doc();
	char want[128];

	(void)state;
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		snprintf(want, sizeof(want), "| `%s` | %ld", limits[i].name,
		    limits[i].value);
		if (strstr(doc, want) == NULL)
			fail_msg("docs/limits.md lacks \"%s\"", want);
	}
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
