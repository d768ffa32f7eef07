/* The child program (tests/user/child/), carried in the test image for the ELF-loader test. */
        .section .rodata
        .balign 16
        .globl child_elf, child_elf_end
child_elf:
        .incbin CHILD_ELF
child_elf_end:
        .section .note.GNU-stack, "", @progbits
