/*
 * A process paging itself (lib/exopage, docs/exokernel.md): 64 pages of
 * virtual memory over 8 bound frames and a backing store of its own.
 * Under the same loop over 16 pages the library's clock misses on every
 * access while its MRU policy misses on fewer than half after the first turn; the manager sees only
 * the 8 frames charged.  Then the manager asks for frames back: the
 * library gives them in time and loses nothing; told not to cooperate, it
 * has frames taken at the deadline, learns which, and exactly the pages
 * written in them are lost; the next touch of one faults to its handler.
 */
#include "memtest.h"
#include "exopage.h"
#include <string.h>

#define EXO_BASE    0x6300000000ull
#define EXO_WINDOW  0x6400000000ull
#define EXO_PAGES   64
#define EXO_FRAMES  8
#define LOOP        16          /* pages the loop walks: twice the frames */

static uint8_t store[EXO_PAGES][4096] __attribute__((aligned(4096)));
static volatile uint64_t store_writes, jobs_done, revocations;
static volatile uint64_t job, pass_sum;

static long store_read(void *ctx, uint32_t page, void *buf)
{
    memcpy(buf, store[page], sizeof store[page]);
    return 0;
}

static long store_write(void *ctx, uint32_t page, const void *buf)
{
    memcpy(store[page], buf, sizeof store[page]);
    store_writes++;
    return 0;
}

static void counted(struct exopage *x, void *ctx)
{
    revocations++;
}

static volatile uint64_t *word(uint32_t page, unsigned at)
{
    return (volatile uint64_t *)(EXO_BASE + page * PAGE + at * 8);
}

enum { JOB_FILL = 1, JOB_LOOP, JOB_CHECK, JOB_WRITE5, JOB_OUTSIDE };

/* The application's thread: its page faults go to the library. */
static void worker(uint64_t unused)
{
    for (uint64_t seen = 0;; seen++) {
        while (jobs_done != seen || !job)
            pith_sleep_ns(1000000);
        uint64_t sum = 0;
        switch (job) {
        case JOB_FILL:                      /* every page written: its number at two places */
            for (uint32_t p = 0; p < EXO_PAGES; p++)
                *word(p, 0) = *word(p, 300) = 1000 + p;
            break;
        case JOB_LOOP:                      /* three turns reading the first LOOP pages */
            for (int turn = 0; turn < 3; turn++)
                for (uint32_t p = 0; p < LOOP; p++)
                    sum += *word(p, 0);
            break;
        case JOB_CHECK:                     /* pages holding what was written (0: lost) */
            for (uint32_t p = 0; p < EXO_PAGES; p++)
                sum += *word(p, 0) == 1000 + p && *word(p, 300) == 1000 + p;
            break;
        case JOB_WRITE5:                    /* the first five pages written again */
            for (uint32_t p = 0; p < 5; p++)
                *word(p, 0) = *word(p, 300) = 1000 + p;
            break;
        case JOB_OUTSIDE:
            *(volatile uint64_t *)(EXO_BASE + EXO_PAGES * PAGE) = 1;
            break;
        }
        pass_sum = sum;
        job = 0;
        jobs_done++;
    }
}

/* Runs a job in the worker; false if it did not finish within two seconds. */
static bool run(uint64_t what)
{
    uint64_t before = jobs_done;
    job = what;
    return wait_for(&jobs_done, before + 1);
}

static uint32_t used_of(struct pith_client *c)
{
    uint32_t q, used = ~0u, pages, refused;
    uint64_t bytes;
    mem_stats(c, &q, &used, &pages, &bytes, &refused);
    return used;
}

static struct exopage_config config(enum exopage_policy policy, const char *mem)
{
    return (struct exopage_config){ .resolver = &test_registry, .mem_name = mem, .base = EXO_BASE,
                                    .pages = EXO_PAGES, .frames = EXO_FRAMES, .window = EXO_WINDOW,
                                    .policy = policy, .cooperate = true,
                                    .store = { NULL, store_read, store_write }, .on_revoke = counted };
}

/* The loop's faults under a policy, with every page filled first and checked after. */
static uint64_t loop_faults(struct mm *m, enum exopage_policy policy, bool *ok)
{
    static struct exopage x;
    struct pith_client c;
    uint64_t ep;
    *ok = false;
    uint32_t id = mm_client(m, &c, "exo-pager", 16, &ep);
    struct exopage_config cfg = config(policy, "exo-pager");
    if (!id || exopage_start(&x, &cfg))
        return 0;
    jobs_done = job = 0;
    uint64_t t = client_thread(worker, 0, x.ep, 150);
    pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0);
    bool ran = run(JOB_FILL);
    uint64_t before = x.stats.faults;
    ran = ran && run(JOB_LOOP);
    uint64_t faults = x.stats.faults - before;
    ran = ran && pass_sum == 3 * (LOOP * 1000 + LOOP * (LOOP - 1) / 2) && run(JOB_CHECK);
    *ok = ran && pass_sum == EXO_PAGES && used_of(&c) == EXO_FRAMES && x.stats.refused == 0 &&
          x.stats.writebacks >= EXO_PAGES - EXO_FRAMES;
    end_thread(t);
    exopage_stop(&x);
    mem_client_close(&m->owner, id);
    return faults;
}

UTEST(exopage_own_policy_under_pressure)
{
    struct mm m;
    bool ok;
    UT_EQ(mm_start(&m), PITH_OK);
    uint64_t clock = loop_faults(&m, EXOPAGE_CLOCK, &ok);
    UT_ASSERT(ok);
    uint64_t mru = loop_faults(&m, EXOPAGE_MRU, &ok);
    UT_ASSERT(ok);
    printf("  a loop over %u pages, %u frames, 3 turns: clock %lu faults, MRU %lu\n", LOOP, EXO_FRAMES, clock, mru);
    UT_EQ(clock, 3 * LOOP);                 /* a loop longer than memory defeats LRU: every access misses */
    /* The first turn misses everywhere under both (the fill left the last pages in); MRU then keeps most. */
    UT_ASSERT(mru > LOOP && mru - LOOP < (clock - LOOP) / 2);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}

UTEST(exopage_revocation_cooperative_and_forced)
{
    static struct exopage x;
    struct mm m;
    struct pith_client c;
    uint64_t ep;
    UT_EQ(mm_start(&m), PITH_OK);
    uint32_t id = mm_client(&m, &c, "exo-pager2", 16, &ep);
    UT_ASSERT(id);
    struct exopage_config cfg = config(EXOPAGE_CLOCK, "exo-pager2");
    cfg.frames = 17;
    UT_EQ(exopage_start(&x, &cfg), MEM_E_QUOTA);        /* more frames than the quota: nothing bound */
    UT_EQ(used_of(&c), 0);
    cfg.frames = 0;
    UT_EQ(exopage_start(&x, &cfg), PITH_E_INVALID_ARG);
    cfg = config(EXOPAGE_CLOCK, "exo-pager2");
    UT_EQ(exopage_start(&x, &cfg), PITH_OK);
    jobs_done = job = revocations = 0;
    uint64_t t = client_thread(worker, 0, x.ep, 150);
    UT_EQ(pith_invoke4(t, PITH_TCB_RESUME, 0, 0, 0, 0), PITH_OK);
    UT_ASSERT(run(JOB_FILL));

    /* Asked for 3 frames within 400 ms: the library picks them, writes back, returns them; nothing is lost. */
    UT_EQ(mem_reclaim(&m.owner, id, EXO_FRAMES - 3, 400), PITH_OK);
    UT_ASSERT(wait_for(&revocations, 1));
    UT_EQ(x.stats.returned, 3);
    UT_EQ(x.live, EXO_FRAMES - 3);
    UT_EQ(used_of(&c), EXO_FRAMES - 3);
    pith_sleep_ns(450000000);            /* past the deadline */
    UT_EQ(x.stats.taken, 0);
    UT_ASSERT(run(JOB_CHECK));
    UT_EQ(pass_sum, EXO_PAGES);             /* all 64 pages still right, through 5 frames */

    /* Not cooperating: 5 pages written, 3 frames missing at the deadline, taken and listed. */
    UT_ASSERT(run(JOB_WRITE5));
    /* The manager takes the live frames with the highest slots: the pages written in them will be lost. */
    bool expect[EXO_PAGES] = { false };
    uint32_t expected = 0;
    for (int f = EXO_FRAMES - 1, n = 0; f >= 0 && n < 3; f--) {
        if (x.frame[f].gone)
            continue;
        n++;
        uint32_t v = x.frame[f].vpage;
        if (v != EXOPAGE_NONE && (x.state[v] & EXOPAGE_DIRTY))
            expect[v] = true, expected++;
    }
    UT_ASSERT(expected >= 1);
    x.cfg.cooperate = false;
    UT_EQ(mem_reclaim(&m.owner, id, 2, 30), PITH_OK);
    UT_ASSERT(wait_for((volatile uint64_t *)&x.stats.taken, 3));
    UT_EQ(x.stats.ignored, 1);              /* asked, and ignored */
    UT_EQ(x.stats.taken, 3);
    UT_EQ(x.live, 2);
    UT_EQ(used_of(&c), 2);
    /* The pages in the taken frames were written and had no other copy: those are lost, and only those. */
    uint32_t lost = 0;
    for (uint32_t p = 0; p < EXO_PAGES; p++)
        if (exopage_lost(&x, p)) {
            UT_ASSERT(expect[p]);
            UT_EQ(x.where[p], EXOPAGE_NONE);
            lost++;
        }
    UT_EQ(lost, expected);
    UT_EQ(x.stats.lost, expected);
    printf("  forced: 3 frames taken, %u written pages lost\n", expected);
    /* Touched again, each faults to the library, which gives it zeroes; the rest is intact. */
    UT_ASSERT(run(JOB_CHECK));
    UT_EQ(pass_sum, EXO_PAGES - expected);
    for (uint32_t p = 0; p < EXO_PAGES; p++)
        UT_ASSERT(!exopage_lost(&x, p));

    /* The pressure over, the library binds its frames again and pages as before. */
    UT_EQ(exopage_rebind(&x), PITH_OK);
    UT_EQ(x.live, EXO_FRAMES);
    UT_EQ(used_of(&c), EXO_FRAMES);
    UT_ASSERT(run(JOB_FILL));
    UT_ASSERT(run(JOB_CHECK));
    UT_EQ(pass_sum, EXO_PAGES);

    /* A touch outside the region is refused: the thread stays stopped. */
    job = JOB_OUTSIDE;
    pith_sleep_ns(20000000);
    UT_EQ(x.stats.refused, 1);
    UT_EQ(thread_state(t), 0);
    end_thread(t);
    exopage_stop(&x);
    UT_EQ(x.live, 0);
    UT_EQ(used_of(&c), 0);
    UT_EQ(mem_client_close(&m.owner, id), PITH_OK);
    UT_ASSERT(mm_accounted(&m));
    UT_ASSERT(mm_stop(&m));
}
