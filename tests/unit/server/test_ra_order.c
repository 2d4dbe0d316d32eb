/* SPDX-License-Identifier: ISC */
/* Unit tests for order and authorization status (RFC 8555 7.1.6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wfe_int.h"

#define NOW 1800000000

static void
order_init(struct sa_order *o, struct sa_order_authz *az, int n)
{
	memset(o, 0, sizeof(*o));
	o->status = SA_STATUS_PENDING;
	o->expires = NOW + 100;
	o->nauthz = n;
	o->authz = az;
	for (int i = 0; i < n; i++) {
		memset(&az[i], 0, sizeof(az[i]));
		az[i].status = SA_STATUS_PENDING;
		az[i].expires = NOW + 100;
	}
}

static void
test_authz_status(void **state)
{
	(void)state;
	assert_int_equal(ra_authz_status(SA_STATUS_PENDING, NOW + 1, NOW),
	    SA_STATUS_PENDING);
	assert_int_equal(
	    ra_authz_status(SA_STATUS_PENDING, NOW, NOW), SA_STATUS_EXPIRED);
	assert_int_equal(
	    ra_authz_status(SA_STATUS_VALID, NOW - 1, NOW), SA_STATUS_EXPIRED);
	assert_int_equal(ra_authz_status(SA_STATUS_INVALID, NOW - 1, NOW),
	    SA_STATUS_INVALID);
	assert_int_equal(ra_authz_status(SA_STATUS_DEACTIVATED, NOW + 9, NOW),
	    SA_STATUS_DEACTIVATED);
}

static void
test_order_status(void **state)
{
	struct sa_order_authz az[2];
	struct sa_order o;

	(void)state;
	order_init(&o, az, 2);
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_PENDING);
	az[0].status = SA_STATUS_VALID;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_PENDING);
	az[1].status = SA_STATUS_VALID;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_READY);
	/* An expired valid authorization makes the order invalid. */
	az[1].expires = NOW - 1;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_INVALID);
	az[1].expires = NOW + 100;
	az[0].status = SA_STATUS_INVALID;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_INVALID);
	az[0].status = SA_STATUS_DEACTIVATED;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_INVALID);
	az[0].status = SA_STATUS_VALID;
	o.expires = NOW;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_INVALID);
	/* Stored final states win over the authorizations. */
	o.status = SA_STATUS_VALID;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_VALID);
	o.status = SA_STATUS_PROCESSING;
	assert_int_equal(ra_order_status(&o, NOW), SA_STATUS_PROCESSING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authz_status),
	    cmocka_unit_test(test_order_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
