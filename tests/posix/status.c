/* An exit status other than 0 travels back to whoever waited. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("exiting with 3\n");
    exit(3);
}
