/* Program entry: rdi = boot-info address (init) or argument; align the stack, run main. */
        .text
        .globl _start
_start:
        xor     %ebp, %ebp
        and     $-16, %rsp
        call    pith_start
1:      hlt                             /* not reached: pith_start never returns */
        jmp     1b
