/*
 * Fault probes for the in-system tests.  Each runs one instruction that
 * may fault.  The extable lists (faulting rip, fixup rip) pairs: when a
 * kernel fault hits a listed rip, trap.c records it, puts the vector in
 * rax and resumes at the fixup, which returns it.  Without a fault each
 * probe returns -1.
 */
        .text
        .code64

.macro EXTABLE fault, fixup
        .pushsection .extable, "a"
        .balign 8
        .quad \fault, \fixup
        .popsection
.endm

        .globl probe_read
probe_read:
1:      movb    (%rdi), %al
        mov     $-1, %rax
2:      ret
        EXTABLE 1b, 2b

        .globl probe_write
probe_write:
1:      movb    (%rdi), %al
2:      movb    %al, (%rdi)
        mov     $-1, %rax
3:      ret
        EXTABLE 1b, 3b
        EXTABLE 2b, 3b

        .globl probe_ud
probe_ud:
1:      ud2
        mov     $-1, %rax
2:      ret
        EXTABLE 1b, 2b

/* int3 is a trap: the CPU reports the address after it. */
        .globl probe_int3
probe_int3:
        int3
1:      mov     $-1, %rax
2:      ret
        EXTABLE 1b, 2b

        .globl probe_div0
probe_div0:
        xor     %ecx, %ecx
        mov     $1, %eax
        xor     %edx, %edx
1:      div     %ecx
        mov     $-1, %rax
2:      ret
        EXTABLE 1b, 2b

/*
 * probe_exec calls into addr.  If the page is not executable the fault's
 * rip is addr itself, which no extable entry can name; trap.c recognises
 * probe_exec_target instead and returns to our caller.
 */
        .globl probe_exec, probe_exec_target, probe_exec_fixup
probe_exec:
        mov     %rdi, probe_exec_target(%rip)
        call    *%rdi
        movq    $0, probe_exec_target(%rip)
        mov     $-1, %rax
        ret
/* trap.c drops the call's return address and resumes here with rax = vector. */
probe_exec_fixup:
        movq    $0, probe_exec_target(%rip)
        ret

        .bss
        .balign 8
probe_exec_target:
        .quad 0
