/*
 * Killing a server while a client uses it (tests/system/base.sh).  The
 * main thread sends numbered requests to /svc/kv, alternating put (may be
 * repeated) and add (may not); a second thread has the process manager
 * kill kv every so often.  The killer runs above kv's priority and the
 * requests below it, and it strikes when it finds the requesting thread
 * blocked in a call (kv has it, or it is queued), the hardest moment for
 * the client library.  Every request must either complete, exactly
 * once, or return PITH_IDL_E_RESTARTED:
 *   - a put completes (the library sends it again after a restart);
 *   - kv's table starts empty in each incarnation, so within one the
 *     completed adds' totals must count 1, 2, 3, ... with no gap or repeat;
 *   - RESTARTED only for an add, and only when the server did restart;
 *   - at the end the table holds exactly the keys put since the last
 *     restart, each with the value put last.
 * Prints "kvtest: PASS ..." or "kvtest: FAIL ..." on the log and exits.
 */
#include "idl.h"
#include "kv.h"
#include "procmgr.h"
#include "process.h"
#include "resolver.h"
#include "thread.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define REQUESTS 400            /* at least; more until every kill has been made */
#define MAX_REQUESTS 20000
#define KILLS 3
#define KEYS 16                 /* puts cycle through these (the table holds 32) */

static volatile int progress, done, killing = 1;
static uint64_t requester;      /* the main thread's TCB slot */
static int kills, held;

static long procmgr_itself(void *ctx, const char *name, uint64_t dest_slot)
{
    return pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, dest_slot, PITH_SLOT_PROCS, PITH_RIGHTS_ALL, 0);
}

static const struct pith_resolver boot_capability = { .lookup = procmgr_itself };

static void *killer(void *arg)
{
    struct pith_client pm;
    pith_client_init(&pm, "procmgr", &boot_capability, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    int last = 0;
    for (int k = 0; k < KILLS && !done; k++) {
        /* At a quarter, a half, three quarters, and always after the client used the last restart. */
        int at = (k + 1) * REQUESTS / (KILLS + 1);
        while ((progress < at || progress < last + 20) && !done)
            pith_sleep_ns(1000000);
        long err;
        bool in_call;
        do {
            in_call = false;
            /* Wait (a little at a time, not for ever) until the requester is blocked in a call. */
            for (int tries = 0; tries < 300 && !done; tries++) {
                struct pith_msg m = { 0 };
                if (pith_invoke(requester, PITH_TCB_INFO, &m) == PITH_OK && m.w[1] >= 2) {
                    in_call = true;
                    break;
                }
                pith_sleep_ns(20000);
            }
            err = procmgr_kill(&pm, "kv");
            if (err == PROCMGR_E_STATE)         /* still restarting from the last kill */
                pith_sleep_ns(5000000);
        } while (err == PROCMGR_E_STATE && !done);
        last = progress;
        printf("kvtest: killed kv at request %d (%ld)\n", last, err);
        if (!err) {
            kills++;
            held += in_call;
        }
    }
    killing = 0;
    return NULL;
}

static int fail(int i, const char *what, long err)
{
    printf("kvtest: FAIL request %d: %s (error %#lx)\n", i, what, err);
    done = 1;
    return 1;
}

int main(void)
{
    struct pith_client c;
    pith_client_init(&c, "/svc/kv", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    c.retries = 12;             /* a restart waits out the supervisor's backoff */
    pith_thread_t *t;
    requester = pith_tls_self()->tcb;
    if (pith_thread_create(&t, killer, NULL))
        return fail(0, "no killer thread", 0);
    /* The killer keeps our starting priority (the manifest's, above kv's); we go below kv. */
    if (pith_invoke4(PITH_SLOT_TCB, PITH_TCB_SET_PRIORITY, 100, 100, 0, 0))
        return fail(0, "cannot lower our priority", 0);
    int completed = 0, restarted = 0, incarnation_adds = 0;
    uint64_t seen_rebinds = 0;
    static int64_t put_live[KEYS];      /* the request that last put each key since the last restart, or -1 */
    memset(put_live, -1, sizeof put_live);
    int i;
    for (i = 0; (i < REQUESTS || killing) && i < MAX_REQUESTS; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i / 2 % KEYS);
        long err;
        if (i % 2 == 0) {
            uint64_t v = (uint64_t)i;
            err = kv_put(&c, key, &v, sizeof v);
            if (c.rebinds != seen_rebinds) {   /* the table we wrote before is gone */
                memset(put_live, -1, sizeof put_live);
                incarnation_adds = 0;
            }
            if (err)
                return fail(i, "put did not complete", err);
            put_live[i / 2 % KEYS] = i;
        } else {
            int64_t total = 0;
            err = kv_add(&c, "n", 1, &total);
            if (c.rebinds != seen_rebinds) {
                memset(put_live, -1, sizeof put_live);
                incarnation_adds = 0;
            }
            if (err == PITH_IDL_E_RESTARTED) {
                if (c.rebinds == seen_rebinds)
                    return fail(i, "restart error without a restart", err);
                restarted++;
            } else if (err) {
                return fail(i, "add neither completed nor restarted", err);
            } else if (total != ++incarnation_adds) {
                printf("kvtest: total %ld, expected %d\n", (long)total, incarnation_adds);
                return fail(i, "an add was lost or applied twice", 0);
            }
        }
        if (!err)
            completed++;
        seen_rebinds = c.rebinds;
        progress = i + 1;
    }
    done = 1;
    pith_thread_join(t, NULL);
    /* The last incarnation's table: exactly the keys put since it began, and "n" if adds were. */
    uint32_t keys = 0, expect = incarnation_adds ? 1 : 0;
    for (int j = 0; j < KEYS; j++) {
        char key[16];
        uint8_t value[KV_GET_VALUE_MAX];
        uint64_t len = 0;
        snprintf(key, sizeof key, "k%d", j);
        long err = kv_get(&c, key, value, &len);
        if (c.rebinds != seen_rebinds)
            return fail(i, "kv restarted after the killing stopped", 0);
        uint64_t want = (uint64_t)put_live[j];
        if (put_live[j] >= 0 && (err || len != 8 || memcmp(value, &want, 8)))
            return fail((int)put_live[j], "a completed put is missing", err);
        if (put_live[j] < 0 && err != KV_E_NOT_FOUND)
            return fail(j, "a key from before the restart is still there", err);
        expect += put_live[j] >= 0;
    }
    long err = kv_count(&c, &keys);
    if (err || keys != expect)
        return fail(i, "the table does not hold exactly the live puts", err);
    if (kills != KILLS || c.rebinds < KILLS)
        return fail(i, "kv was not killed as often as planned", kills);
    printf("kvtest: PASS %d requests: %d completed, %d returned the restart error; %d kills (%d during a call), "
           "%lu rebinds\n", i, completed, restarted, kills, held, c.rebinds);
    return 0;
}
