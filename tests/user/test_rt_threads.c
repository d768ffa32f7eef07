/* The runtime's threads: create and join, per-thread errno, reuse of finished threads. */
#include "utest.h"
#include "thread.h"

#include <errno.h>
#include <stdint.h>

static void *twice(void *arg)
{
    return (void *)((uintptr_t)arg * 2);
}

UTEST(threads_run_and_join_with_results)
{
    /* Two rounds: the second reuses the first round's finished threads. */
    for (int round = 0; round < 2; round++) {
        pith_thread_t *t[6];
        for (uintptr_t i = 0; i < 6; i++)
            UT_EQ(pith_thread_create(&t[i], twice, (void *)(i + 10 * round)), 0);
        for (uintptr_t i = 0; i < 6; i++) {
            void *result = 0;
            UT_EQ(pith_thread_join(t[i], &result), 0);
            UT_EQ((uintptr_t)result, 2 * (i + 10 * round));
        }
    }
    UT_EQ(pith_thread_join(NULL, NULL), EINVAL);
}

static void *errno_keeper(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    int local;
    errno = (int)id;
    pith_yield();
    pith_sleep_ns(1000000);
    /* Still ours after the others ran and set theirs; the stack is ours alone too. */
    if (errno != (int)id || pith_thread_self() == NULL)
        return (void *)0;
    pith_thread_exit((void *)((uintptr_t)&local));
}

UTEST(threads_have_their_own_errno_and_stack)
{
    pith_thread_t *t[4];
    errno = 77;
    for (uintptr_t i = 0; i < 4; i++)
        UT_EQ(pith_thread_create(&t[i], errno_keeper, (void *)(i + 1)), 0);
    uintptr_t stacks[4];
    for (int i = 0; i < 4; i++) {
        void *r;
        UT_EQ(pith_thread_join(t[i], &r), 0);
        stacks[i] = (uintptr_t)r;
        UT_ASSERT(stacks[i] != 0);
    }
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            UT_ASSERT(stacks[i] / 0x20000 != stacks[j] / 0x20000);
    UT_EQ(errno, 77);
    UT_ASSERT(pith_thread_self() == NULL);              /* the main thread */
}
