/* Runs every UTEST in order and shuts the system down with the verdict. */
#include "utest.h"

extern const struct utest __start_utests[], __stop_utests[];

static int failed_now;

void utest_fail(const char *file, int line, const char *what, uint64_t a, uint64_t b, int show)
{
    failed_now = 1;
    if (show)
        printf("  %s:%d: expected %s (left %#lx, right %#lx)\n", file, line, what, a, b);
    else
        printf("  %s:%d: expected %s\n", file, line, what);
}

int main(void)
{
    int passed = 0, failed = 0;
    int total = (int)(__stop_utests - __start_utests);
    printf("TEST BEGIN count=%d\n", total);
    for (const struct utest *t = __start_utests; t < __stop_utests; t++) {
        failed_now = 0;
        t->fn();
        printf("TEST %s %s\n", failed_now ? "FAIL" : "PASS", t->name);
        failed += failed_now;
        passed += !failed_now;
    }
    printf("TEST SUMMARY passed=%d failed=%d\n", passed, failed);
    return failed ? 1 : 0;
}
