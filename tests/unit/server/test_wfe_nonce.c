/* SPDX-License-Identifier: ISC */
/* Unit tests for replay nonces: issued once, redeemed once, prefixes,
 * tampering, the window and test-mode rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wfe_int.h"

static void
test_redeem_once(void **state)
{
	struct wfe_nonces n;
	char a[CB_MAX_NONCE_LEN + 1], b[CB_MAX_NONCE_LEN + 1];

	(void)state;
	assert_int_equal(wfe_nonces_init(&n, "ab", 3600, 0), 0);
	assert_int_equal(wfe_nonce_new(&n, a), 0);
	assert_int_equal(wfe_nonce_new(&n, b), 0);
	assert_string_not_equal(a, b);
	assert_memory_equal(a, "ab", 2);
	assert_true(wfe_nonce_redeem(&n, b));
	assert_false(wfe_nonce_redeem(&n, b));
	assert_true(wfe_nonce_redeem(&n, a));
	assert_false(wfe_nonce_redeem(&n, a));
	wfe_nonces_clear(&n);
}

static void
test_reject_foreign(void **state)
{
	struct wfe_nonces n, other;
	char a[CB_MAX_NONCE_LEN + 1];

	(void)state;
	assert_int_equal(wfe_nonces_init(&n, "ab", 3600, 0), 0);
	assert_int_equal(wfe_nonces_init(&other, "ab", 3600, 0), 0);
	assert_int_equal(wfe_nonce_new(&other, a), 0);
	/* Same prefix, another key: the tag does not decrypt to zero. */
	assert_false(wfe_nonce_redeem(&n, a));
	assert_false(wfe_nonce_redeem(&n, ""));
	assert_false(wfe_nonce_redeem(&n, "ab"));
	assert_false(wfe_nonce_redeem(&n, "xyAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(wfe_nonce_redeem(&n, "ab!!!!"));
	wfe_nonces_clear(&n);
	wfe_nonces_clear(&other);
}

static void
test_tampered(void **state)
{
	struct wfe_nonces n;
	char a[CB_MAX_NONCE_LEN + 1];
	size_t len;

	(void)state;
	assert_int_equal(wfe_nonces_init(&n, "", 3600, 0), 0);
	assert_int_equal(wfe_nonce_new(&n, a), 0);
	len = strlen(a);
	a[len - 3] = a[len - 3] == 'A' ? 'B' : 'A';
	assert_false(wfe_nonce_redeem(&n, a));
	wfe_nonces_clear(&n);
}

static void
test_window(void **state)
{
	struct wfe_nonces n;
	char old[CB_MAX_NONCE_LEN + 1], tmp[CB_MAX_NONCE_LEN + 1];

	(void)state;
	assert_int_equal(wfe_nonces_init(&n, "w", 3600, 0), 0);
	assert_int_equal(wfe_nonce_new(&n, old), 0);
	/* Once WINDOW newer nonces exist the oldest slot is reused: the old
	 * nonce must no longer redeem. */
	for (unsigned i = 0; i < WFE_NONCE_WINDOW; i++)
		assert_int_equal(wfe_nonce_new(&n, tmp), 0);
	assert_false(wfe_nonce_redeem(&n, old));
	assert_true(wfe_nonce_redeem(&n, tmp));
	wfe_nonces_clear(&n);
}

static void
test_expired(void **state)
{
	struct wfe_nonces n;
	char a[CB_MAX_NONCE_LEN + 1];

	(void)state;
	assert_int_equal(wfe_nonces_init(&n, "e", 10, 0), 0);
	assert_int_equal(wfe_nonce_new(&n, a), 0);
	n.epoch -= 11; /* as if issued 11 s ago */
	assert_false(wfe_nonce_redeem(&n, a));
	wfe_nonces_clear(&n);
}

static void
test_reject_percent(void **state)
{
	struct wfe_nonces n;
	char a[CB_MAX_NONCE_LEN + 1];

	(void)state;
	assert_int_equal(wfe_nonces_init(&n, "r", 3600, 100), 0);
	assert_int_equal(wfe_nonce_new(&n, a), 0);
	assert_false(wfe_nonce_redeem(&n, a));
	wfe_nonces_clear(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redeem_once),
	    cmocka_unit_test(test_reject_foreign),
	    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_reject_percent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
