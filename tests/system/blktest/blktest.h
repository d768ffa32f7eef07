/*
 * The block protocol's in-system test (tests/system/storage.sh boots it
 * with a disk): main.c checks /dev/blk0 through every message and error,
 * pci.c the PCI server's refusals, load.c threads in flight at once and
 * the driver killed under them.  One line per check on the kernel log,
 * "blktest: PASS name" or "blktest: FAIL name: why".
 */
#ifndef BLKTEST_H
#define BLKTEST_H

#include "blk.h"
#include "idl.h"

#include <stdbool.h>
#include <stdint.h>

#define WINDOW_VA 0x700000000ull
#define PAGES 64

extern uint64_t frames[PAGES];          /* our window's frames, mapped at WINDOW_VA */
extern uint64_t disk_sectors;
extern const char *me;                  /* the program's name: blktest or blktest-b */

void check(bool ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct pith_client *blk_binding(void);  /* the calling thread's binding to /dev/blk0 */
long attach_pages(struct pith_client *c, uint32_t first, uint32_t n);
/* Fills n sectors from window page `page` with a pattern of (sector, seed); checks one read back. */
void pattern_fill(uint32_t page, uint64_t sector, uint32_t n, uint32_t seed);
bool pattern_ok(uint32_t page, uint64_t sector, uint32_t n, uint32_t seed);
/* Reads or writes, attaching the pages again (and retrying) when the driver restarted. */
long io_retry(struct pith_client *c, bool write, uint64_t sector, uint32_t count, uint32_t page, int *reattached);

void pci_checks(void);
void partition_checks(struct pith_client *whole_disk);   /* part.c */
void paged_checks(uint64_t partition);                   /* paged.c: exopage with its store in the partition */
void load_checks(void);
void kill_checks(void);

#endif
