/*
 * A library file system over an exokernel partition (docs/exokernel.md):
 * a flat store of named files, kept by the process itself in the sectors
 * the block driver bound to its capability (blk.idl's bind).  The driver
 * checks only that each request stays inside the partition; everything
 * else (the directory, allocation, names) is this library's.
 *
 * On the partition: sectors 0-7 (one page) are the directory, a header
 * and 63 entries; each file is one extent of whole sectors placed first
 * fit after it.  A write puts the new data in a new extent first and then
 * the directory, so an interrupted write leaves the old file whole.
 */
#ifndef LIB_EXOFS_H
#define LIB_EXOFS_H

#include <stdint.h>
#include "idl.h"

#define EXOFS_FILES     63
#define EXOFS_NAME      39              /* bytes of a name at most */
#define EXOFS_E_BASE    0x2000
enum {
    EXOFS_E_NOT_EXOFS = EXOFS_E_BASE + 1,   /* mount: no directory of ours on the partition */
    EXOFS_E_NO_FILE,                        /* no file by that name */
    EXOFS_E_NAME,                           /* empty, or longer than EXOFS_NAME */
    EXOFS_E_DIR_FULL,                       /* 63 files already */
    EXOFS_E_NO_SPACE,                       /* no free extent that long */
    EXOFS_E_TOO_BIG,                        /* longer than the window less a page, or than the reader's buffer */
};

struct exofs_entry {
    char name[EXOFS_NAME + 1];
    uint64_t start, sectors, size;          /* the extent (sectors) and the file's bytes */
};

struct exofs_dir {
    char magic[8];                          /* "EXOFS1" */
    uint64_t sectors;                       /* the partition's size when formatted */
    uint32_t files;
    uint8_t pad[44];
    struct exofs_entry e[EXOFS_FILES];
};

struct exofs {
    struct pith_client *blk;                /* a binding through the partition's capability */
    uint8_t *window;                        /* its attached window: page 0 the directory, then data */
    uint32_t window_pages;
    uint64_t sectors;                       /* the partition's, from info */
    struct exofs_dir dir;
};

/* A fresh, empty file system on the partition (its window attached). */
long exofs_format(struct exofs *fs, struct pith_client *blk, void *window, uint32_t window_pages);
/* The file system already there. */
long exofs_mount(struct exofs *fs, struct pith_client *blk, void *window, uint32_t window_pages);
/* Creates or replaces the file. */
long exofs_write(struct exofs *fs, const char *name, const void *data, uint64_t size);
/* Reads the file into buf (max bytes); *size its length. */
long exofs_read(struct exofs *fs, const char *name, void *buf, uint64_t max, uint64_t *size);
long exofs_remove(struct exofs *fs, const char *name);
/* Sectors not in any file nor the directory. */
uint64_t exofs_free(const struct exofs *fs);

#endif
