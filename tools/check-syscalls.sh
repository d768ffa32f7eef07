#!/bin/sh
# Usage: check-syscalls.sh PROGRAM.elf MUSL-SUBSET.a
# Fails if the linked native program holds a way into a kernel that is not
# one of Pith's recorded system calls:
#   - a SYSCALL whose address is not listed in .pith.syscalls (the
#     PITH_SYSCALL_INSN macro of lib/libpith/pith.h records each one);
#   - any SYSENTER or INT 0x80;
#   - in a function that came from musl (MUSL-SUBSET.a), any FS-relative
#     access but the stack-protector canary (%fs:0x28): musl's code
#     reaches its own thread structure through %fs:0, and Pith's thread
#     blocks (lib/libc/tls.h) are not that structure.
set -eu
elf=$1
musl=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objcopy --dump-section .pith.syscalls="$tmp/sites" "$elf" "$tmp/copy" 2>/dev/null || : > "$tmp/sites"
od -An -v -tx8 "$tmp/sites" | tr -s ' ' '\n' | sed -n 's/^0*\([0-9a-f]\)/\1/p' | sort -u > "$tmp/recorded"
objdump -d --no-show-raw-insn "$elf" > "$tmp/dis"
nm --defined-only "$musl" 2>/dev/null | awk '$2 ~ /^[Tt]$/ { print "<" $3 ">:" }' | sort -u > "$tmp/musl"
awk -v recorded="$tmp/recorded" -v muslfns="$tmp/musl" '
    BEGIN {
        while ((getline a < recorded) > 0) ok[a] = 1
        while ((getline f < muslfns) > 0) musl[f] = 1
        bad = 0
    }
    /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
    {
        addr = $1; sub(":", "", addr); sub("^0+", "", addr)
        if ($0 ~ /\tsyscall *$/ && !(addr in ok)) {
            printf "  unrecorded syscall at %s in %s\n", addr, fn; bad = 1
        }
        if ($0 ~ /\t(sysenter|int +\$0x80)/) {
            printf "  %s at %s in %s\n", $2, addr, fn; bad = 1
        }
        if ($0 ~ /%fs:/ && $0 !~ /%fs:0x28[^0-9a-f]/ && (fn in musl)) {
            printf "  thread-structure access at %s in musl code %s\n", addr, fn; bad = 1
        }
    }
    END { exit bad }
' "$tmp/dis" || { echo "error: $elf could issue a system call that is not Pith's (see tools/check-syscalls.sh)" >&2; exit 1; }
