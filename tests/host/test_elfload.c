// uses: lib/elfload/parse.c lib/elfload/lazy.c
/*
 * lib/elfload/parse.c on the host under ASan and UBSan: the valid image,
 * every malformed case of tests/user/elf_cases.h (one per error code),
 * and random corruptions of the valid image, which must be refused or
 * accepted without reading outside the buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../user/elf_cases.h"

/* Runs one case on an exact-size heap copy, so ASan catches any read past the end. */
static enum elf_error run_case(const struct elf_case *c, struct elf_image *img)
{
    static unsigned char work[CASE_SIZE];
    case_valid(work);
    c->change(work);
    size_t size = c->size ? c->size : CASE_SIZE;
    unsigned char *copy = malloc(size);
    memcpy(copy, work, size);
    enum elf_error e = elf_parse(copy, size, img);
    free(copy);
    return e;
}

TEST(valid_image_parsed)
{
    struct elf_image img;
    CHECK_EQ(run_case(&elf_cases[0], &img), ELF_OK);
    CHECK_EQ(img.entry, 0x400100);
    CHECK_EQ(img.nsegments, 2);
    CHECK_EQ(img.segments[0].vaddr, 0x400000);
    CHECK_EQ(img.segments[0].flags, ELF_PF_R | ELF_PF_X);
    CHECK_EQ(img.segments[1].vaddr, 0x401000);
    CHECK_EQ(img.segments[1].filesz, 0x100);
    CHECK_EQ(img.segments[1].memsz, 0x2000);
    CHECK_EQ(img.segments[1].offset, 0x1000);
}

TEST(every_malformed_case_gets_its_error)
{
    struct elf_image img;
    for (size_t i = 0; i < ELF_NCASES; i++) {
        enum elf_error e = run_case(&elf_cases[i], &img);
        if (e != elf_cases[i].want)
            printf("  case %s: got %d (%s), want %d\n", elf_cases[i].name, e, elf_strerror(e),
                   elf_cases[i].want);
        CHECK_EQ(e, elf_cases[i].want);
    }
}

TEST(every_parse_error_has_a_case_and_its_own_text)
{
    int seen[ELF_E_COUNT] = { 0 };
    for (size_t i = 0; i < ELF_NCASES; i++)
        seen[elf_cases[i].want] = 1;
    /* Loading errors come from elf_load, tested in the system. */
    for (int e = ELF_OK; e < ELF_E_NO_MEMORY; e++)
        CHECK(seen[e]);
    for (int a = 0; a < ELF_E_COUNT; a++)
        for (int b = a + 1; b < ELF_E_COUNT; b++)
            CHECK(strcmp(elf_strerror(a), elf_strerror(b)) != 0);
    CHECK(strcmp(elf_strerror(ELF_E_COUNT), "unknown error") == 0);
}

TEST(random_corruption_is_refused_or_accepted_safely)
{
    static unsigned char work[CASE_SIZE];
    unsigned seed = 1;
    int refused = 0;
    for (int round = 0; round < 20000; round++) {
        case_valid(work);
        /* A few random bytes of the headers (the first 200 bytes) changed. */
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245 + 12345;
            work[(seed >> 8) % 200] = (unsigned char)(seed >> 20);
        }
        size_t size = CASE_SIZE - (round % 3) * 0x80;
        unsigned char *copy = malloc(size);
        memcpy(copy, work, size);
        struct elf_image img;
        enum elf_error e = elf_parse(copy, size, &img);
        free(copy);
        CHECK(e >= ELF_OK && e < ELF_E_NO_MEMORY);
        if (e == ELF_OK) {
            /* Whatever was accepted obeys the rules. */
            for (int j = 0; j < img.nsegments; j++) {
                const struct elf_segment *s = &img.segments[j];
                CHECK(s->filesz <= s->memsz && s->offset + s->filesz <= size);
                CHECK(s->vaddr >= ELF_USER_START && s->vaddr + s->memsz <= ELF_USER_END);
                CHECK(!((s->flags & ELF_PF_W) && (s->flags & ELF_PF_X)));
            }
        } else {
            refused++;
        }
    }
    CHECK(refused > 1000);
}
