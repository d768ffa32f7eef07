# Loaded by tools/debug.sh: symbols, connection to QEMU's gdb stub, stop at kmain.
set pagination off
set confirm off
set architecture i386:x86-64
target remote localhost:1234
# A hardware breakpoint: the kernel is not in memory yet when gdb connects.
hbreak kmain
continue
