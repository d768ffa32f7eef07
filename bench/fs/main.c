/*
 * File-system figures through the file server (/fs), started by
 * tools/bench.sh in a boot with a fresh ext2 disk: 4 KiB reads at random
 * and in sequence from a 1 MiB file, and 4 KiB writes in sequence, each
 * timed alone with the TSC.  The Linux guest runs the same on the same
 * image format (bench/linux/ipcbench.c, linux.fs_*).
 *
 * Data moves the way a program's bulk I/O does: through a page of this
 * program's memory shared with the server (fs.idl's window), one call per
 * operation.  fs_read_4k_msgs is the same random read through the
 * 896-byte read message, five calls.
 *
 * The TSC counts instructions under icount and cycles under KVM; this
 * program cannot tell which, so it prints unit=tsc and the runner, which
 * chose the mode, names the unit.
 */
#include "fs.h"
#include "resolver.h"
#include "stats.h"
#include "tls.h"

#include <stdio.h>
#include <string.h>

#define FILE_BYTES  (1u << 20)
#define OP_BYTES    4096u
#define WARMUP      200
#define SAMPLES     2000

#define WINDOW_VA   0x600000000ull      /* one page shared with the server */

static struct pith_client fs;
static uint64_t samples[SAMPLES];
static uint8_t buf[OP_BYTES];
static bool through_messages;
static uint32_t gen;             /* the generation of the file op works on (one at a time) */
static uint64_t epoch;           /* the server's (fs.idl): unused here, nothing restarts */

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

static void die(const char *what, long err)
{
    printf("fsbench: %s failed (error %#lx)\n", what, err);
    printf("fsbench: done\n");
    for (;;)
        pith_sleep_ns(1000000000000ull);
}

/* One 4 KiB read or write: through the window, or in messages of at most 896 bytes. */
static long op(bool write, uint32_t ino, uint64_t off)
{
    if (!through_messages) {
        uint32_t done = OP_BYTES;
        long err = write ? fs_write_window(&fs, ino, gen, off, OP_BYTES, 0, &epoch)
                         : fs_read_window(&fs, ino, gen, off, OP_BYTES, 0, &done);
        return err ? err : done == OP_BYTES ? 0 : -1;
    }
    for (uint32_t done = 0; done < OP_BYTES;) {
        uint32_t n = OP_BYTES - done < FS_READ_DATA_MAX ? OP_BYTES - done : FS_READ_DATA_MAX;
        uint64_t got = n;
        long err = write ? fs_write(&fs, ino, gen, off + done, buf + done, n, &epoch)
                         : fs_read(&fs, ino, gen, off + done, n, buf + done, &got);
        if (err || got != n)
            return err ? err : -1;
        done += n;
    }
    return 0;
}

static uint32_t make_file(const char *path, bool fill)
{
    uint32_t ino;
    long err = fs_create(&fs, path, 0644, &ino, &gen);
    if (err)
        die(path, err);
    for (uint64_t off = 0; fill && off < FILE_BYTES; off += OP_BYTES) {
        memset((void *)WINDOW_VA, (int)(off >> 12), OP_BYTES);
        if ((err = op(true, ino, off)))
            die("filling the file", err);
    }
    if ((err = fs_sync(&fs, &epoch)))
        die("sync", err);
    return ino;
}

static void figure(const char *name, bool write, uint32_t ino, bool random)
{
    uint64_t seq = 0, rng = 1;     /* the same LCG as the Linux side (bench/linux/ipcbench.c) */
    for (int i = 0; i < WARMUP + SAMPLES; i++) {
        uint64_t off;
        if (random) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            off = (rng >> 33) % (FILE_BYTES / OP_BYTES) * OP_BYTES;
        } else {
            off = seq;
            seq = (seq + OP_BYTES) % FILE_BYTES;
        }
        uint64_t t0 = tsc();
        long err = op(write, ino, off);
        uint64_t t1 = tsc();
        if (err)
            die(name, err);
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    bench_sort(samples, SAMPLES);
    printf("bench pith.%s median=%llu min=%llu max=%llu unit=tsc iters=%d\n", name,
           (unsigned long long)samples[SAMPLES / 2], (unsigned long long)samples[0],
           (unsigned long long)samples[SAMPLES - 1], SAMPLES);
}

int main(void)
{
    pith_client_init(&fs, "/fs", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    fs.retries = 20;
    uint64_t frame = pith_object_new(PITH_OBJ_FRAME, 0);
    long err = frame ? pith_map_page(frame, WINDOW_VA, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0) : PITH_E_NO_MEMORY;
    if (!err)
        err = fs_attach(&fs, 0, frame);
    if (err)
        die("sharing a window page", err);
    uint32_t dir, dir_gen;
    err = fs_mkdir(&fs, "/bench", 0755, &dir, &dir_gen);
    if (err)
        die("mkdir /bench", err);
    uint32_t data = make_file("/bench/data", true), data_gen = gen;
    figure("fs_read_4k_random", false, data, true);
    figure("fs_read_4k_seq", false, data, false);
    through_messages = true;
    gen = data_gen;
    figure("fs_read_4k_msgs", false, data, true);
    through_messages = false;
    uint32_t w = make_file("/bench/w", false);
    figure("fs_write_4k_seq", true, w, false);
    if ((err = fs_sync(&fs, &epoch)))
        die("the last sync", err);
    printf("fsbench: done\n");
    for (;;)
        pith_sleep_ns(1000000000000ull);
}
