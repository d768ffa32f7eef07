/* A system call Pith does not serve answers ENOSYS; the program goes on. */
#include "common.h"

#include <unistd.h>

int main(void)
{
    CHECK("syscall 999", syscall(999));
    CHECK("syscall 999 again", syscall(999));
    CHECK("syscall 100000", syscall(100000));
    printf("still running\n");
    return 0;
}
