/* The first Linux program on Pith: one line on the console, exit status 0. */
#include <stdio.h>

int main(void)
{
    printf("hello, world\n");
    return 0;
}
