/*
 * The network IPC server (docs/network.md): reads its configuration from
 * the file its command line names (the manifest's args=, default
 * /etc/netipc.conf) on /fs, and serves that node identity over UDP.
 */
#include "server.h"
#include "fs.h"
#include "process.h"
#include "resolver.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_FILE_MAX 4096

uint64_t wall_base_ns;
static struct engine engine;

uint64_t now_ns(void)
{
    return pith_clock_ns((const struct pith_time_page *)pith_bootinfo->time_page);
}

/* Key material from the CPU's random-number generator (RDRAND), which the server cannot do without. */
static bool have_rdrand(void)
{
    uint32_t a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return c & (1u << 30);
}

void random_fill(uint8_t *buf, size_t len)
{
    for (size_t at = 0; at < len; at += 8) {
        uint64_t v = 0;
        unsigned char ok = 0;
        /* RDRAND may fail for a moment when drained: try again (Intel suggests ten times). */
        for (int tries = 0; tries < 100 && !ok; tries++)
            __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
        if (!ok) {
            printf("netipc: RDRAND gives nothing: no key material, stopping\n");
            exit(1);
        }
        memcpy(buf + at, &v, len - at < 8 ? len - at : 8);
    }
}

/* The wall clock from the CMOS RTC (ports given by the manifest), read once. */
static long read_wall_clock(void)
{
    uint64_t seconds;
    long err = pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, PITH_SLOT_IO_PORTS, 0, 0);
    if (!err)
        err = pith_rtc_seconds(&seconds);
    pith_invoke4(pith_tls_self()->tcb, PITH_TCB_SET_IO_PORTS, 0, 0, 0, 0);
    if (!err)
        wall_base_ns = seconds * 1000000000ull - now_ns();
    return err;
}

static long read_file(const char *path, char *text, size_t max, size_t *len)
{
    struct pith_client c;
    pith_client_init(&c, "/fs", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    uint32_t ino, gen, mode, nlink, uid, gid, atime, mtime, ctime;
    uint64_t size, blocks, got = 0;
    long err = fs_lookup(&c, path, true, &ino, &gen, &mode, &nlink, &uid, &gid, &size, &atime, &mtime, &ctime,
                         &blocks);
    if (err)
        return err;
    if (size > max)
        return PITH_E_TOO_LONG;
    for (*len = 0; *len < size; *len += got) {
        uint64_t want = size - *len < FS_READ_DATA_MAX ? size - *len : FS_READ_DATA_MAX;
        if ((err = fs_read(&c, ino, gen, *len, (uint32_t)want, text + *len, &got)))
            return err;
        if (got == 0)
            break;
    }
    return 0;
}

int main(void)
{
    /* The command line is "netipc [PATH]". */
    const char *path = "/etc/netipc.conf";
    const char *space = strchr(pith_bootinfo->cmdline, ' ');
    if (space && space[1])
        path = space + 1;
    if (!have_rdrand()) {
        printf("netipc: this CPU has no RDRAND: no source of key material\n");
        return 1;
    }
    long err = read_wall_clock();
    if (err) {
        printf("netipc: cannot read the real-time clock (error %#lx; the manifest gives ports=0x70-0x71)\n", err);
        return 1;
    }
    static char text[CONF_FILE_MAX];
    size_t len;
    if ((err = read_file(path, text, sizeof text, &len))) {
        printf("netipc: cannot read %s (error %#lx)\n", path, err);
        return 1;
    }
    char why[128];
    int line = conf_parse(&engine.conf, text, len, why, sizeof why);
    if (line > 0) {
        printf("netipc: %s line %d: %s\n", path, line, why);
        return 1;
    }
    if (line < 0) {
        printf("netipc: %s: %s\n", path, why);
        return 1;
    }
    if (engine_start(&engine))
        return 1;
    for (;;)
        pith_sleep_ns(1000000000ull);
}
