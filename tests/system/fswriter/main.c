/*
 * Writes numbered files to /fs without end while the storage scenarios
 * kill the file server and the disk driver under it
 * (tests/system/fs.sh).  File n is /stress/d<n/100>/f<n>, holding the
 * line "fswriter <n>" LINES times; after its sync succeeds the program
 * logs "fswriter: synced <n>".  Every file it reported synced must be on
 * the disk afterwards, whole, however the servers died.
 *
 * A failure (the server died under a call, or is not back yet) is
 * retried on the same file after a pause: create may have happened
 * (exists) and truncate and write are idempotent, so the file ends right.
 * A file made and lost in the restart leaves us a stale handle: the
 * server refuses it (stale) and the next try makes the file again.
 */
#include "fs.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define LINES       200
#define TRIES       1000
#define PAUSE_NS    20000000ull

static struct pith_client fs;

static long make_dir(const char *path)
{
    uint32_t ino, gen;
    long err = fs_mkdir(&fs, path, 0755, &ino, &gen);
    return err == FS_E_EXISTS ? 0 : err;
}

static long write_file(unsigned n)
{
    char dir[32], path[48], line[32], text[FS_WRITE_DATA_MAX];
    snprintf(dir, sizeof dir, "/stress/d%u", n / 100);
    snprintf(path, sizeof path, "%s/f%u", dir, n);
    int len = snprintf(line, sizeof line, "fswriter %u\n", n);
    long err = make_dir("/stress");
    if (!err)
        err = make_dir(dir);
    uint32_t ino, gen;
    if (!err && (err = fs_create(&fs, path, 0644, &ino, &gen)) == FS_E_EXISTS) {
        uint32_t mode, nlink, uid, gid, at, mt, ct;
        uint64_t size, blocks;
        err = fs_lookup(&fs, path, false, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &at, &mt, &ct, &blocks);
    }
    /* Every write must have gone to the incarnation that syncs them (fs.idl's epoch). */
    uint64_t first = 0, ep = 0;
    if (!err)
        err = fs_truncate(&fs, ino, gen, 0, &first);
    /* Whole lines per message, so the file is the lines in order whatever the chunking. */
    uint64_t off = 0;
    for (int done = 0; !err && done < LINES;) {
        size_t used = 0;
        for (; done < LINES && used + (size_t)len <= sizeof text; done++, used += (size_t)len)
            memcpy(text + used, line, (size_t)len);
        err = fs_write(&fs, ino, gen, off, text, used, &ep);
        if (!err && ep != first)
            err = PITH_IDL_E_RESTARTED;
        off += used;
    }
    if (!err && !(err = fs_sync(&fs, &ep)) && ep != first)
        err = PITH_IDL_E_RESTARTED;     /* the writes went with the server that took them */
    return err;
}

int main(void)
{
    pith_client_init(&fs, "/fs", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    for (unsigned n = 0;; n++) {
        long err = 0;
        for (int t = 0; t < TRIES; t++) {
            if (!(err = write_file(n)))
                break;
            printf("fswriter: file %u: error %#lx; again\n", n, err);
            pith_sleep_ns(PAUSE_NS);
        }
        if (err) {
            printf("fswriter: file %u: gave up after %d tries (error %#lx)\n", n, TRIES, err);
            return 1;
        }
        printf("fswriter: synced %u\n", n);
    }
}
