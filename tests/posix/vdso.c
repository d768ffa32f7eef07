/*
 * The vDSO (docs/posix.md, "The vDSO"): the kernel's (Linux's) or the
 * personality's shared object is there, musl's clock_gettime answers
 * through it, and its answers agree with the system call's, read
 * interleaved; its errors are the system call's.  Only verdicts are
 * printed, never a time, so the host's output and Pith's are the same.
 */
#define _GNU_SOURCE
#include "common.h"

#include <elf.h>
#include <sched.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5000

static long long ns(struct timespec t) { return t.tv_sec * 1000000000ll + t.tv_nsec; }

static long raw_gettime(clockid_t c, struct timespec *ts) { return syscall(SYS_clock_gettime, c, ts); }

/*
 * The system call's reading lies between two of libc's (the vDSO's), in
 * every round, and in some round the two lie within 5 ms of each other
 * (so the two clocks agree that closely; the smallest, as a round may
 * be preempted).
 */
static int interleaved(clockid_t c)
{
    struct timespec a, b, d;
    long long window = -1;
    for (int i = 0; i < ROUNDS; i++) {
        if (clock_gettime(c, &a) || raw_gettime(c, &b) || clock_gettime(c, &d))
            return 0;
        if (ns(a) > ns(b) || ns(b) > ns(d))
            return 0;
        if (window < 0 || ns(d) - ns(a) < window)
            window = ns(d) - ns(a);
    }
    return window < 5000000;
}

static const char *yes(int ok) { return ok ? "yes" : "no"; }

/*
 * A symbol of version LINUX_2.6 of the vDSO at eh, looked up as glibc and
 * musl do: the dynamic segment's tables, DT_HASH's count of symbols (or
 * DT_GNU_HASH's buckets and chains), the version of each in DT_VERSYM
 * named by DT_VERDEF.  NULL if it is not there.
 */
static void *vdso_sym(const unsigned char *eh, const char *name)
{
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)eh;
    const Elf64_Dyn *dyn = NULL;
    uintptr_t base = 0;
    for (int i = 0; i < e->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(eh + e->e_phoff + (size_t)i * e->e_phentsize);
        if (ph->p_type == PT_LOAD)
            base = (uintptr_t)eh + ph->p_offset - ph->p_vaddr;
        else if (ph->p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(eh + ph->p_offset);
    }
    const char *str = NULL;
    const Elf64_Sym *sym = NULL;
    const uint32_t *hash = NULL, *gnu = NULL;
    const uint16_t *versym = NULL;
    const Elf64_Verdef *verdef = NULL;
    for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
        void *at = (void *)(base + dyn->d_un.d_ptr);
        switch (dyn->d_tag) {
        case DT_STRTAB: str = at; break;
        case DT_SYMTAB: sym = at; break;
        case DT_HASH: hash = at; break;
        case DT_GNU_HASH: gnu = at; break;
        case DT_VERSYM: versym = at; break;
        case DT_VERDEF: verdef = at; break;
        }
    }
    if (!str || !sym || !versym || !verdef || (!hash && !gnu))
        return NULL;
    size_t n = 0;
    if (hash) {
        n = hash[1];
    } else {                            /* the last chain's end past the highest bucket */
        const uint32_t *buckets = gnu + 4 + gnu[2] * 2, *chains = buckets + gnu[0];
        for (uint32_t b = 0; b < gnu[0]; b++)
            n = buckets[b] > n ? buckets[b] : n;
        if (n)
            while (!(chains[n - gnu[1]] & 1))
                n++;
        n++;
    }
    for (size_t i = 1; i < n; i++) {
        if (strcmp(str + sym[i].st_name, name) || !sym[i].st_shndx)
            continue;
        for (const Elf64_Verdef *d = verdef;; d = (const Elf64_Verdef *)((const char *)d + d->vd_next)) {
            const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
            if (!(d->vd_flags & VER_FLG_BASE) && d->vd_ndx == (versym[i] & 0x7fff) &&
                !strcmp(str + aux->vda_name, "LINUX_2.6"))
                return (void *)(base + sym[i].st_value);
            if (!d->vd_next)
                break;
        }
    }
    return NULL;
}

/* What glibc calls and musl does not: each of the vDSO's functions, called directly. */
static void direct_calls(const unsigned char *eh)
{
    int (*cgt)(clockid_t, struct timespec *) = eh ? vdso_sym(eh, "__vdso_clock_gettime") : NULL;
    int (*res)(clockid_t, struct timespec *) = eh ? vdso_sym(eh, "__vdso_clock_getres") : NULL;
    int (*gtod)(struct timeval *, void *) = eh ? vdso_sym(eh, "__vdso_gettimeofday") : NULL;
    time_t (*tm)(time_t *) = eh ? vdso_sym(eh, "__vdso_time") : NULL;
    long (*cpu)(unsigned *, unsigned *, void *) = eh ? vdso_sym(eh, "__vdso_getcpu") : NULL;
    printf("__vdso_clock_gettime, _clock_getres, _gettimeofday, _time, _getcpu found: %s %s %s %s %s\n",
           yes(cgt != NULL), yes(res != NULL), yes(gtod != NULL), yes(tm != NULL), yes(cpu != NULL));
    if (!cgt || !res || !gtod || !tm || !cpu)
        return;
    struct timespec a, b, r = { -1, -1 };
    struct timeval tv;
    printf("__vdso_clock_gettime monotonic: %d\n", cgt(CLOCK_MONOTONIC, &a));
    raw_gettime(CLOCK_MONOTONIC, &b);
    printf("  before the system call's: %s\n", yes(ns(a) <= ns(b)));
    printf("__vdso_clock_gettime clock 1000: %s\n", cgt(1000, &a) == -EINVAL ? "-EINVAL" : "other");
    printf("__vdso_clock_gettime thread cputime: %d\n", cgt(CLOCK_THREAD_CPUTIME_ID, &a));
    int got = res(CLOCK_MONOTONIC, &r);
    printf("__vdso_clock_getres monotonic: %d, positive: %s\n", got, yes(r.tv_sec == 0 && r.tv_nsec > 0));
    printf("__vdso_clock_getres clock 1000: %s\n", res(1000, &r) == -EINVAL ? "-EINVAL" : "other");
    clock_gettime(CLOCK_REALTIME, &a);
    int g = gtod(&tv, NULL);
    time_t t = tm(NULL), t2 = 0;
    clock_gettime(CLOCK_REALTIME, &b);
    long long tv_ns = tv.tv_sec * 1000000000ll + tv.tv_usec * 1000ll;
    printf("__vdso_gettimeofday: %d, between two realtime readings: %s\n", g,
           yes(tv_ns >= ns(a) / 1000 * 1000 && tv_ns <= ns(b)));
    printf("__vdso_gettimeofday of nothing: %d\n", gtod(NULL, NULL));
    printf("__vdso_time between two realtime readings: %s\n", yes(t >= a.tv_sec && t <= b.tv_sec));
    printf("__vdso_time stores what it returns: %s\n", yes(tm(&t2) == t2));
    unsigned c = ~0u, node = ~0u;
    long on = cpu(&c, &node, NULL);
    printf("__vdso_getcpu: %ld, a CPU written: %s, node 0: %s\n", on, yes(c != ~0u), yes(node == 0));
}

int main(void)
{
    const unsigned char *eh = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    printf("AT_SYSINFO_EHDR given: %s\n", yes(eh != NULL));
    printf("it is an ELF image: %s\n", yes(eh && !memcmp(eh, "\177ELF", 4)));
    direct_calls(eh);

    /* Every clock both answer, through libc, then its resolution; then ids nobody has. */
    static const struct { clockid_t id; const char *name; } clocks[] = {
        { CLOCK_REALTIME, "realtime" }, { CLOCK_MONOTONIC, "monotonic" },
        { CLOCK_PROCESS_CPUTIME_ID, "process cputime" }, { CLOCK_THREAD_CPUTIME_ID, "thread cputime" },
        { CLOCK_MONOTONIC_RAW, "monotonic raw" }, { CLOCK_REALTIME_COARSE, "realtime coarse" },
        { CLOCK_MONOTONIC_COARSE, "monotonic coarse" }, { CLOCK_BOOTTIME, "boottime" },
        { 10, "clock 10" }, { 16, "clock 16" }, { 1000, "clock 1000" },
    };
    char what[64];
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec ts = { -1, -1 }, res;
        snprintf(what, sizeof what, "clock_gettime %s", clocks[i].name);
        CHECK(what, clock_gettime(clocks[i].id, &ts));
        printf("  %s in range: %s\n", clocks[i].name, yes(ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000));
        snprintf(what, sizeof what, "clock_getres %s", clocks[i].name);
        CHECK(what, clock_getres(clocks[i].id, &res));
        snprintf(what, sizeof what, "clock_getres %s without a result", clocks[i].name);
        CHECK(what, clock_getres(clocks[i].id, NULL));
    }

    /* The same clocks through libc (the vDSO) and the system call, interleaved. */
    printf("monotonic: vDSO and system call in order: %s\n", yes(interleaved(CLOCK_MONOTONIC)));
    printf("boottime: vDSO and system call in order: %s\n", yes(interleaved(CLOCK_BOOTTIME)));
    printf("realtime: vDSO and system call in order: %s\n", yes(interleaved(CLOCK_REALTIME)));

    struct timespec prev, now;
    int forward = 1;
    clock_gettime(CLOCK_MONOTONIC, &prev);
    for (int i = 0; i < 20 * ROUNDS; i++, prev = now)
        if (clock_gettime(CLOCK_MONOTONIC, &now) || ns(now) < ns(prev))
            forward = 0;
    printf("monotonic never goes back over %d calls: %s\n", 20 * ROUNDS, yes(forward));

    /* gettimeofday and time against realtime, each read between two realtime readings. */
    struct timespec r0, r1;
    struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &r0);
    CHECK("gettimeofday", gettimeofday(&tv, NULL));
    time_t t = time(NULL), t2;
    clock_gettime(CLOCK_REALTIME, &r1);
    long long tv_ns = tv.tv_sec * 1000000000ll + tv.tv_usec * 1000ll;
    printf("gettimeofday between two realtime readings: %s\n", yes(tv_ns >= ns(r0) / 1000 * 1000 && tv_ns <= ns(r1)));
    printf("gettimeofday's microseconds in range: %s\n", yes(tv.tv_usec >= 0 && tv.tv_usec < 1000000));
    printf("time between two realtime readings: %s\n", yes(t >= r0.tv_sec && t <= r1.tv_sec));
    printf("time stores what it returns: %s\n", yes(time(&t2) == t2));
    struct timezone tz;
    CHECK("gettimeofday with a time zone", gettimeofday(&tv, &tz));
    CHECK("gettimeofday of nothing", gettimeofday(NULL, NULL));
    printf("sched_getcpu answers: %s\n", yes(sched_getcpu() >= 0));

    /* A child has the same vDSO (fork keeps the mapping) and the same clock. */
    struct timespec before;
    clock_gettime(CLOCK_MONOTONIC, &before);
    pid_t child = fork();
    if (child == 0) {
        struct timespec c;
        _exit(getauxval(AT_SYSINFO_EHDR) == (unsigned long)eh && !clock_gettime(CLOCK_MONOTONIC, &c) &&
                      ns(c) >= ns(before) && interleaved(CLOCK_MONOTONIC) ? 0 : 1);
    }
    int status;
    printf("a forked child's clock agrees: %s\n",
           yes(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status)));
    return 0;
}
