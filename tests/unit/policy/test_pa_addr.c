/* SPDX-License-Identifier: ISC */
/* Tests for pa_addr.c: which addresses validation may connect to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "pa.h"

enum addr_class { PUBLIC, LOOPBACK, PRIVATE, NEVER };

struct addr_case {
	const char *addr;
	enum addr_class cls;
};

static const struct addr_case addr_cases[] = {
    {"8.8.8.8", PUBLIC},
    {"1.1.1.1", PUBLIC},
    {"93.184.216.34", PUBLIC},
    {"100.63.255.255", PUBLIC},
    {"100.128.0.0", PUBLIC},
    {"172.15.255.255", PUBLIC},
    {"172.32.0.0", PUBLIC},
    {"223.255.255.255", PUBLIC},
    {"2606:4700:4700::1111", PUBLIC},
    {"2001:4860:4860::8888", PUBLIC},
    {"::ffff:8.8.8.8", PUBLIC},
    {"127.0.0.1", LOOPBACK},
    {"127.255.255.254", LOOPBACK},
    {"::1", LOOPBACK},
    {"::ffff:127.0.0.1", LOOPBACK},
    {"10.0.0.1", PRIVATE},
    {"10.255.255.255", PRIVATE},
    {"172.16.0.1", PRIVATE},
    {"172.31.255.255", PRIVATE},
    {"192.168.1.1", PRIVATE},
    {"100.64.0.1", PRIVATE},
    {"100.127.255.255", PRIVATE},
    {"169.254.169.254", PRIVATE},
    {"fc00::1", PRIVATE},
    {"fd12:3456::1", PRIVATE},
    {"fe80::1", PRIVATE},
    {"febf::1", PRIVATE},
    {"::ffff:10.1.2.3", PRIVATE},
    {"::ffff:192.168.0.1", PRIVATE},
    {"0.0.0.0", NEVER},
    {"0.1.2.3", NEVER},
    {"224.0.0.1", NEVER},
    {"239.255.255.250", NEVER},
    {"240.0.0.1", NEVER},
    {"255.255.255.255", NEVER},
    {"192.0.2.1", NEVER},
    {"198.51.100.7", NEVER},
    {"203.0.113.200", NEVER},
    {"198.18.0.1", NEVER},
    {"::", NEVER},
    {"2001:db8::1", NEVER},
    {"2001:db8:ffff::1", NEVER},
    {"ff02::1", NEVER},
    {"ff05::2", NEVER},
    {"::ffff:0.0.0.0", NEVER},
    {"::ffff:224.0.0.1", NEVER},
    {"::ffff:192.0.2.1", NEVER},
    {"::1.2.3.4", NEVER},
};

static void
make_sockaddr(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	sin6->sin6_family = AF_INET6;
}

static void
test_addr_table(void **state)
{
	static const struct pa_addr_policy none = {false, false};
	static const struct pa_addr_policy lo = {true, false};
	static const struct pa_addr_policy priv = {false, true};
	static const struct pa_addr_policy all = {true, true};
	struct sockaddr_storage ss;
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]);
	     i++) {
		const struct addr_case *c = &addr_cases[i];
		const struct sockaddr *sa = (const struct sockaddr *)&ss;
		bool want_none = c->cls == PUBLIC;
		bool want_lo = c->cls == PUBLIC || c->cls == LOOPBACK;
		bool want_priv = c->cls == PUBLIC || c->cls == PRIVATE;
		bool want_all = c->cls != NEVER;

		make_sockaddr(c->addr, &ss);
		if (pa_addr_is_allowed(sa, &none) != want_none ||
		    pa_addr_is_allowed(sa, &lo) != want_lo ||
		    pa_addr_is_allowed(sa, &priv) != want_priv ||
		    pa_addr_is_allowed(sa, &all) != want_all) {
			print_error("%s: wrong class\n", c->addr);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void
test_addr_odd_input(void **state)
{
	static const struct pa_addr_policy all = {true, true};
	struct sockaddr_storage ss;

	(void)state;
	assert_false(pa_addr_is_allowed(NULL, &all));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_false(pa_addr_is_allowed((struct sockaddr *)&ss, &all));
	/* A NULL policy allows public addresses only. */
	make_sockaddr("8.8.8.8", &ss);
	assert_true(pa_addr_is_allowed((struct sockaddr *)&ss, NULL));
	make_sockaddr("127.0.0.1", &ss);
	assert_false(pa_addr_is_allowed((struct sockaddr *)&ss, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_table),
	    cmocka_unit_test(test_addr_odd_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
