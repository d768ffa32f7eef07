/*
 * /proc as busybox ps reads it: /proc/self (a link to the pid),
 * /proc/PID/stat, cmdline, status and exe, the directory of processes, a
 * child's entry while it runs and as a zombie; and the errors EISDIR,
 * ENOENT, ENOTDIR, EINVAL.  On the host, /proc is mounted in the chroot.
 */
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char text[4096];

static long slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long len = 0;
    for (long n; (n = read(fd, text + len, sizeof text - 1 - (size_t)len)) > 0;)   /* in small reads too */
        len += n;
    text[len] = 0;
    close(fd);
    return len;
}

/* The fields of a stat line after the command's closing parenthesis. */
static void stat_of(pid_t pid, char *state, int *ppid, int *pgrp, int *sid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    *state = '?';
    if (slurp(path) < 0)
        return;
    char *close_paren = strrchr(text, ')');
    if (close_paren)
        sscanf(close_paren + 2, "%c %d %d %d", state, ppid, pgrp, sid);
}

static void nap(long ms)
{
    struct timespec d = { 0, ms * 1000000 };
    nanosleep(&d, NULL);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char link[256] = { 0 }, want[32];
    snprintf(want, sizeof want, "%d", getpid());
    readlink("/proc/self", link, sizeof link - 1);
    printf("/proc/self names my pid: %s\n", !strcmp(link, want) ? "yes" : "no");
    memset(link, 0, sizeof link);
    readlink("/proc/self/exe", link, sizeof link - 1);
    printf("/proc/self/exe: %s\n", link);

    slurp("/proc/self/stat");
    char comm[32] = { 0 };
    sscanf(text, "%*d (%31[^)])", comm);
    printf("stat's pid is mine: %s, command %s\n", atoi(text) == getpid() ? "yes" : "no", comm);
    char state;
    int ppid = 0, pgrp = 0, sid = 0;
    stat_of(getpid(), &state, &ppid, &pgrp, &sid);
    printf("state %c, ppid %s, group %s, session %s\n", state, ppid == getppid() ? "ok" : "wrong",
           pgrp == getpgrp() ? "ok" : "wrong", sid == getsid(0) ? "ok" : "wrong");

    long len = slurp("/proc/self/cmdline");
    long expect = 0;
    for (int i = 0; i < argc; i++)
        expect += (long)strlen(argv[i]) + 1;
    printf("cmdline: %ld bytes, as argv: %s, first %s\n", len, len == expect ? "yes" : "no", text);

    slurp("/proc/self/status");
    char name[32] = { 0 };
    int spid = 0, sppid = 0;
    sscanf(strstr(text, "Name:"), "Name:\t%31s", name);
    sscanf(strstr(text, "\nPid:"), "\nPid:\t%d", &spid);
    sscanf(strstr(text, "\nPPid:"), "\nPPid:\t%d", &sppid);
    printf("status: name %s, pid %s, ppid %s, uid line %s\n", name, spid == getpid() ? "ok" : "wrong",
           sppid == getppid() ? "ok" : "wrong", strstr(text, "\nUid:\t0\t0\t0\t0\n") ? "root" : "other");

    int fd = open("/proc/self/exe", O_RDONLY);
    char magic[4] = { 0 };
    read(fd, magic, 4);
    close(fd);
    printf("/proc/self/exe opens the program: %s\n", !memcmp(magic, "\177ELF", 4) ? "yes" : "no");

    struct stat st;
    stat("/proc/self", &st);
    printf("/proc/self: directory %s\n", S_ISDIR(st.st_mode) ? "yes" : "no");
    lstat("/proc/self", &st);
    printf("lstat /proc/self: link %s\n", S_ISLNK(st.st_mode) ? "yes" : "no");
    stat("/proc/self/stat", &st);
    printf("/proc/self/stat: regular %s\n", S_ISREG(st.st_mode) ? "yes" : "no");

    pid_t c = fork();
    if (c == 0) {
        nap(200);
        _exit(0);
    }
    bool mine = false, self = false, child = false;
    char cpid[32];
    snprintf(cpid, sizeof cpid, "%d", c);
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        mine |= !strcmp(e->d_name, want);
        child |= !strcmp(e->d_name, cpid);
        self |= !strcmp(e->d_name, "self");
    }
    if (d)
        closedir(d);
    printf("/proc lists me %s, my child %s, self %s\n", mine ? "yes" : "no", child ? "yes" : "no", self ? "yes" : "no");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", c);
    len = slurp(path);
    printf("child's cmdline as mine: %s\n", len == expect ? "yes" : "no");
    stat_of(c, &state, &ppid, &pgrp, &sid);
    printf("child: state %c, parent me %s\n", state == 'R' ? 'S' : state, ppid == getpid() ? "yes" : "no");
    nap(600);
    stat_of(c, &state, &ppid, &pgrp, &sid);
    printf("child ended, not waited for: state %c, cmdline %ld bytes\n", state, slurp(path));
    waitpid(c, NULL, 0);
    stat_of(c, &state, &ppid, &pgrp, &sid);
    printf("reaped: entry %s\n", state == '?' ? "gone" : "there");

    int wfd = open("/proc/self/stat", O_WRONLY);
    printf("open /proc/self/stat for writing: %s\n", wfd >= 0 ? "ok" : errname(errno));
    CHECK("write to it", write(wfd, "x", 1));
    close(wfd);
    CHECK("open /proc/self for writing", open("/proc/self", O_WRONLY));
    CHECK("open /proc/self/stat as a directory", open("/proc/self/stat", O_RDONLY | O_DIRECTORY));
    CHECK("open /proc/self/none", open("/proc/self/none", O_RDONLY));
    CHECK("open /proc/999999/stat", open("/proc/999999/stat", O_RDONLY));
    CHECK("readlink /proc/self/stat", readlink("/proc/self/stat", link, sizeof link));
    CHECK("stat /proc/999999", stat("/proc/999999", &st));
    fd = open("/proc/self/stat", O_RDONLY);
    char dents[512];
    CHECK("getdents64 on /proc/self/stat", syscall(217, fd, dents, sizeof dents));
    close(fd);
    return 0;
}
