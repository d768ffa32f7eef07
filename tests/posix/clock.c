/* Clocks and sleeping: the monotonic clock moves forward across a sleep at least as long as asked. */
#include "common.h"

#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000ll + t.tv_nsec; }

int main(void)
{
    struct timespec a, b, c, r;
    CHECK("clock_gettime monotonic", clock_gettime(CLOCK_MONOTONIC, &a));
    struct timespec req = { 0, 50 * 1000000 };
    CHECK("nanosleep 50 ms", nanosleep(&req, NULL));
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("slept at least 50 ms: %s\n", ns(b) - ns(a) >= 50000000 ? "yes" : "no");
    printf("slept less than 5 s: %s\n", ns(b) - ns(a) < 5000000000ll ? "yes" : "no");
    clock_gettime(CLOCK_MONOTONIC, &c);
    printf("monotonic never goes back: %s\n", ns(c) >= ns(b) ? "yes" : "no");
    CHECK("clock_gettime realtime", clock_gettime(CLOCK_REALTIME, &r));
    printf("realtime after 2020: %s\n", r.tv_sec > 1577836800 ? "yes" : "no");
    struct timeval tv;
    CHECK("gettimeofday", gettimeofday(&tv, NULL));
    printf("gettimeofday agrees with realtime: %s\n", tv.tv_sec - r.tv_sec < 5 && r.tv_sec - tv.tv_sec < 5 ? "yes" : "no");
    CHECK("clock_gettime cputime", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c));
    CHECK("clock_gettime bad clock", clock_gettime(12345, &c));
    struct timespec bad = { 0, 2000000000 };
    CHECK("nanosleep bad", nanosleep(&bad, NULL));
    printf("time() agrees: %s\n", time(NULL) - r.tv_sec < 5 ? "yes" : "no");
    return 0;
}
