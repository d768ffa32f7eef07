/* Refused by the personality: 16 MiB of bss do not fit a process's 8 MiB (tests/system/posix.sh). */
static char big[16 << 20];

int main(void)
{
    big[0] = 1;
    return big[sizeof big - 1];
}
