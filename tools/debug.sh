#!/bin/bash
# Usage: debug.sh pith.elf pith.bin [MODULE]... [-- gdb-args]
# Starts QEMU stopped, waiting for gdb on :1234, and gdb with the kernel's
# symbols, stopped at kmain.  The serial console goes to build/debug-serial.log
# (watch it with: tail -f build/debug-serial.log).  Quitting gdb stops QEMU.
# DEBUG_BATCH=1 runs gdb non-interactively (used by make test): it prints the
# stop location and a backtrace, then quits.
set -u
elf=$1 bin=$2
shift 2
mods=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do mods+=(--module "$1"); shift; done
[ "${1:-}" = -- ] && shift
dir=$(dirname "$bin")
tools/qemu-run.sh --accel tcg --kernel "$bin" "${mods[@]}" ${DISK:+--disk "$DISK"} --gdb \
    --serial "$dir/debug-serial.log" --debugcon "$dir/debug-debugcon.log" &
qemu=$!
trap 'kill $qemu 2>/dev/null; wait $qemu 2>/dev/null' EXIT
sleep 0.5
if [ "${DEBUG_BATCH:-0}" = 1 ]; then
    gdb -q -batch -ex "file $elf" -x tools/kernel.gdb -ex 'info symbol $pc' -ex 'bt' "$@" </dev/null
else
    gdb -q -ex "file $elf" -x tools/kernel.gdb "$@"
fi
