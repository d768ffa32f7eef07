/* argc, argv, envp and the auxiliary vector as Linux's kernel lays them out. */
#include "common.h"

#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;
extern char _start[];

int main(int argc, char **argv)
{
    printf("argc %d\n", argc);
    printf("argv[0] %s\n", base_name(argv[0]));
    for (int i = 1; i < argc; i++)
        printf("argv[%d] %s\n", i, argv[i]);
    printf("argv[argc] is NULL: %s\n", argv[argc] ? "no" : "yes");
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
    printf("AT_PHENT %lu\n", getauxval(AT_PHENT));
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM), loads = 0;
    for (unsigned long i = 0; ph && i < n; i++)
        loads += ph[i].p_type == PT_LOAD;
    printf("AT_PHDR holds %lu loadable segments of %lu headers: %s\n", loads, n, loads > 0 ? "yes" : "no");
    printf("AT_ENTRY is _start: %s\n", getauxval(AT_ENTRY) == (unsigned long)_start ? "yes" : "no");
    printf("AT_UID matches getuid: %s\n", getauxval(AT_UID) == getuid() ? "yes" : "no");
    printf("AT_EUID matches geteuid: %s\n", getauxval(AT_EUID) == geteuid() ? "yes" : "no");
    printf("AT_GID matches getgid: %s\n", getauxval(AT_GID) == getgid() ? "yes" : "no");
    printf("AT_EGID matches getegid: %s\n", getauxval(AT_EGID) == getegid() ? "yes" : "no");
    printf("AT_SECURE %lu\n", getauxval(AT_SECURE));
    printf("AT_CLKTCK %lu\n", getauxval(AT_CLKTCK));
    printf("AT_HWCAP has SSE2: %s\n", getauxval(AT_HWCAP) & (1ul << 26) ? "yes" : "no");
    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    int nonzero = 0;
    for (int i = 0; rnd && i < 16; i++)
        nonzero |= rnd[i];
    printf("AT_RANDOM 16 bytes, not all zero: %s\n", rnd && nonzero ? "yes" : "no");
    const char *fn = (const char *)getauxval(AT_EXECFN);
    printf("AT_EXECFN %s\n", fn ? base_name(fn) : "(none)");
    printf("stack aligned: %s\n", ((uintptr_t)__builtin_frame_address(0) & 7) == 0 ? "yes" : "no");
    return 0;
}
