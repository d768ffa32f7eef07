/* The in-system test runner: runs every KTEST in link order, prints one line each. */
#include "ktest.h"
#include "core/log.h"

extern const struct ktest __ktests_start[], __ktests_end[];

static int current_failed;

void ktest_fail(const char *file, int line, const char *what, uint64_t a, uint64_t b, int show)
{
    current_failed = 1;
    if (show)
        kprintf("  %s:%d: expected %s (left %#lx, right %#lx)\n", file, line, what, a, b);
    else
        kprintf("  %s:%d: expected %s\n", file, line, what);
}

int ktest_failed_now(void) { return current_failed; }

int ktest_run_all(void)
{
    int passed = 0, failed = 0;
    int total = (int)(__ktests_end - __ktests_start);
    kprintf("TEST BEGIN count=%d\n", total);
    for (const struct ktest *t = __ktests_start; t < __ktests_end; t++) {
        current_failed = 0;
        t->fn();
        if (current_failed) {
            failed++;
            kprintf("TEST FAIL %s\n", t->name);
        } else {
            passed++;
            kprintf("TEST PASS %s\n", t->name);
        }
    }
    kprintf("TEST SUMMARY passed=%d failed=%d\n", passed, failed);
    return failed;
}
