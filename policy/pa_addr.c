/* SPDX-License-Identifier: ISC */
/* Which addresses validation may connect to (RFC 6890 special-purpose
 * ranges), so a validation cannot be aimed at the CA's own networks. */
#include "pa.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

enum pa_addr_class {
	PA_ADDR_PUBLIC,
	PA_ADDR_LOOPBACK,
	PA_ADDR_PRIVATE,
	PA_ADDR_NEVER,
};

struct pa_range {
	unsigned char prefix[16];
	int bits;
	enum pa_addr_class cls;
};

/* IPv4 ranges, as the first four bytes of PREFIX. */
static const struct pa_range pa_v4_ranges[] = {
    {{0}, 8, PA_ADDR_NEVER},             /* "this network" */
    {{10}, 8, PA_ADDR_PRIVATE},          /* RFC 1918 */
    {{100, 64}, 10, PA_ADDR_PRIVATE},    /* RFC 6598 CGNAT */
    {{127}, 8, PA_ADDR_LOOPBACK},        /* RFC 1122 */
    {{169, 254}, 16, PA_ADDR_PRIVATE},   /* RFC 3927 link-local */
    {{172, 16}, 12, PA_ADDR_PRIVATE},    /* RFC 1918 */
    {{192, 0, 0}, 24, PA_ADDR_NEVER},    /* RFC 6890 IETF */
    {{192, 0, 2}, 24, PA_ADDR_NEVER},    /* TEST-NET-1 */
    {{192, 88, 99}, 24, PA_ADDR_NEVER},  /* 6to4 relay */
    {{192, 168}, 16, PA_ADDR_PRIVATE},   /* RFC 1918 */
    {{198, 18}, 15, PA_ADDR_NEVER},      /* benchmarking */
    {{198, 51, 100}, 24, PA_ADDR_NEVER}, /* TEST-NET-2 */
    {{203, 0, 113}, 24, PA_ADDR_NEVER},  /* TEST-NET-3 */
    {{224}, 4, PA_ADDR_NEVER},           /* multicast */
    {{240}, 4, PA_ADDR_NEVER},           /* reserved, broadcast */
};

static const struct pa_range pa_v6_ranges[] = {
    {{0}, 128, PA_ADDR_NEVER},                     /* :: unspecified */
    {{[15] = 1}, 128, PA_ADDR_LOOPBACK},           /* ::1 */
    {{0}, 96, PA_ADDR_NEVER},                      /* IPv4-compatible */
    {{0x01, 0x00}, 64, PA_ADDR_NEVER},             /* discard-only */
    {{0x20, 0x01, 0x00, 0x00}, 32, PA_ADDR_NEVER}, /* Teredo */
    {{0x20, 0x01, 0x00, 0x02}, 48, PA_ADDR_NEVER}, /* benchmarking */
    {{0x20, 0x01, 0x00, 0x10}, 28, PA_ADDR_NEVER}, /* ORCHID */
    {{0x20, 0x01, 0x0d, 0xb8}, 32, PA_ADDR_NEVER}, /* documentation */
    {{0x20, 0x02}, 16, PA_ADDR_NEVER},             /* 6to4 */
    {{0xfc}, 7, PA_ADDR_PRIVATE},                  /* RFC 4193 ULA */
    {{0xfe, 0x80}, 10, PA_ADDR_PRIVATE},           /* link-local */
    {{0xfe, 0xc0}, 10, PA_ADDR_NEVER},             /* old site-local */
    {{0xff}, 8, PA_ADDR_NEVER},                    /* multicast */
};

static bool
pa_prefix_match(
    const unsigned char *addr, const unsigned char *prefix, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(addr, prefix, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (addr[whole] & mask) == (prefix[whole] & mask);
}

static enum pa_addr_class
pa_classify(const unsigned char *addr, const struct pa_range *ranges, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pa_prefix_match(addr, ranges[i].prefix, ranges[i].bits))
			return ranges[i].cls;
	return PA_ADDR_PUBLIC;
}

static enum pa_addr_class
pa_classify_v6(const struct in6_addr *a)
{
	static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};

	/* ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach an IPv4 address: judge
	 * that address. */
	if (memcmp(a->s6_addr, v4_mapped, 12) == 0 ||
	    memcmp(a->s6_addr, nat64, 12) == 0)
		return pa_classify(a->s6_addr + 12, pa_v4_ranges,
		    sizeof(pa_v4_ranges) / sizeof(pa_v4_ranges[0]));
	return pa_classify(a->s6_addr, pa_v6_ranges,
	    sizeof(pa_v6_ranges) / sizeof(pa_v6_ranges[0]));
}

bool
pa_addr_is_allowed(const struct sockaddr *sa, const struct pa_addr_policy *pol)
{
	enum pa_addr_class cls;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		cls = pa_classify((const unsigned char *)&sin->sin_addr,
		    pa_v4_ranges,
		    sizeof(pa_v4_ranges) / sizeof(pa_v4_ranges[0]));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;
		cls = pa_classify_v6(&sin6->sin6_addr);
	} else {
		return false;
	}
	switch (cls) {
	case PA_ADDR_PUBLIC:
		return true;
	case PA_ADDR_LOOPBACK:
		return pol != NULL && pol->allow_loopback;
	case PA_ADDR_PRIVATE:
		return pol != NULL && pol->allow_private;
	case PA_ADDR_NEVER:
		break;
	}
	return false;
}
