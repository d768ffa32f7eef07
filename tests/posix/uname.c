/* uname and the process's identity. */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>

#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
    struct utsname u;
    CHECK("uname", uname(&u));
    printf("sysname %s\n", u.sysname);
    printf("machine %s\n", u.machine);
    printf("pid positive: %s\n", getpid() > 0 ? "yes" : "no");
    printf("ppid positive: %s\n", getppid() > 0 ? "yes" : "no");
    printf("tid is pid: %s\n", gettid() == getpid() ? "yes" : "no");
    printf("uid %d gid %d\n", getuid() == geteuid(), getgid() == getegid());
    CHECK("ioctl TCGETS on a file", ioctl(open("/", 0), TCGETS, &(struct termios){ 0 }));
    return 0;
}
