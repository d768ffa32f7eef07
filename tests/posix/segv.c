/* A page fault outside the process's memory ends it with SIGSEGV (status 139), not the server. */
#include <stdio.h>

int main(void)
{
    printf("touching address 8\n");
    fflush(stdout);
    *(volatile int *)8 = 1;
    printf("still here?\n");
    return 0;
}
