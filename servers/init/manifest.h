/*
 * The boot manifest (docs/manifest.md): which programs init starts, with
 * what, in which order.  The parser is plain C with no system calls, so
 * the host tests build it too.
 */
#ifndef INIT_MANIFEST_H
#define INIT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX      16
#define MANIFEST_NAME_MAX 31
#define MANIFEST_PREFIX_MAX 63
#define MANIFEST_NEEDS_MAX 4
#define MANIFEST_MODULE_MAX 47
#define MANIFEST_PAGES_MAX 512          /* pages= (the memory manager's pool is 992 pages) */
#define MANIFEST_CNODE_MIN 12           /* cnode= (bits): 4096 slots, the default */
#define MANIFEST_CNODE_MAX 16           /* 65,536 slots, 4 MiB of the program's quota */
#define MANIFEST_ARGS_MAX  127          /* args= (the program's command line is NAME ARGS) */

enum restart_policy { RESTART_ALWAYS, RESTART_NEVER };

struct manifest_entry {
    char name[MANIFEST_NAME_MAX + 1];
    char module[MANIFEST_MODULE_MAX + 1];   /* boot-module name; default NAME.elf */
    unsigned priority;
    unsigned memory_mib;                /* a power of two: the process's whole quota */
    bool has_ports;
    uint16_t port_first, port_last;
    int irq;                            /* ISA IRQ, or -1 */
    char prefix[MANIFEST_PREFIX_MAX + 1];   /* where it may register names; "" none */
    bool procs;                         /* gets the process manager */
    bool pci;                           /* gets device memory, IRQ control, PCI ports (at most one program) */
    bool lazy;                          /* its image mapped lazily through the memory manager */
    unsigned pages;                     /* anonymous memory paged by the memory manager (0: none) */
    unsigned cnode_bits;                /* its CNode holds 2^cnode_bits slots (0: init's default, 12) */
    char args[MANIFEST_ARGS_MAX + 1];   /* after its name on its command line; "" none */
    enum restart_policy restart;
    unsigned limit;                     /* restarts before giving up */
    int needs[MANIFEST_NEEDS_MAX];      /* indexes of entries started first */
    int nneeds;
    int line;
};

struct manifest {
    struct manifest_entry e[MANIFEST_MAX];
    int count;
    int order[MANIFEST_MAX];            /* start order: each after what it needs */
    /* The first problem found: its line (0: the file as a whole) and why. */
    int error_line;
    char error[96];
};

/* Parses text (not NUL-terminated); 0 on success, -1 with error_line and error set. */
int manifest_parse(const char *text, size_t len, struct manifest *m);

/* 1 if s is a good program name: a-z, 0-9, '-', '_', '.', 1 to MANIFEST_NAME_MAX bytes. */
bool manifest_name_valid(const char *s);

/* 1 if name may be registered by an entry with this prefix ("/a" allows "/a" and "/a/..."). */
bool manifest_prefix_allows(const char *prefix, const char *name);

#endif
