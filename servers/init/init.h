/*
 * Init's state, shared by its threads: the process table (proc.c), the
 * name table (names.c), the process manager and supervisor (procmgr.c).
 * init_lock guards the process table, the slot pool and the quotas; each
 * thread takes it around whole requests.  The name table has its own.
 */
#ifndef INIT_INIT_H
#define INIT_INIT_H

#include "manifest.h"
#include "pith.h"
#include "sync.h"

#include <stdbool.h>
#include <stdint.h>

#define PROC_MAX MANIFEST_MAX

enum proc_state { PROC_RUNNING, PROC_STOPPED, PROC_WAITING, PROC_GAVE_UP, PROC_EXITED };

struct proc {
    bool used;
    struct manifest_entry cfg;
    uint32_t pid;               /* of the current incarnation; new on every start */
    uint32_t parent;            /* pid of its parent (1: init) */
    int up;                     /* its parent's index in procs (-1: init), whose quota its own is carved from */
    enum proc_state state;
    uint64_t quota;             /* init's slot of its untyped (0: none held; a child's is held while it is listed) */
    uint32_t quota_bits;
    uint64_t tcb;               /* init's slot of its main thread (made from the quota) */
    uint64_t cnode;             /* init's slot of its CNode while it runs (0: none), for caps */
    uint64_t fault_ep;          /* the supervisor's endpoint, badged with our index + 1 */
    uint64_t names_ep;          /* the name service's endpoint, badged likewise */
    uint64_t procs_ep;          /* the process manager's, badged likewise */
    unsigned restarts;          /* restarts since the last start by hand */
    uint64_t restart_at;        /* clock time of the next restart (PROC_WAITING) */
    uint64_t backoff;           /* ns the supervisor waited before it (policy, not cost) */
    uint64_t started_at;        /* clock time of its last start */
    uint64_t ended_at;          /* clock time of its last end, before its quota is revoked (crash to serving again) */
    unsigned quick_ends;        /* ends in a row, each sooner than STABLE_NS after its start: its backoff */
    int64_t status;             /* exit status, or the kind of its last fault */
    bool timing_restart;        /* restarted by the supervisor; not yet published again */
    uint32_t quota_id;          /* the memory manager's id of the quota (0: carved by init) */
    uint64_t mem_ep;            /* given in process.h's PITH_SLOT_MEM: memd's endpoint (memd), or a client's (pages=) */
    uint64_t memory_cnode;      /* memd only: given in PITH_SLOT_MEMORY */
    uint32_t mem_client_id;     /* pages=: its client id at the memory manager (0: none) */
};

extern pith_mutex_t init_lock;
extern struct proc procs[PROC_MAX];
extern uint64_t supervisor_ep, names_ep, procmgr_ep;
extern uint64_t supervisor_ntfn;        /* wakes the supervisor to look at its timers */
extern const struct pith_time_page *clock_page;

static inline uint64_t now_ns(void) { return pith_clock_ns(clock_page); }

/* quota.c: slots and quotas (callers hold init_lock) */
uint64_t slot_get(void);
void slot_put(uint64_t slot);
long retype_at(uint64_t untyped, uint8_t type, uint32_t bits, uint64_t slot);
long quota_get(struct proc *p);            /* sets p->quota; 0 or a PROCMGR_E_ error */
uint64_t quota_return(struct proc *p);     /* revokes it; the bytes that did not come back (0) */
long quota_totals(uint64_t *total, uint64_t *free);
#define QUOTA_MIN_BITS 24                   /* the smallest quota (manifest: memory=16) */
long quota_pool(uint64_t cnode);
void quota_hand_over(uint64_t cnode, uint64_t ep);
bool quota_manager_up(void);
void quota_manager_down(void);
long quota_crash_manager(void);
long quota_client_new(struct proc *p, uint64_t vspace, uint32_t pages);
long quota_image_map(struct proc *p, int key, uint64_t size, uint64_t *entry);
long quota_manager_stats(uint32_t *committed, uint32_t *pages_free);
void quota_client_close(struct proc *p);
bool quota_client_fault(struct proc *p, uint64_t addr, uint64_t flags);

/* memd.c: the memory manager, started first; never restarted (docs/memory.md) */
extern struct proc *memd;
long memd_start(void);
bool memd_is(const struct proc *p);
bool memd_fault(uint64_t badge);           /* a fault of memd's: the manager is taken out of use */

/* modules.c */
void modules_map(void);
const void *module_find(const char *name, uint64_t *size);
int module_key(const char *name);
const void *module_of_key(uint64_t key, uint64_t *size);

/* mapper.c: the boot modules served to the memory manager (mapper.idl), for lazy images; takes no lock */
extern uint64_t mapper_ep;                  /* 0: not serving */
void mapper_start(void);
uint64_t mapper_pulls(void);

/* proc.c: whole processes (callers hold init_lock). */
int proc_add(const struct manifest_entry *cfg, int up);
struct proc *proc_find(const char *name);
long proc_start(struct proc *p);
void proc_end(struct proc *p, enum proc_state state);

/* tree.c: children carved from their parent's quota, subtrees (callers hold init_lock). */
bool proc_may_act(int caller, const struct proc *p);
long tree_create(int caller, const char *name, const char *module, uint32_t mib, uint32_t limit);
void tree_end_children(int index);
void proc_forget(struct proc *p);
uint64_t tree_quota_revoke(struct proc *p); /* a child's: revoked and kept; the bytes that did not come back */
void tree_kept_drop(int owner);
uint64_t tree_kept_bytes(int owner);

/* names.c (its own lock: names_forget and names_has_prefix take it) */
void names_forget(int owner);
bool names_has_prefix(const char *prefix);
void names_wait_published(uint64_t max_ns);
void names_start(void);

/* main.c: init's own faults end the system (docs/manifest.md, "When init faults"). */
enum { INIT_THREAD_MAIN = 1, INIT_THREAD_NAMES, INIT_THREAD_PROCMGR, INIT_THREAD_SUPERVISOR, INIT_THREAD_MAPPER };
uint64_t init_fault_cap(int which);
void init_fault_if_asked(int which);

/* procmgr.c */
void procmgr_start_threads(void);
void supervise_after_end(struct proc *p);

#endif
