// uses: servers/net/config.c
/*
 * The network server's command line (servers/net/config.c): static
 * addresses, DHCP, and every mistake refused with its reason.
 */
#include <string.h>

#include "harness.h"
#include "../../servers/net/netcfg.h"

static struct netcfg c;
static char why[128];

static int parse(const char *line)
{
    why[0] = 0;
    return netcfg_parse(line, &c, why, sizeof why);
}

static int refused(const char *line, const char *reason)
{
    return parse(line) == -1 && strstr(why, reason) != NULL;
}

TEST(netcfg_static)
{
    CHECK_EQ(parse("net ip=10.0.0.1/24,gw=10.0.0.254"), 0);
    CHECK(!c.dhcp);
    CHECK_EQ(c.addr, 0x0a000001u);
    CHECK_EQ(c.netmask, 0xffffff00u);
    CHECK_EQ(c.gateway, 0x0a0000feu);
    CHECK_EQ(parse("net ip=192.168.255.7/32"), 0);
    CHECK_EQ(c.netmask, 0xffffffffu);
    CHECK_EQ(c.gateway, 0u);
    CHECK_EQ(parse("net ip=172.16.0.9/12 gw=172.31.0.1"), 0);
    CHECK_EQ(c.netmask, 0xfff00000u);
    CHECK_EQ(parse("net ip=1.2.3.4/1"), 0);
    CHECK_EQ(c.netmask, 0x80000000u);
}

TEST(netcfg_dhcp)
{
    CHECK_EQ(parse("net dhcp"), 0);
    CHECK(c.dhcp && c.addr == 0);
    CHECK_EQ(parse("net"), 0);
    CHECK(c.dhcp);
    CHECK_EQ(parse("net-b ,,"), 0);
    CHECK(c.dhcp);
}

TEST(netcfg_mistakes_refused)
{
    CHECK(refused("net ip=10.0.0.1", "is not ip=A.B.C.D/BITS"));
    CHECK(refused("net ip=10.0.0.1/0", "is not ip="));
    CHECK(refused("net ip=10.0.0.1/33", "is not ip="));
    CHECK(refused("net ip=10.0.0.1/24x", "is not ip="));
    CHECK(refused("net ip=10.0.0/24", "is not ip="));
    CHECK(refused("net ip=10.0.0.256/24", "is not ip="));
    CHECK(refused("net ip=10.0.0.1.5/24", "is not ip="));
    CHECK(refused("net ip=10..0.1/24", "is not ip="));
    CHECK(refused("net ip=1000.0.0.1/24", "is not ip="));
    CHECK(refused("net ip=10.0.0.1/24,gw=10.0.0", "is not gw=A.B.C.D"));
    CHECK(refused("net gw=10.0.0.1", "gw= without ip="));
    CHECK(refused("net ip=10.0.0.1/24,gw=10.0.1.1", "not on the network"));
    CHECK(refused("net ip=10.0.0.1/24,dhcp", "both dhcp and ip="));
    CHECK(refused("net mtu=9000", "unknown word 'mtu=9000'"));
}

TEST(netcfg_addresses)
{
    uint32_t a = 1;
    CHECK(netcfg_addr("0.0.0.0", 7, &a) && a == 0);
    CHECK(netcfg_addr("255.255.255.255", 15, &a) && a == 0xffffffffu);
    CHECK(netcfg_addr("10.0.0.2xyz", 8, &a) && a == 0x0a000002u);     /* the length given counts */
    CHECK(!netcfg_addr("10.0.0.", 7, &a));
    CHECK(!netcfg_addr("", 0, &a));
    CHECK(!netcfg_addr("a.b.c.d", 7, &a));
}
