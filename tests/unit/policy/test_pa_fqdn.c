/* SPDX-License-Identifier: ISC */
/* Tests for pa_fqdn.c: the FQDN-set hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/sha.h>

#include "pa.h"

static void
hash(const char *const *names, int n, unsigned char out[32])
{
	memset(out, 0xaa, 32);
	pa_fqdn_set_hash(names, n, out);
}

static void
test_known_value(void **state)
{
	const char *names[] = {"b.example.com", "a.example.com"};
	const char *joined = "a.example.com,b.example.com";
	unsigned char got[32], want[32];

	(void)state;
	hash(names, 2, got);
	SHA256((const unsigned char *)joined, strlen(joined), want);
	assert_memory_equal(got, want, 32);
}

static void
test_order_case_and_duplicates(void **state)
{
	const char *a[] = {"www.example.com", "example.com", "api.example.com"};
	const char *b[] = {"API.example.com", "example.com", "WWW.EXAMPLE.COM",
	    "www.example.com", "example.com"};
	const char *c[] = {"www.example.com", "example.com"};
	unsigned char ha[32], hb[32], hc[32];

	(void)state;
	hash(a, 3, ha);
	hash(b, 5, hb);
	hash(c, 2, hc);
	assert_memory_equal(ha, hb, 32);
	assert_memory_not_equal(ha, hc, 32);
}

static void
test_single_and_empty(void **state)
{
	const char *one[] = {"Example.COM"};
	unsigned char got[32], want[32];

	(void)state;
	hash(one, 1, got);
	SHA256((const unsigned char *)"example.com", 11, want);
	assert_memory_equal(got, want, 32);
	hash(NULL, 0, got);
	SHA256((const unsigned char *)"", 0, want);
	assert_memory_equal(got, want, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_value),
	    cmocka_unit_test(test_order_case_and_duplicates),
	    cmocka_unit_test(test_single_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
