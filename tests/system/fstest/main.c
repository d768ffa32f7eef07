/*
 * The file protocol (servers/fs/fs.idl) through every message and the
 * errors each can give, against make run's disk (tests/system/fs.sh).
 * Prints "fstest: PASS|FAIL name" lines and "fstest: N passed, N failed".
 * Works under /fstest, which it makes; the host checks the image with
 * e2fsck afterwards.
 */
#include "fs.h"
#include "resolver.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct pith_client fs;
static uint64_t ep;              /* the epoch the last write-like call answered */
static int passed, failed;

static void check(bool ok, const char *name, const char *fmt, ...)
{
    char why[160] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (ok) {
        passed++;
        printf("fstest: PASS %s\n", name);
    } else {
        failed++;
        printf("fstest: FAIL %s: %s\n", name, why);
    }
}

/* Expect error want (0: success) from a call. */
#define EXPECT(name, call, want) do {                                           \
        long e_ = (call);                                                       \
        check(e_ == (long)(want), name, "got %#lx, wanted %#lx", e_, (long)(want)); \
    } while (0)

struct attrs {
    uint32_t ino, gen, mode, nlink, uid, gid, at, mt, ct;
    uint64_t size, blocks;
};

/* The generation of each inode number we were given (a handle is both). */
static uint32_t gens[16384];

static uint32_t G(uint32_t ino) { return ino < 16384 ? gens[ino] : 0; }

static long remember(long err, uint32_t ino, uint32_t gen)
{
    if (!err && ino < 16384)
        gens[ino] = gen;
    return err;
}

static long look(const char *path, bool follow, struct attrs *a)
{
    long err = fs_lookup(&fs, path, follow, &a->ino, &a->gen, &a->mode, &a->nlink, &a->uid, &a->gid, &a->size,
                         &a->at, &a->mt, &a->ct, &a->blocks);
    return remember(err, a->ino, a->gen);
}

static long make_file(const char *path, uint32_t mode, uint32_t *ino)
{
    uint32_t gen;
    long err = fs_create(&fs, path, mode, ino, &gen);
    return remember(err, *ino, gen);
}

static long make_dir(const char *path, uint32_t mode, uint32_t *ino)
{
    uint32_t gen;
    long err = fs_mkdir(&fs, path, mode, ino, &gen);
    return remember(err, *ino, gen);
}

/* Writes len bytes of a pattern that depends on the offset, in protocol-sized pieces. */
static uint8_t pattern(uint64_t off) { return (uint8_t)(off * 7 + off / 4096); }

static long write_pattern(uint32_t ino, uint64_t at, uint64_t len)
{
    uint8_t buf[FS_WRITE_DATA_MAX];
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < sizeof buf ? len - done : sizeof buf;
        for (uint64_t i = 0; i < n; i++)
            buf[i] = pattern(at + done + i);
        long err = fs_write(&fs, ino, G(ino), at + done, buf, n, &ep);
        if (err)
            return err;
        done += n;
    }
    return 0;
}

/* 0 if the file's bytes at..at+len hold the pattern; else the first bad offset + 1. */
static uint64_t read_pattern(uint32_t ino, uint64_t at, uint64_t len)
{
    uint8_t buf[FS_READ_DATA_MAX];
    for (uint64_t done = 0; done < len;) {
        uint64_t n;
        uint32_t want = (uint32_t)(len - done < sizeof buf ? len - done : sizeof buf);
        if (fs_read(&fs, ino, G(ino), at + done, want, buf, &n) || n != want)
            return at + done + 1;
        for (uint64_t i = 0; i < n; i++)
            if (buf[i] != pattern(at + done + i))
                return at + done + i + 1;
        done += n;
    }
    return 0;
}

static void files(void)
{
    struct attrs a;
    uint32_t ino, dir;
    EXPECT("mkdir_work_dir", make_dir("/fstest", 0755, &dir), 0);
    EXPECT("create_file", make_file("/fstest/a", 0640, &ino), 0);
    EXPECT("create_existing_refused", make_file("/fstest/a", 0640, &ino), FS_E_EXISTS);
    EXPECT("lookup_new_file", look("/fstest/a", true, &a), 0);
    check(a.ino == ino && (a.mode & 0170000) == 0100000 && (a.mode & 07777) == 0640 && a.size == 0 && a.nlink == 1,
          "new_file_attributes", "ino %u mode %o size %llu nlink %u", a.ino, a.mode, (unsigned long long)a.size,
          a.nlink);
    check(a.mt > 1600000000u, "timestamps_from_the_clock", "mtime %u", a.mt);

    /* 300 KiB: past the direct blocks and the first indirect block of a 1 KiB-block volume. */
    uint64_t big = 300 * 1024;
    EXPECT("write_300k", write_pattern(ino, 0, big), 0);
    check(read_pattern(ino, 0, big) == 0, "read_back_300k", "differs");
    EXPECT("stat_after_write", fs_stat(&fs, ino, G(ino), &a.mode, &a.nlink, &a.uid, &a.gid, &a.size, &a.at, &a.mt, &a.ct,
                                       &a.blocks), 0);
    check(a.size == big && a.blocks >= big / 512, "size_and_blocks_after_write", "size %llu blocks %llu",
          (unsigned long long)a.size, (unsigned long long)a.blocks);

    uint8_t buf[FS_READ_DATA_MAX];
    uint64_t n = 99;
    EXPECT("read_at_end_is_empty", fs_read(&fs, ino, G(ino), big, 100, buf, &n), 0);
    check(n == 0, "read_at_end_gives_nothing", "%llu bytes", (unsigned long long)n);
    EXPECT("read_past_end_short", fs_read(&fs, ino, G(ino), big - 10, 100, buf, &n), 0);
    check(n == 10, "read_across_end_short", "%llu bytes", (unsigned long long)n);
    EXPECT("read_too_long_refused", fs_read(&fs, ino, G(ino), 0, FS_READ_DATA_MAX + 1, buf, &n), FS_E_INVALID);

    /* A hole: write 1 MiB further on; the gap reads as zeros. */
    EXPECT("sparse_write", write_pattern(ino, 2u << 20, 100), 0);
    EXPECT("read_hole", fs_read(&fs, ino, G(ino), big + 4096, 64, buf, &n), 0);
    bool zero = n == 64;
    for (uint64_t i = 0; i < n; i++)
        zero &= buf[i] == 0;
    check(zero, "hole_reads_as_zeros", "%llu bytes", (unsigned long long)n);

    EXPECT("truncate_shrinks", fs_truncate(&fs, ino, G(ino), 5000, &ep), 0);
    EXPECT("stat_after_truncate", look("/fstest/a", true, &a), 0);
    check(a.size == 5000 && read_pattern(ino, 0, 5000) == 0, "truncate_keeps_the_head", "size %llu",
          (unsigned long long)a.size);
    EXPECT("truncate_grows", fs_truncate(&fs, ino, G(ino), 9000, &ep), 0);
    EXPECT("read_grown_tail", fs_read(&fs, ino, G(ino), 5000, 64, buf, &n), 0);
    zero = n == 64;
    for (uint64_t i = 0; i < n; i++)
        zero &= buf[i] == 0;
    check(zero, "grown_tail_reads_as_zeros", "");

    EXPECT("read_a_directory_refused", fs_read(&fs, dir, G(dir), 0, 10, buf, &n), FS_E_IS_DIR);
    EXPECT("write_a_directory_refused", fs_write(&fs, dir, G(dir), 0, "x", 1, &ep), FS_E_IS_DIR);
    EXPECT("truncate_a_directory_refused", fs_truncate(&fs, dir, G(dir), 0, &ep), FS_E_IS_DIR);
    EXPECT("stat_inode_zero_refused", fs_stat(&fs, 0, G(0), &a.mode, &a.nlink, &a.uid, &a.gid, &a.size, &a.at, &a.mt,
                                              &a.ct, &a.blocks), FS_E_INVALID);
    EXPECT("stat_inode_out_of_range", fs_stat(&fs, 0xfffffff0u, G(0xfffffff0u), &a.mode, &a.nlink, &a.uid, &a.gid, &a.size, &a.at,
                                              &a.mt, &a.ct, &a.blocks), FS_E_INVALID);
}

static void names(void)
{
    struct attrs a;
    uint32_t ino;
    char path[FS_LOOKUP_PATH_MAX + 1];
    EXPECT("lookup_missing", look("/fstest/none", true, &a), FS_E_NOT_FOUND);
    EXPECT("lookup_relative_refused", look("fstest/a", true, &a), FS_E_INVALID);
    EXPECT("lookup_through_a_file", look("/fstest/a/b", true, &a), FS_E_NOT_DIR);
    memset(path, 'n', 300);
    memcpy(path, "/fstest/", 8);
    path[300] = 0;
    EXPECT("create_name_too_long", make_file(path, 0644, &ino), FS_E_NAME_TOO_LONG);
    EXPECT("create_in_missing_dir", make_file("/fstest/no/a", 0644, &ino), FS_E_NOT_FOUND);
    EXPECT("create_dot_refused", make_file("/fstest/.", 0644, &ino), FS_E_INVALID);
    EXPECT("create_root_refused", make_file("/", 0644, &ino), FS_E_INVALID);
    EXPECT("mkdir_sub", make_dir("/fstest/d", 0700, &ino), 0);
    EXPECT("mkdir_nested", make_dir("/fstest/d/e", 0755, &ino), 0);
    EXPECT("lookup_dir", look("/fstest/d", true, &a), 0);
    check((a.mode & 0170000) == 0040000 && (a.mode & 0777) == 0700 && a.nlink == 3, "dir_attributes",
          "mode %o nlink %u", a.mode, a.nlink);
    EXPECT("rmdir_not_empty", fs_rmdir(&fs, "/fstest/d"), FS_E_NOT_EMPTY);
    EXPECT("rmdir_a_file_refused", fs_rmdir(&fs, "/fstest/a"), FS_E_NOT_DIR);
    EXPECT("unlink_a_dir_refused", fs_unlink(&fs, "/fstest/d"), FS_E_IS_DIR);
    EXPECT("unlink_missing", fs_unlink(&fs, "/fstest/none"), FS_E_NOT_FOUND);

    /* readdir: ".", "..", and what we made, then the end. */
    uint32_t dir;
    EXPECT("lookup_work_dir", look("/fstest", true, &a), 0);
    dir = a.ino;
    int seen = 0, entries = 0;
    uint64_t cookie = 0;
    for (int i = 0; i < 20; i++) {
        uint64_t next;
        uint32_t entry;
        uint8_t type;
        char name[FS_READDIR_NAME_MAX + 1];
        if (fs_readdir(&fs, dir, G(dir), cookie, &next, &entry, &type, name) || !entry)
            break;
        entries++;
        seen |= (!strcmp(name, "a") && type == 1) | (!strcmp(name, "d") && type == 2) << 1 |
                (!strcmp(name, ".")) << 2 | (!strcmp(name, "..")) << 3;
        cookie = next;
    }
    check(seen == 15 && entries == 4, "readdir_lists_every_entry", "seen %#x, %d entries", seen, entries);
    uint64_t next;
    uint32_t entry;
    uint8_t type;
    char name[FS_READDIR_NAME_MAX + 1];
    EXPECT("readdir_inode_zero_refused", fs_readdir(&fs, 0, G(0), 0, &next, &entry, &type, name), FS_E_INVALID);
    struct attrs f;
    look("/fstest/a", true, &f);
    EXPECT("readdir_of_a_file_refused", fs_readdir(&fs, f.ino, G(f.ino), 0, &next, &entry, &type, name), FS_E_NOT_DIR);

    /* rename: within, across, replacing, into itself. */
    EXPECT("rename_file", fs_rename(&fs, "/fstest/a", "/fstest/b"), 0);
    EXPECT("old_name_gone", look("/fstest/a", true, &a), FS_E_NOT_FOUND);
    EXPECT("rename_across_dirs", fs_rename(&fs, "/fstest/b", "/fstest/d/b"), 0);
    EXPECT("create_c", make_file("/fstest/c", 0644, &ino), 0);
    EXPECT("rename_replaces_a_file", fs_rename(&fs, "/fstest/c", "/fstest/d/b"), 0);
    EXPECT("replaced_is_the_new", look("/fstest/d/b", true, &a), 0);
    check(a.ino == ino && a.size == 0, "rename_target_is_the_source", "ino %u size %llu", a.ino,
          (unsigned long long)a.size);
    EXPECT("rename_dir_into_itself", fs_rename(&fs, "/fstest/d", "/fstest/d/e/x"), FS_E_INVALID);
    EXPECT("rename_missing", fs_rename(&fs, "/fstest/none", "/fstest/x"), FS_E_NOT_FOUND);
    EXPECT("rename_dir_over_nonempty", make_dir("/fstest/f", 0755, &ino), 0);
    EXPECT("rename_dir_over_nonempty_refused", fs_rename(&fs, "/fstest/f", "/fstest/d"), FS_E_NOT_EMPTY);
    EXPECT("rename_dir_over_empty", fs_rename(&fs, "/fstest/f", "/fstest/d/e"), 0);
    EXPECT("moved_dir_parent_updated", look("/fstest/d/e/..", true, &a), 0);
    struct attrs d;
    look("/fstest/d", true, &d);
    check(a.ino == d.ino, "dotdot_follows_the_move", "'..' is %u, /fstest/d is %u", a.ino, d.ino);
}

static void links_and_attributes(void)
{
    struct attrs a;
    char target[FS_READLINK_TARGET_MAX + 1];
    EXPECT("symlink_short", fs_symlink(&fs, "/fstest/s", "d/b"), 0);
    EXPECT("readlink_short", fs_readlink(&fs, "/fstest/s", target), 0);
    check(!strcmp(target, "d/b"), "readlink_gives_the_target", "'%s'", target);
    EXPECT("lookup_follows_symlink", look("/fstest/s", true, &a), 0);
    check((a.mode & 0170000) == 0100000, "followed_to_a_file", "mode %o", a.mode);
    EXPECT("lookup_nofollow", look("/fstest/s", false, &a), 0);
    check((a.mode & 0170000) == 0120000 && a.size == 3, "nofollow_sees_the_link", "mode %o", a.mode);
    char longer[300];
    memset(longer, 'x', sizeof longer - 1);
    longer[0] = '/';
    longer[sizeof longer - 1] = 0;
    EXPECT("symlink_long", fs_symlink(&fs, "/fstest/l", longer), 0);
    EXPECT("readlink_long", fs_readlink(&fs, "/fstest/l", target), 0);
    check(!strcmp(target, longer), "long_target_whole", "%zu bytes", strlen(target));
    EXPECT("symlink_exists", fs_symlink(&fs, "/fstest/s", "x"), FS_E_EXISTS);
    EXPECT("readlink_of_a_file", fs_readlink(&fs, "/fstest/d/b", target), FS_E_INVALID);
    EXPECT("loop_a", fs_symlink(&fs, "/fstest/la", "/fstest/lb"), 0);
    EXPECT("loop_b", fs_symlink(&fs, "/fstest/lb", "/fstest/la"), 0);
    EXPECT("symlink_loop_refused", look("/fstest/la", true, &a), FS_E_LOOP);

    EXPECT("chmod", fs_chmod(&fs, "/fstest/d/b", 0600, &ep), 0);
    uint64_t chmod_epoch = ep;
    EXPECT("chown", fs_chown(&fs, "/fstest/d/b", 1000, 100, &ep), 0);
    EXPECT("utimes", fs_utimes(&fs, "/fstest/d/b", 1000000000u, 1200000000u, &ep), 0);
    EXPECT("stat_changed", look("/fstest/d/b", true, &a), 0);
    check((a.mode & 07777) == 0600 && a.uid == 1000 && a.gid == 100 && a.at == 1000000000u && a.mt == 1200000000u,
          "attributes_stored", "mode %o uid %u gid %u atime %u mtime %u", a.mode, a.uid, a.gid, a.at, a.mt);
    uint64_t utimes_epoch = ep;
    EXPECT("sync_epoch", fs_sync(&fs, &ep), 0);
    check(ep != 0 && ep == chmod_epoch && ep == utimes_epoch, "one_epoch_while_the_server_lives",
          "chmod %llu utimes %llu sync %llu", (unsigned long long)chmod_epoch, (unsigned long long)utimes_epoch,
          (unsigned long long)ep);
    EXPECT("chown_too_big_refused", fs_chown(&fs, "/fstest/d/b", 70000, 0, &ep), FS_E_INVALID);
    EXPECT("chmod_missing", fs_chmod(&fs, "/fstest/none", 0600, &ep), FS_E_NOT_FOUND);

    /* setattr by handle: only the attributes named change; a symbolic link itself can be changed. */
    EXPECT("setattr_lookup", look("/fstest/d/b", true, &a), 0);
    EXPECT("setattr_mode_mtime", fs_setattr(&fs, a.ino, a.gen, 1 | 16, 0741, 0, 0, 0, 1300000000u, &ep), 0);
    struct attrs b;
    EXPECT("setattr_stat", look("/fstest/d/b", true, &b), 0);
    check((b.mode & 07777) == 0741 && b.uid == 1000 && b.gid == 100 && b.at == 1000000000u && b.mt == 1300000000u,
          "setattr_changes_only_what_it_names", "mode %o uid %u gid %u atime %u mtime %u", b.mode, b.uid, b.gid, b.at,
          b.mt);
    EXPECT("setattr_gid_too_big_refused", fs_setattr(&fs, a.ino, a.gen, 4, 0, 0, 70000, 0, 0, &ep), FS_E_INVALID);
    EXPECT("setattr_bad_bits_refused", fs_setattr(&fs, a.ino, a.gen, 64, 0, 0, 0, 0, 0, &ep), FS_E_INVALID);
    EXPECT("setattr_stale_refused", fs_setattr(&fs, a.ino, a.gen + 1, 1, 0600, 0, 0, 0, 0, &ep), FS_E_STALE);
    EXPECT("setattr_link_lookup", look("/fstest/s", false, &b), 0);
    EXPECT("setattr_link_itself", fs_setattr(&fs, b.ino, b.gen, 2 | 4, 0, 7, 8, 0, 0, &ep), 0);
    EXPECT("setattr_link_stat", look("/fstest/s", false, &b), 0);
    EXPECT("setattr_target_stat", look("/fstest/d/b", true, &a), 0);
    check(b.uid == 7 && b.gid == 8 && a.uid == 1000, "setattr_reaches_the_link_not_its_target",
          "link %u:%u target %u", b.uid, b.gid, a.uid);

    /* Hard links: one inode, two names, its count going up and down. */
    EXPECT("link", fs_link(&fs, "/fstest/d/b", "/fstest/hard", false), 0);
    EXPECT("link_stat", look("/fstest/hard", false, &b), 0);
    check(b.ino == a.ino && b.nlink == 2, "link_names_the_same_inode", "ino %u/%u nlink %u", b.ino, a.ino, b.nlink);
    EXPECT("link_exists_refused", fs_link(&fs, "/fstest/d/b", "/fstest/hard", false), FS_E_EXISTS);
    EXPECT("link_directory_refused", fs_link(&fs, "/fstest/d", "/fstest/dl", false), FS_E_NOT_PERMITTED);
    EXPECT("link_missing_refused", fs_link(&fs, "/fstest/none", "/fstest/x", false), FS_E_NOT_FOUND);
    EXPECT("link_relative_refused", fs_link(&fs, "fstest/d/b", "/fstest/x", false), FS_E_INVALID);
    EXPECT("link_to_symlink_itself", fs_link(&fs, "/fstest/s", "/fstest/s2", false), 0);
    EXPECT("link_follow", fs_link(&fs, "/fstest/s", "/fstest/s3", true), 0);
    EXPECT("link_symlink_stat", look("/fstest/s2", false, &b), 0);
    check((b.mode & 0170000) == 0120000, "link_without_follow_names_the_link", "mode %o", b.mode);
    EXPECT("link_follow_stat", look("/fstest/s3", false, &b), 0);
    check(b.ino == a.ino && b.nlink == 3, "link_with_follow_names_the_target", "ino %u nlink %u", b.ino, b.nlink);
    EXPECT("unlink_hard", fs_unlink(&fs, "/fstest/hard"), 0);
    EXPECT("unlink_s2", fs_unlink(&fs, "/fstest/s2"), 0);
    EXPECT("unlink_s3", fs_unlink(&fs, "/fstest/s3"), 0);
    EXPECT("link_count_back", look("/fstest/d/b", true, &b), 0);
    check(b.nlink == 1, "link_count_back_to_one", "nlink %u", b.nlink);
}

#define WINDOW_VA 0x600000000ull

/* The window: pages of our memory the server reads and writes file data through. */
static void window(void)
{
    struct attrs a;
    uint32_t ino, done = 0;
    EXPECT("window_file", make_file("/fstest/w", 0644, &ino), 0);
    EXPECT("read_window_before_attach", fs_read_window(&fs, ino, G(ino), 0, 4096, 0, &done), FS_E_NO_WINDOW);
    uint64_t frames[3];
    for (int i = 0; i < 3; i++) {
        frames[i] = pith_object_new(PITH_OBJ_FRAME, 0);
        pith_map_page(frames[i], WINDOW_VA + (uint64_t)i * 4096, PITH_RIGHT_READ | PITH_RIGHT_WRITE, 0);
    }
    EXPECT("attach_page_0", fs_attach(&fs, 0, frames[0]), 0);
    EXPECT("attach_page_1", fs_attach(&fs, 1, frames[1]), 0);
    EXPECT("attach_past_the_window", fs_attach(&fs, 16, frames[2]), FS_E_BAD_WINDOW);
    uint64_t ro = pith_slot_alloc();
    pith_invoke4(PITH_SLOT_CSPACE, PITH_CNODE_COPY, ro, frames[2], PITH_RIGHT_READ, 0);
    EXPECT("attach_read_only_frame", fs_attach(&fs, 2, ro), FS_E_BAD_WINDOW);
    uint64_t ep = pith_object_new(PITH_OBJ_ENDPOINT, 0);
    EXPECT("attach_not_a_frame", fs_attach(&fs, 2, ep), FS_E_BAD_WINDOW);

    uint8_t *w = (uint8_t *)WINDOW_VA;
    for (int i = 0; i < 8192; i++)
        w[i] = (uint8_t)(i * 13 + 5);
    EXPECT("write_window_two_pages", fs_write_window(&fs, ino, G(ino), 1000, 8192, 0, &ep), 0);
    EXPECT("write_window_unattached_page", fs_write_window(&fs, ino, G(ino), 0, 4096, 2, &ep), FS_E_NO_WINDOW);
    EXPECT("write_window_too_long", fs_write_window(&fs, ino, G(ino), 0, 4097, 15, &ep), FS_E_BAD_WINDOW);
    memset(w, 0, 8192);
    EXPECT("read_window_back", fs_read_window(&fs, ino, G(ino), 1000, 8192, 0, &done), 0);
    bool same = done == 8192;
    for (int i = 0; i < 8192 && same; i++)
        same = w[i] == (uint8_t)(i * 13 + 5);
    check(same, "window_data_round_trip", "%u bytes", done);
    EXPECT("read_window_short_at_end", fs_read_window(&fs, ino, G(ino), 9000, 4096, 1, &done), 0);
    check(done == 192, "read_window_stops_at_end", "%u bytes", done);
    /* What went through the window is what the message path sees. */
    uint8_t buf[64];
    uint64_t n;
    EXPECT("read_message_after_window", fs_read(&fs, ino, G(ino), 1000, 64, buf, &n), 0);
    check(n == 64 && buf[0] == 5 && buf[63] == (uint8_t)(63 * 13 + 5), "window_and_messages_agree", "");
    EXPECT("window_file_size", look("/fstest/w", true, &a), 0);
    check(a.size == 9192, "window_write_extends", "size %llu", (unsigned long long)a.size);
    EXPECT("rm_window_file", fs_unlink(&fs, "/fstest/w"), 0);

    /* Handles: a removed file's is stale, and so is one whose inode number went to a new file. */
    uint32_t old_gen = G(ino), again;
    EXPECT("removed_file_handle_stale", fs_read(&fs, ino, old_gen, 0, 10, buf, &n), FS_E_STALE);
    EXPECT("reuse_inode", make_file("/fstest/w2", 0644, &again), 0);
    check(again != ino || G(again) != old_gen, "new_file_new_generation", "ino %u gen %u", again, G(again));
    EXPECT("old_handle_stale_after_reuse", fs_read(&fs, ino, old_gen, 0, 10, buf, &n),
           FS_E_STALE);
    EXPECT("wrong_generation_stale", fs_stat(&fs, again, G(again) + 1, &a.mode, &a.nlink, &a.uid, &a.gid, &a.size,
                                             &a.at, &a.mt, &a.ct, &a.blocks), FS_E_STALE);
    EXPECT("right_generation_works", fs_read(&fs, again, G(again), 0, 10, buf, &n), 0);
    EXPECT("rm_w2", fs_unlink(&fs, "/fstest/w2"), 0);
}

static void volume(void)
{
    bool mounted, ro;
    uint32_t bs;
    uint64_t blocks, bfree, inodes, ifree, bfree2, ifree2;
    char why[FS_INFO_WHY_MAX + 1];
    EXPECT("info", fs_info(&fs, &mounted, &ro, &bs, &blocks, &bfree, &inodes, &ifree, why), 0);
    check(mounted && !ro && bs == 1024 && blocks == 32768 && bfree < blocks && ifree < inodes, "info_describes_the_disk",
          "mounted %d ro %d bs %u blocks %llu", mounted, ro, bs, (unsigned long long)blocks);
    /* Removing everything we made gives every block and inode back. */
    EXPECT("rm_b", fs_unlink(&fs, "/fstest/d/b"), 0);
    EXPECT("rm_s", fs_unlink(&fs, "/fstest/s"), 0);
    EXPECT("rm_l", fs_unlink(&fs, "/fstest/l"), 0);
    EXPECT("rm_la", fs_unlink(&fs, "/fstest/la"), 0);
    EXPECT("rm_lb", fs_unlink(&fs, "/fstest/lb"), 0);
    EXPECT("rmdir_e", fs_rmdir(&fs, "/fstest/d/e"), 0);
    EXPECT("rmdir_d", fs_rmdir(&fs, "/fstest/d"), 0);
    EXPECT("rmdir_work_dir", fs_rmdir(&fs, "/fstest"), 0);
    EXPECT("sync", fs_sync(&fs, &ep), 0);
    EXPECT("info_after", fs_info(&fs, &mounted, &ro, &bs, &blocks, &bfree2, &inodes, &ifree2, why), 0);
    check(bfree2 > bfree && ifree2 > ifree, "space_comes_back", "free blocks %llu -> %llu, inodes %llu -> %llu",
          (unsigned long long)bfree, (unsigned long long)bfree2, (unsigned long long)ifree,
          (unsigned long long)ifree2);
}

int main(void)
{
    pith_client_init(&fs, "/fs", &names_resolver, pith_slot_alloc(), pith_tls_self()->ipc_buffer);
    fs.retries = 20;
    files();
    names();
    links_and_attributes();
    window();
    volume();
    printf("fstest: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
