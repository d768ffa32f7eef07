# Checks of the native runtime's build rules (docs/runtime.md), sourced by
# tools/run-tests.sh (uses its result() and $BUILD).  Each links a tiny
# program the way the Makefile links native programs and expects the
# system-call check or the link itself to accept or refuse it.
rc_dir=$BUILD/runtime-checks
rc_cc=$(command -v gcc || command -v clang)
rc_flags="-std=c11 -nostdinc -isystem /usr/include/x86_64-linux-musl -ffreestanding -fno-builtin \
    -fno-stack-protector -fno-pic -fno-pie -O2 -Iinclude -Ilib/libpith -Ilib/libc"
rm -rf "$rc_dir"
mkdir -p "$rc_dir"

# rc_link NAME C-SOURCE: compiles and links it against the musl subset; status of the link.
rc_link() {
    printf '%s\n' "$2" > "$rc_dir/$1.c"
    "$rc_cc" $rc_flags -c "$rc_dir/$1.c" -o "$rc_dir/$1.o" &&
        ld -nostdlib -static -z max-page-size=4096 -z noexecstack -T lib/libpith/user.ld \
            -o "$rc_dir/$1.elf" "$rc_dir/$1.o" "$BUILD/musl/libc-subset.a" 2> "$rc_dir/$1.ld.log"
}

echo "== runtime build checks"
if rc_link recorded '#include "pith.h"
void _start(void) { pith_yield(); for (;;) ; }' &&
    tools/check-syscalls.sh "$rc_dir/recorded.elf" "$BUILD/musl/libc-subset.a" > "$rc_dir/recorded.log" 2>&1; then
    result PASS "runtime/recorded_syscall_accepted"
else
    result FAIL "runtime/recorded_syscall_accepted" "see $rc_dir/recorded.log"
fi

if rc_link stray 'void _start(void) { __asm__ volatile("syscall" : : "a"(39) : "rcx", "r11"); for (;;) ; }' &&
    ! tools/check-syscalls.sh "$rc_dir/stray.elf" "$BUILD/musl/libc-subset.a" > "$rc_dir/stray.log" 2>&1 &&
    grep -q "unrecorded syscall" "$rc_dir/stray.log"; then
    result PASS "runtime/stray_syscall_refused"
else
    result FAIL "runtime/stray_syscall_refused" "the check let an unrecorded syscall through"
fi

# Streams are not in the linked set: fopen (which would open a file with a Linux call) cannot link.
if ! rc_link fopen '#include <stdio.h>
void _start(void) { fopen("x", "r"); for (;;) ; }' && grep -q "undefined reference to .fopen" "$rc_dir/fopen.ld.log"; then
    result PASS "runtime/unlisted_musl_function_does_not_link"
else
    result FAIL "runtime/unlisted_musl_function_does_not_link" "fopen linked"
fi
