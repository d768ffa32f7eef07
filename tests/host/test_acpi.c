// uses: kernel/arch/x86_64/acpi.c
/*
 * kernel/arch/x86_64/acpi.c pure helpers: acpi_checksum_ok, acpi_rsdp_scan
 * and acpi_madt_parse on synthetic tables.  Every buffer handed to the
 * kernel code is an exact-size heap copy, so ASan flags any read past it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "arch/x86_64/acpi.h"

/* Sets buf[at] so that the bytes buf[0..len) sum to 0 modulo 256. */
static void fix_checksum(uint8_t *buf, size_t len, size_t at)
{
    uint8_t sum = 0;
    buf[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum += buf[i];
    buf[at] = (uint8_t)-sum;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* An exact-size heap copy (at least one byte allocated). */
static uint8_t *dup_exact(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        exit(2);
    if (len)
        memcpy(p, src, len);
    return p;
}

/* ---- checksum ---------------------------------------------------------- */

TEST(checksum)
{
    uint8_t b[300];
    memset(b, 0x77, sizeof b);
    CHECK(acpi_checksum_ok(b, 0));      /* nothing to sum */
    CHECK(!acpi_checksum_ok(b, 1));
    memset(b, 0, sizeof b);
    CHECK(acpi_checksum_ok(b, sizeof b));
    b[0] = 1;
    CHECK(!acpi_checksum_ok(b, sizeof b));
    b[1] = 0xff;                        /* 1 + 255 = 256 = 0 mod 256 */
    CHECK(acpi_checksum_ok(b, sizeof b));
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)(i * 37 + 11);
    fix_checksum(b, sizeof b, 123);
    CHECK(acpi_checksum_ok(b, sizeof b));
    CHECK(!acpi_checksum_ok(b, sizeof b - 1) || b[sizeof b - 1] == 0);
    b[200] ^= 0x10;
    CHECK(!acpi_checksum_ok(b, sizeof b));
    uint8_t one = 0;
    CHECK(acpi_checksum_ok(&one, 1));
    one = 0x80;
    CHECK(!acpi_checksum_ok(&one, 1));
}

/* ---- RSDP scan --------------------------------------------------------- */

#define RSDP_V1 20
#define RSDP_V2 36

/* Writes an RSDP at area + off: revision 0 (20 bytes) or 2 (length bytes). */
static void put_rsdp(uint8_t *area, size_t off, int revision, uint32_t length)
{
    uint8_t *r = area + off;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "PITHOE", 6);
    r[15] = (uint8_t)revision;
    put32(r + 16, 0x7fe0000);
    fix_checksum(r, RSDP_V1, 8);
    if (revision >= 2) {
        put32(r + 20, length);
        put64(r + 24, 0x7fe1000);
        r[33] = r[34] = r[35] = 0;
        for (uint32_t i = RSDP_V2; i < length; i++)
            r[i] = (uint8_t)(i * 3);    /* extra bytes covered by the extended checksum */
        fix_checksum(r, length, 32);
    }
}

static long scan(const uint8_t *area, size_t len)
{
    uint8_t *copy = dup_exact(area, len);
    long off = acpi_rsdp_scan(copy, len);
    free(copy);
    return off;
}

static uint8_t area[1024];

TEST(rsdp_v1_found_on_16_byte_boundary)
{
    memset(area, 0, sizeof area);
    CHECK_EQ(scan(area, sizeof area), -1);
    put_rsdp(area, 0x40, 0, 0);
    CHECK_EQ(scan(area, sizeof area), 0x40);
    memset(area, 0, sizeof area);
    put_rsdp(area, 0, 0, 0);
    CHECK_EQ(scan(area, sizeof area), 0);
    memset(area, 0, sizeof area);
    put_rsdp(area, sizeof area - 32, 0, 0);
    CHECK_EQ(scan(area, sizeof area), (long)sizeof area - 32);
    /* Revision 1 is still a 20-byte RSDP: the v2 fields are not looked at. */
    memset(area, 0xee, sizeof area);
    put_rsdp(area, 0x100, 1, 0);
    CHECK_EQ(scan(area, sizeof area), 0x100);
}

TEST(rsdp_v2_found)
{
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x30, 2, RSDP_V2);
    CHECK_EQ(scan(area, sizeof area), 0x30);
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x200, 2, 48);       /* longer than the structure: fine if it fits */
    CHECK_EQ(scan(area, sizeof area), 0x200);
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x50, 6, RSDP_V2);   /* a later revision */
    CHECK_EQ(scan(area, sizeof area), 0x50);
    /* Exactly at the end of the area. */
    memset(area, 0, sizeof area);
    put_rsdp(area, sizeof area - 48, 2, 48);
    CHECK_EQ(scan(area, sizeof area), (long)sizeof area - 48);
}

TEST(rsdp_first_valid_one_wins)
{
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x80, 0, 0);
    put_rsdp(area, 0x200, 2, RSDP_V2);
    CHECK_EQ(scan(area, sizeof area), 0x80);
    CHECK_EQ(scan(area + 0x90, sizeof area - 0x90), 0x200 - 0x90);
}

TEST(rsdp_bad_checksum_skipped)
{
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x40, 0, 0);
    area[0x40 + 8] ^= 1;
    CHECK_EQ(scan(area, sizeof area), -1);
    put_rsdp(area, 0x120, 0, 0);
    CHECK_EQ(scan(area, sizeof area), 0x120);
    /* A damaged byte anywhere in the first 20. */
    for (int i = 0; i < RSDP_V1; i++) {
        memset(area, 0, sizeof area);
        put_rsdp(area, 0x40, 0, 0);
        area[0x40 + i] += 1;
        CHECK_EQ(scan(area, sizeof area), -1);
    }
}

TEST(rsdp_signature_off_boundary_ignored)
{
    static const size_t offs[] = { 1, 4, 8, 0x48, 0x4f, 0x101 };
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        memset(area, 0, sizeof area);
        put_rsdp(area, offs[i], 0, 0);
        CHECK_EQ(scan(area, sizeof area), -1);
        memset(area, 0, sizeof area);
        put_rsdp(area, offs[i], 2, RSDP_V2);
        CHECK_EQ(scan(area, sizeof area), -1);
    }
    /* Found when the area itself starts at the odd address. */
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x48, 0, 0);
    CHECK_EQ(scan(area + 8, sizeof area - 8), 0x40);
}

TEST(rsdp_wrong_signature_skipped)
{
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x40, 0, 0);
    memcpy(area + 0x40, "RSD PTR_", 8);
    fix_checksum(area + 0x40, RSDP_V1, 8);
    CHECK_EQ(scan(area, sizeof area), -1);
    memcpy(area + 0x40, "rsd ptr ", 8);
    fix_checksum(area + 0x40, RSDP_V1, 8);
    CHECK_EQ(scan(area, sizeof area), -1);
}

TEST(rsdp_v2_bad_extended_checksum_skipped)
{
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x40, 2, RSDP_V2);
    area[0x40 + 32] ^= 0x55;            /* the v1 checksum still holds */
    CHECK(acpi_checksum_ok(area + 0x40, RSDP_V1));
    CHECK_EQ(scan(area, sizeof area), -1);
    /* Damage in the extra bytes of a longer RSDP. */
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x40, 2, 64);
    area[0x40 + 60] ^= 1;
    CHECK_EQ(scan(area, sizeof area), -1);
    /* A valid one after the damaged one is still found. */
    put_rsdp(area, 0x100, 2, RSDP_V2);
    CHECK_EQ(scan(area, sizeof area), 0x100);
}

TEST(rsdp_v2_bad_length_skipped)
{
    /* Length past the area. */
    memset(area, 0, sizeof area);
    put_rsdp(area, sizeof area - 48, 2, 48);
    put32(area + sizeof area - 48 + 20, 64);
    fix_checksum(area + sizeof area - 48, RSDP_V1, 8);
    CHECK_EQ(scan(area, sizeof area), -1);
    /* Absurd length. */
    memset(area, 0, sizeof area);
    put_rsdp(area, 0x40, 2, RSDP_V2);
    put32(area + 0x40 + 20, 0xffffffff);
    CHECK_EQ(scan(area, sizeof area), -1);
    /* Shorter than the v2 structure, even with a matching checksum. */
    static const uint32_t shorts[] = { 0, 1, 20, 35 };
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++) {
        memset(area, 0, sizeof area);
        put_rsdp(area, 0x40, 2, RSDP_V2);
        put32(area + 0x40 + 20, shorts[i]);
        fix_checksum(area + 0x40, RSDP_V1, 8);
        area[0x40 + 32] = 0;
        fix_checksum(area + 0x40, RSDP_V2, 32);
        CHECK(acpi_checksum_ok(area + 0x40, RSDP_V2));
        CHECK_EQ(scan(area, sizeof area), -1);
    }
}

TEST(rsdp_near_end_of_area_not_read_past)
{
    /* Each scan gets an exact-size copy: ASan aborts on any read past it. */
    for (size_t len = 0; len <= 100; len++) {
        uint8_t buf[128];
        memset(buf, 0, sizeof buf);
        for (size_t off = 0; off < len; off += 16)
            memcpy(buf + off, "RSD PTR ", len - off < 8 ? len - off : 8);
        CHECK_EQ(scan(buf, len), -1);   /* checksums of bare signatures fail */
    }
    for (size_t len = 0; len <= 128; len++) {
        /* A v1 RSDP at 0x40 is found only when all its 20 bytes are inside. */
        uint8_t buf[160];
        memset(buf, 0, sizeof buf);
        put_rsdp(buf, 0x40, 0, 0);
        CHECK_EQ(scan(buf, len), len >= 0x40 + RSDP_V1 ? 0x40 : -1);
        /* A v2 RSDP needs all of its length inside. */
        memset(buf, 0, sizeof buf);
        put_rsdp(buf, 0x40, 2, RSDP_V2);
        CHECK_EQ(scan(buf, len), len >= 0x40 + RSDP_V2 ? 0x40 : -1);
    }
    /* The full 36-byte structure straddling the end, length field in range. */
    uint8_t buf[64];
    memset(buf, 0, sizeof buf);
    put_rsdp(buf, 0x10, 2, RSDP_V2);
    CHECK_EQ(scan(buf, 0x10 + 20), -1);
    CHECK_EQ(scan(buf, 0x10 + 24), -1);
    CHECK_EQ(scan(buf, 0x10 + 35), -1);
    CHECK_EQ(scan(buf, 0x10 + 36), 0x10);
}

TEST(rsdp_full_bios_area)
{
    size_t len = 0x20000;
    uint8_t *bios = calloc(1, len);
    CHECK(bios != NULL);
    for (size_t i = 0; i < len; i++)
        bios[i] = (uint8_t)(i * 7);
    put_rsdp(bios, 0x1ffd0, 2, RSDP_V2);
    long off = scan(bios, len);
    put_rsdp(bios, 0xf6a0, 0, 0);
    long off2 = scan(bios, len);
    free(bios);
    CHECK_EQ(off, 0x1ffd0);
    CHECK_EQ(off2, 0xf6a0);
}

/* ---- MADT -------------------------------------------------------------- */

#define HDR 36

struct madt_builder {
    uint8_t b[8192];
    size_t len;
};

static struct madt_builder mb;
static struct madt_info info;

static void madt_begin(uint32_t lapic_phys, uint32_t flags)
{
    memset(&mb, 0, sizeof mb);
    memcpy(mb.b, "APIC", 4);
    mb.b[8] = 4;
    memcpy(mb.b + 10, "PITHOE", 6);
    memcpy(mb.b + 16, "PITHMADT", 8);
    put32(mb.b + 24, 1);
    put32(mb.b + 28, 0x50495448);
    put32(mb.b + 32, 1);
    put32(mb.b + HDR, lapic_phys);
    put32(mb.b + HDR + 4, flags);
    mb.len = HDR + 8;
}

static uint8_t *entry(uint8_t type, uint8_t len)
{
    uint8_t *e = mb.b + mb.len;
    e[0] = type;
    e[1] = len;
    mb.len += len;
    return e;
}

static void add_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    uint8_t *e = entry(0, 8);
    e[2] = uid;
    e[3] = apic_id;
    put32(e + 4, flags);
}

static void add_x2apic(uint32_t id, uint32_t flags, uint32_t uid)
{
    uint8_t *e = entry(9, 16);
    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, uid);
}

static void add_ioapic(uint8_t id, uint32_t phys, uint32_t gsi_base)
{
    uint8_t *e = entry(1, 12);
    e[2] = id;
    put32(e + 4, phys);
    put32(e + 8, gsi_base);
}

static void add_override(uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t *e = entry(2, 10);
    e[2] = bus;
    e[3] = irq;
    put32(e + 4, gsi);
    memcpy(e + 8, &flags, 2);
}

/* Sets the header length and checksum. */
static void madt_finish(void)
{
    put32(mb.b + 4, (uint32_t)mb.len);
    fix_checksum(mb.b, mb.len, 9);
}

/* Parses an exact-size copy of the first len bytes of the builder. */
static bool parse_len(size_t len)
{
    uint8_t *copy = dup_exact(mb.b, len);
    memset(&info, 0xcc, sizeof info);   /* the parser must clear it */
    bool ok = acpi_madt_parse(copy, len, &info);
    free(copy);
    return ok;
}

static bool parse(void)
{
    return parse_len(mb.len);
}

TEST(madt_header_only)
{
    madt_begin(0xfee00000, 1);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.lapic_phys, 0xfee00000);
    CHECK(info.has_8259);
    CHECK_EQ(info.ncpus, 0);
    CHECK_EQ(info.cpus_ignored, 0);
    CHECK_EQ(info.nioapic, 0);
    CHECK_EQ(info.noverride, 0);
    for (int i = 0; i < ACPI_MAX_CPUS; i++)
        CHECK_EQ(info.apic_ids[i], 0);
}

TEST(madt_pcat_compat_flag)
{
    static const struct { uint32_t flags; bool has_8259; } cases[] = {
        { 0, false }, { 1, true }, { 2, false }, { 3, true }, { 0xfffffffe, false },
        { 0xffffffff, true }, { 0x100, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        madt_begin(0xfec00000 + (uint32_t)i, cases[i].flags);
        madt_finish();
        CHECK(parse());
        CHECK_EQ(info.has_8259, cases[i].has_8259);
        CHECK_EQ(info.lapic_phys, 0xfec00000 + (uint32_t)i);
    }
}

TEST(madt_lapic_entries)
{
    madt_begin(0xfee00000, 0);
    add_lapic(0, 0, 1);                 /* enabled */
    add_lapic(1, 2, 0);                 /* disabled: not counted */
    add_lapic(2, 4, 2);                 /* online capable */
    add_lapic(3, 6, 3);
    add_lapic(4, 8, 4);                 /* an unrelated flag only */
    add_lapic(5, 0xff, 0x80000001);
    add_lapic(6, 0x10, 0xfffffffc);     /* neither bit */
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, 4);
    CHECK_EQ(info.apic_ids[0], 0);
    CHECK_EQ(info.apic_ids[1], 4);
    CHECK_EQ(info.apic_ids[2], 6);
    CHECK_EQ(info.apic_ids[3], 0xff);
    CHECK_EQ(info.apic_ids[4], 0);
    CHECK_EQ(info.cpus_ignored, 0);
    CHECK(!info.has_8259);
}

TEST(madt_x2apic_entries)
{
    madt_begin(0xfee00000, 1);
    add_lapic(0, 1, 1);
    add_x2apic(0x12345, 1, 7);
    add_x2apic(0xffffffff, 0, 8);       /* disabled */
    add_x2apic(0x100, 2, 9);            /* online capable */
    add_x2apic(0xfffffffe, 3, 10);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, 4);
    CHECK_EQ(info.apic_ids[0], 1);
    CHECK_EQ(info.apic_ids[1], 0x12345);
    CHECK_EQ(info.apic_ids[2], 0x100);
    CHECK_EQ(info.apic_ids[3], 0xfffffffe);
}

TEST(madt_ioapic_entries)
{
    madt_begin(0xfee00000, 1);
    add_ioapic(2, 0xfec00000, 0);
    add_ioapic(0xff, 0xfec01000, 24);
    add_ioapic(9, 0xffffffff, 0xfffffff0);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.nioapic, 3);
    CHECK_EQ(info.ioapic[0].id, 2);
    CHECK_EQ(info.ioapic[0].phys, 0xfec00000);
    CHECK_EQ(info.ioapic[0].gsi_base, 0);
    CHECK_EQ(info.ioapic[1].id, 0xff);
    CHECK_EQ(info.ioapic[1].phys, 0xfec01000);
    CHECK_EQ(info.ioapic[1].gsi_base, 24);
    CHECK_EQ(info.ioapic[2].id, 9);
    CHECK_EQ(info.ioapic[2].phys, 0xffffffff);
    CHECK_EQ(info.ioapic[2].gsi_base, 0xfffffff0);
    CHECK_EQ(info.ncpus, 0);
}

TEST(madt_override_entries)
{
    madt_begin(0xfee00000, 1);
    add_override(0, 0, 2, 0);           /* the usual PIT override */
    add_override(0, 9, 9, 0x000d);      /* SCI: level, active high */
    add_override(0, 15, 0x12345678, 0xffff);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.noverride, 3);
    CHECK_EQ(info.override[0].irq, 0);
    CHECK_EQ(info.override[0].gsi, 2);
    CHECK_EQ(info.override[0].flags, 0);
    CHECK_EQ(info.override[1].irq, 9);
    CHECK_EQ(info.override[1].gsi, 9);
    CHECK_EQ(info.override[1].flags, 0x000d);
    CHECK_EQ(info.override[2].irq, 15);
    CHECK_EQ(info.override[2].gsi, 0x12345678);
    CHECK_EQ(info.override[2].flags, 0xffff);
}

TEST(madt_qemu_like_table)
{
    /* Like QEMU's q35 with 4 CPUs: LAPICs, one IOAPIC, overrides, NMI entries. */
    madt_begin(0xfee00000, 1);
    for (uint8_t i = 0; i < 4; i++)
        add_lapic(i, i, 1);
    add_ioapic(0, 0xfec00000, 0);
    static const uint8_t irqs[] = { 0, 5, 9, 10, 11 };
    static const uint32_t gsis[] = { 2, 5, 9, 10, 11 };
    for (int i = 0; i < 5; i++)
        add_override(0, irqs[i], gsis[i], i ? 0xd : 0);
    uint8_t *nmi = entry(4, 6);         /* local APIC NMI: not parsed */
    nmi[2] = 0xff;
    nmi[5] = 1;
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(info.apic_ids[i], i);
    CHECK_EQ(info.nioapic, 1);
    CHECK_EQ(info.noverride, 5);
    CHECK_EQ(info.override[4].irq, 11);
    CHECK_EQ(info.override[4].gsi, 11);
    CHECK_EQ(info.override[4].flags, 0xd);
    CHECK(info.has_8259);
}

TEST(madt_unknown_and_short_entries_skipped)
{
    madt_begin(0xfee00000, 0);
    add_lapic(0, 1, 1);
    uint8_t *e = entry(0x7f, 2);        /* unknown, minimal */
    (void)e;
    e = entry(5, 12);                   /* local APIC address override: not used */
    put64(e + 4, 0xfee00000);
    e = entry(0, 6);                    /* LAPIC too short to hold its flags */
    e[3] = 9;
    e = entry(9, 12);                   /* x2APIC too short */
    put32(e + 4, 10);
    put32(e + 8, 1);
    e = entry(1, 8);                    /* IOAPIC too short */
    e = entry(2, 8);                    /* override too short */
    e = entry(0xff, 255);               /* long unknown entry */
    memset(e + 2, 0xab, 253);
    add_lapic(1, 2, 1);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, 2);
    CHECK_EQ(info.apic_ids[0], 1);
    CHECK_EQ(info.apic_ids[1], 2);
    CHECK_EQ(info.nioapic, 0);
    CHECK_EQ(info.noverride, 0);
}

TEST(madt_longer_entries_accepted)
{
    /* Later ACPI versions may lengthen entries: the known fields still count. */
    madt_begin(0xfee00000, 0);
    uint8_t *e = entry(0, 12);
    e[3] = 3;
    put32(e + 4, 1);
    e = entry(1, 16);
    e[2] = 4;
    put32(e + 4, 0xfec00000);
    put32(e + 8, 48);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, 1);
    CHECK_EQ(info.apic_ids[0], 3);
    CHECK_EQ(info.nioapic, 1);
    CHECK_EQ(info.ioapic[0].gsi_base, 48);
}

TEST(madt_too_many_cpus_counted)
{
    madt_begin(0xfee00000, 1);
    for (int i = 0; i < 70; i++)
        add_lapic((uint8_t)i, (uint8_t)i, 1);
    add_lapic(200, 200, 0);             /* disabled: neither kept nor counted */
    for (uint32_t i = 0; i < 5; i++)
        add_x2apic(1000 + i, 1, 300 + i);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, ACPI_MAX_CPUS);
    CHECK_EQ(info.cpus_ignored, 70 + 5 - ACPI_MAX_CPUS);
    for (int i = 0; i < ACPI_MAX_CPUS; i++)
        CHECK_EQ(info.apic_ids[i], i);
    /* Exactly ACPI_MAX_CPUS: nothing ignored. */
    madt_begin(0xfee00000, 1);
    for (int i = 0; i < ACPI_MAX_CPUS; i++)
        add_x2apic((uint32_t)i * 2, 2, (uint32_t)i);
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, ACPI_MAX_CPUS);
    CHECK_EQ(info.cpus_ignored, 0);
    CHECK_EQ(info.apic_ids[ACPI_MAX_CPUS - 1], (ACPI_MAX_CPUS - 1) * 2);
}

TEST(madt_too_many_ioapics_and_overrides_kept_to_limit)
{
    madt_begin(0xfee00000, 1);
    for (int i = 0; i < ACPI_MAX_IOAPICS + 3; i++)
        add_ioapic((uint8_t)i, 0xfec00000 + (uint32_t)i * 0x1000, (uint32_t)i * 24);
    for (int i = 0; i < ACPI_MAX_OVERRIDES + 3; i++)
        add_override(0, (uint8_t)i, (uint32_t)i + 100, (uint16_t)i);
    add_lapic(0, 0, 1);                 /* parsing goes on after the limits */
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.nioapic, ACPI_MAX_IOAPICS);
    CHECK_EQ(info.ioapic[ACPI_MAX_IOAPICS - 1].id, ACPI_MAX_IOAPICS - 1);
    CHECK_EQ(info.ioapic[ACPI_MAX_IOAPICS - 1].gsi_base, (ACPI_MAX_IOAPICS - 1) * 24);
    CHECK_EQ(info.noverride, ACPI_MAX_OVERRIDES);
    CHECK_EQ(info.override[ACPI_MAX_OVERRIDES - 1].gsi, ACPI_MAX_OVERRIDES - 1 + 100);
    CHECK_EQ(info.ioapics_ignored, 3);     /* counted, so the kernel can say so */
    CHECK_EQ(info.overrides_ignored, 3);
    CHECK_EQ(info.ncpus, 1);
}

TEST(madt_entry_length_0_or_1_rejected)
{
    for (int elen = 0; elen < 2; elen++) {
        madt_begin(0xfee00000, 1);
        add_lapic(0, 0, 1);
        entry(0, (uint8_t)elen);
        mb.len += 8;                    /* some bytes after it */
        madt_finish();
        CHECK(!parse());
    }
    /* Length 1 with the bytes after it forming a plausible entry: still refused. */
    madt_begin(0xfee00000, 1);
    uint8_t *e = entry(0x7f, 1);
    e[1] = 1;
    e[2] = 3;                           /* read from offset 1: type 1, length 3 */
    e[3] = 0;
    mb.len += 3;
    madt_finish();
    CHECK(!parse());
}

TEST(madt_entry_past_table_rejected)
{
    madt_begin(0xfee00000, 1);
    add_lapic(0, 0, 1);
    uint8_t *e = entry(0, 8);
    put32(e + 4, 1);
    mb.len -= 3;                        /* the last entry claims 3 bytes more than there are */
    madt_finish();
    CHECK(!parse());
    /* Even when the buffer holds the bytes, the header length bounds the entries. */
    size_t table_len = mb.len;
    mb.len += 3;
    CHECK(mb.len == table_len + 3);
    CHECK(!parse_len(mb.len));
    /* An entry header cut in half (one byte left) is ignored, not read past. */
    madt_begin(0xfee00000, 1);
    add_lapic(0, 5, 1);
    mb.b[mb.len++] = 0;
    madt_finish();
    CHECK(parse());
    CHECK_EQ(info.ncpus, 1);
    CHECK_EQ(info.apic_ids[0], 5);
    /* An entry claiming 255 bytes in a short table. */
    madt_begin(0xfee00000, 1);
    e = entry(1, 12);
    e[1] = 255;
    madt_finish();
    CHECK(!parse());
}

TEST(madt_wrong_signature_rejected)
{
    static const char *const sigs[] = { "APIX", "apic", "FACP", "\0PIC" };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        madt_begin(0xfee00000, 1);
        add_lapic(0, 0, 1);
        memcpy(mb.b, sigs[i], 4);
        madt_finish();
        CHECK(!parse());
    }
}

TEST(madt_bad_checksum_rejected)
{
    madt_begin(0xfee00000, 1);
    add_lapic(0, 0, 1);
    add_ioapic(1, 0xfec00000, 0);
    madt_finish();
    CHECK(parse());
    /* Any flipped bit: checksum, signature or length check refuses it. */
    for (size_t i = 0; i < mb.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            mb.b[i] ^= (uint8_t)(1u << bit);
            CHECK(!parse());
            mb.b[i] ^= (uint8_t)(1u << bit);
        }
    CHECK(parse());
}

TEST(madt_bad_lengths_rejected)
{
    madt_begin(0xfee00000, 1);
    add_lapic(0, 0, 1);
    madt_finish();
    size_t full = mb.len;
    /* Header length larger than the buffer. */
    for (size_t cut = 1; cut <= 8; cut++)
        CHECK(!parse_len(full - cut));
    put32(mb.b + 4, (uint32_t)full + 1);
    fix_checksum(mb.b, full + 1, 9);
    CHECK(!parse_len(full));
    put32(mb.b + 4, 0xffffffff);
    CHECK(!parse_len(full));
    /* Header length smaller than header + lapic address + flags. */
    static const uint32_t smalls[] = { 0, 1, HDR, HDR + 7 };
    for (size_t i = 0; i < sizeof smalls / sizeof smalls[0]; i++) {
        madt_begin(0xfee00000, 1);
        put32(mb.b + 4, smalls[i]);
        fix_checksum(mb.b, smalls[i] > 10 ? smalls[i] : 10, 9);
        CHECK(!parse_len(HDR + 8));
    }
    /* Buffers shorter than header + 8 are refused before any read past them. */
    madt_begin(0xfee00000, 1);
    madt_finish();
    for (size_t len = 0; len < HDR + 8; len++)
        CHECK(!parse_len(len));
    CHECK(parse_len(HDR + 8));
}

TEST(madt_buffer_longer_than_table)
{
    /* Bytes past the header's length are not parsed. */
    madt_begin(0xfee00000, 1);
    add_lapic(0, 7, 1);
    madt_finish();
    size_t len = mb.len;
    add_lapic(1, 8, 1);
    entry(0, 0);                        /* would be malformed if parsed */
    CHECK(parse_len(len + 10));
    CHECK_EQ(info.ncpus, 1);
    CHECK_EQ(info.apic_ids[0], 7);
}

TEST(madt_parse_clears_previous_results)
{
    madt_begin(0xfee00000, 1);
    for (int i = 0; i < 3; i++)
        add_lapic((uint8_t)i, (uint8_t)i, 1);
    add_ioapic(1, 0xfec00000, 0);
    madt_finish();
    uint8_t *copy = dup_exact(mb.b, mb.len);
    struct madt_info m;
    memset(&m, 0xcc, sizeof m);
    CHECK(acpi_madt_parse(copy, mb.len, &m));
    CHECK_EQ(m.ncpus, 3);
    CHECK_EQ(m.apic_ids[3], 0);
    CHECK_EQ(m.cpus_ignored, 0);
    CHECK_EQ(m.noverride, 0);
    CHECK_EQ(m.ioapic[1].phys, 0);
    copy[0] = 'X';
    memset(&m, 0xcc, sizeof m);
    CHECK(!acpi_madt_parse(copy, mb.len, &m));
    CHECK_EQ(m.ncpus, 0);                /* a refused table leaves nothing behind */
    CHECK(!m.has_8259);
    free(copy);
}

/* ---- the MCFG (PCI Express configuration space) ---- */

/* An MCFG with n allocations (base, segment, first bus, last bus); its exact-size copy parsed. */
static bool mcfg_parse(const uint64_t *base, const uint16_t *seg, const uint8_t (*bus)[2], int n,
                       struct mcfg_info *out, int damage)
{
    size_t len = 36 + 8 + 16 * (size_t)n;
    uint8_t *t = calloc(1, len);
    memcpy(t, "MCFG", 4);
    put32(t + 4, (uint32_t)len);
    for (int i = 0; i < n; i++) {
        put64(t + 44 + 16 * i, base[i]);
        memcpy(t + 44 + 16 * i + 8, &seg[i], 2);
        t[44 + 16 * i + 10] = bus[i][0];
        t[44 + 16 * i + 11] = bus[i][1];
    }
    fix_checksum(t, len, 9);
    if (damage == 1)
        t[20] ^= 1;                     /* checksum broken */
    if (damage == 2)
        put32(t + 4, (uint32_t)len + 16);   /* claims more than there is */
    uint8_t *copy = dup_exact(t, len);
    memset(out, 0xcc, sizeof *out);
    bool ok = acpi_mcfg_parse(copy, len, out);
    free(copy);
    free(t);
    return ok;
}

TEST(mcfg_qemu_q35)
{
    uint64_t base[] = { 0xb0000000 };
    uint16_t seg[] = { 0 };
    uint8_t bus[][2] = { { 0, 255 } };
    struct mcfg_info m;
    CHECK(mcfg_parse(base, seg, bus, 1, &m, 0));
    CHECK_EQ(m.base, 0xb0000000);
    CHECK_EQ(m.bus_first, 0);
    CHECK_EQ(m.bus_last, 255);
}

TEST(mcfg_other_segments_and_bad_entries_skipped)
{
    uint64_t base[] = { 0xc0000000, 0xe0000123, 0xd0000000, 0xe0000000 };
    uint16_t seg[] = { 1, 0, 0, 0 };
    uint8_t bus[][2] = { { 0, 255 }, { 0, 63 }, { 9, 3 }, { 0, 63 } };
    struct mcfg_info m;
    CHECK(mcfg_parse(base, seg, bus, 4, &m, 0));   /* segment 1, unaligned base, buses backwards: skipped */
    CHECK_EQ(m.base, 0xe0000000);
    CHECK_EQ(m.bus_last, 63);
}

TEST(mcfg_refused)
{
    uint64_t base[] = { 0xb0000000 };
    uint16_t seg[] = { 0 };
    uint8_t bus[][2] = { { 0, 255 } };
    struct mcfg_info m;
    CHECK(!mcfg_parse(base, seg, bus, 1, &m, 1));  /* bad checksum */
    CHECK(!mcfg_parse(base, seg, bus, 1, &m, 2));  /* length past the table */
    CHECK(!mcfg_parse(base, seg, bus, 0, &m, 0));  /* no allocation */
    uint8_t madt[44] = "APIC";
    put32(madt + 4, sizeof madt);
    fix_checksum(madt, sizeof madt, 9);
    uint8_t *copy = dup_exact(madt, sizeof madt);
    CHECK(!acpi_mcfg_parse(copy, sizeof madt, &m));   /* another table */
    free(copy);
}

/* ---- the HPET table ---- */

/* QEMU's HPET table (56 bytes), its base in memory space SPACE, optionally damaged; exact-size copy parsed. */
static bool hpet_parse(uint64_t base, uint8_t space, int damage, struct hpet_info *out)
{
    uint8_t t[56] = "HPET";
    put32(t + 4, sizeof t);
    put32(t + 36, 0x8086a201);          /* event timer block id */
    t[40] = space;
    t[41] = 64;                          /* bit width */
    put64(t + 44, base);
    fix_checksum(t, sizeof t, 9);
    if (damage == 1)
        t[20] ^= 1;                     /* checksum broken */
    if (damage == 2)
        put32(t + 4, sizeof t + 8);     /* claims more than there is */
    size_t len = damage == 3 ? 48 : sizeof t;     /* 3: cut short */
    uint8_t *copy = dup_exact(t, len);
    memset(out, 0xcc, sizeof *out);
    bool ok = acpi_hpet_parse(copy, len, out);
    free(copy);
    return ok;
}

TEST(hpet_qemu_q35)
{
    struct hpet_info h;
    CHECK(hpet_parse(0xfed00000, 0, 0, &h));
    CHECK_EQ(h.base, 0xfed00000);
}

TEST(hpet_refused)
{
    struct hpet_info h;
    CHECK(!hpet_parse(0xfed00000, 0, 1, &h));     /* bad checksum */
    CHECK(!hpet_parse(0xfed00000, 0, 2, &h));     /* length past the table */
    CHECK(!hpet_parse(0xfed00000, 0, 3, &h));     /* shorter than an HPET table */
    CHECK(!hpet_parse(0xfed00000, 1, 0, &h));     /* in I/O space */
    CHECK(!hpet_parse(0xfed00800, 0, 0, &h));     /* not page-aligned */
    CHECK(!hpet_parse(0, 0, 0, &h));              /* no address */
    uint8_t madt[56] = "APIC";
    put32(madt + 4, sizeof madt);
    fix_checksum(madt, sizeof madt, 9);
    uint8_t *copy = dup_exact(madt, sizeof madt);
    CHECK(!acpi_hpet_parse(copy, sizeof madt, &h));   /* another table */
    free(copy);
}
