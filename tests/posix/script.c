/*
 * execve of "#!" scripts: busybox sh as the interpreter (with "sh" as its
 * argument), this program as an interpreter (SCRIPT_TEST=interp in the
 * environment: it prints the argv it got, its /proc/self/exe and the name
 * /proc/self/stat gives it), an argument with blanks inside and after it,
 * a script whose interpreter is a script, a relative name, and the errors:
 * a script that is its own interpreter (ELOOP), a missing interpreter
 * (ENOENT), none named (ENOEXEC), a script or an interpreter without an
 * execute bit (EACCES).  Then rename over a file still open: its
 * descriptors read and write the replaced file, the name the new one.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR_ "/tmp/script-test"

static char *const env_interp[] = { "SCRIPT_TEST=interp", "PATH=/bin", NULL };

/* Run as an interpreter: what Linux gave us. */
static int interp(int argc, char **argv)
{
    char exe[256] = "", stat[512] = "";
    long n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    int fd = open("/proc/self/stat", O_RDONLY);
    n = fd >= 0 ? read(fd, stat, sizeof stat - 1) : -1;
    stat[n > 0 ? n : 0] = 0;
    char *open_ = strchr(stat, '('), *close_ = strrchr(stat, ')');
    if (open_ && close_)
        *close_ = 0;
    printf("  interpreter: argc %d", argc);
    for (int i = 0; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n  exe %s, name %s\n", exe, open_ ? open_ + 1 : "?");
    return 0;
}

static void file(const char *name, const char *text, mode_t mode)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (long)strlen(text) || close(fd) || chmod(name, mode))
        printf("cannot write %s: %s\n", name, errname(errno));
}

/* Runs path with argv in a child, prints its status. */
static void run(const char *what, const char *path, char *const argv[])
{
    printf("%s:\n", what);
    pid_t pid = fork();
    if (pid == 0) {
        execve(path, argv, env_interp);
        printf("  execve: %s\n", errname(errno));
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("  status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void scripts(void)
{
    file(DIR_ "/sh", "#!/bin/busybox sh\necho sh: $0 $# $1 $2\nexit 3\n", 0755);
    file(DIR_ "/arg", "#!/posix/script   one  two \t \nnot read\n", 0755);
    file(DIR_ "/plain", "#!/posix/script\n", 0755);
    file(DIR_ "/nested", "#!" DIR_ "/plain\n", 0700);
    file(DIR_ "/nested-sh", "#!" DIR_ "/sh\n", 0755);
    file(DIR_ "/loop", "#!" DIR_ "/loop\n", 0755);
    file(DIR_ "/missing", "#!" DIR_ "/none\n", 0755);
    file(DIR_ "/empty", "#!  \t\n", 0755);
    file(DIR_ "/noexec", "#!/posix/script\n", 0644);
    file(DIR_ "/text", "just text\n", 0644);
    file(DIR_ "/via-text", "#!" DIR_ "/text\n", 0755);
    run("busybox sh runs a script", DIR_ "/sh", (char *[]){ "ignored", "x", "y", NULL });
    run("an argument with blanks", DIR_ "/arg", (char *[]){ "ignored", "x", NULL });
    run("no argument", DIR_ "/plain", (char *[]){ "ignored", "x", "y", NULL });
    run("no argv at all", DIR_ "/plain", (char *[]){ NULL });
    run("a script as interpreter", DIR_ "/nested", (char *[]){ "ignored", "x", NULL });
    run("a shell script as interpreter", DIR_ "/nested-sh", (char *[]){ "ignored", "x", NULL });
    if (chdir(DIR_))
        printf("chdir: %s\n", errname(errno));
    run("a relative name", "./plain", (char *[]){ "ignored", NULL });
    if (chdir("/"))
        printf("chdir: %s\n", errname(errno));
    char *const none[] = { "x", NULL };
    CHECK("execve of a script that is its own interpreter", execve(DIR_ "/loop", none, env_interp));
    CHECK("execve of a missing interpreter", execve(DIR_ "/missing", none, env_interp));
    CHECK("execve of a script naming no interpreter", execve(DIR_ "/empty", none, env_interp));
    CHECK("execve of a script without an execute bit", execve(DIR_ "/noexec", none, env_interp));
    CHECK("execve of an interpreter without an execute bit", execve(DIR_ "/via-text", none, env_interp));
}

/* Reads what fd holds from its start. */
static void show(const char *what, int fd)
{
    char buf[64];
    long n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    printf("%s: %s", what, n >= 0 ? buf : errname(errno));
}

static void rename_open(void)
{
    file(DIR_ "/old", "the old file\n", 0644);
    file(DIR_ "/new", "the new file\n", 0644);
    int fd = open(DIR_ "/old", O_RDWR);
    CHECK("rename over an open file", rename(DIR_ "/new", DIR_ "/old"));
    show("its descriptor reads", fd);
    CHECK("and writes", pwrite(fd, "THE", 3, 0));
    show("its descriptor reads", fd);
    int fd2 = open(DIR_ "/old", O_RDONLY);
    show("the name reads", fd2);
    close(fd2);
    CHECK("close", close(fd));
    /* A failed rename leaves the open target as it was. */
    fd = open(DIR_ "/old", O_RDONLY);
    CHECK("rename of a missing file over an open one", rename(DIR_ "/none", DIR_ "/old"));
    CHECK("rename of a directory over an open file", rename(DIR_, DIR_ "/old"));
    fd2 = open(DIR_ "/old", O_RDONLY);
    show("the name still reads", fd2);
    close(fd2);
    /* Two names of one file: nothing happens. */
    CHECK("link", link(DIR_ "/old", DIR_ "/other"));
    CHECK("rename over a name of the same file", rename(DIR_ "/old", DIR_ "/other"));
    struct stat st;
    CHECK("both names stay", stat(DIR_ "/old", &st) + stat(DIR_ "/other", &st));
    CHECK("rename over an open file of two names", rename(DIR_ "/new-none", DIR_ "/other"));
    file(DIR_ "/third", "the third file\n", 0644);
    CHECK("rename the third over it", rename(DIR_ "/third", DIR_ "/other"));
    show("the descriptor of the file of two names reads", fd);
    close(fd);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = getenv("SCRIPT_TEST");
    if (mode && !strcmp(mode, "interp"))
        return interp(argc, argv);
    mkdir(DIR_, 0755);
    scripts();
    rename_open();
    return 0;
}
