#!/bin/bash
# make bench: boots Pith in benchmark mode and prints the figures in the
# format of docs/benchmarks.md.  Mode: icount unless the CPU has real
# hardware virtualisation (then kvm, and the unit is cycles); ACCEL forces one.
# BOOTS (default 5) boots give the spread of the boot-to-banner figure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BOOTS=${BOOTS:-5}
accel=${ACCEL:-auto}
if [ "$accel" = auto ]; then
    if grep -qwE 'vmx|svm' /proc/cpuinfo && { exec 3<>/dev/kvm; } 2>/dev/null; then
        exec 3>&-; accel=kvm
    else
        accel=icount
    fi
fi
qemu_version=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
qemu_cpu=max
[ "$accel" = kvm ] && qemu_cpu=host
logdir=$BUILD/bench-logs
mkdir -p "$logdir"

boot_samples=()
for i in $(seq 1 "$BOOTS"); do
    log=$logdir/boot$i.log
    # Only the first boot runs the user-level figures (they are deterministic under icount).
    mods=()
    [ "$i" = 1 ] && mods=(--module "$BUILD/user/bench.elf")
    if ! tools/qemu-run.sh --accel "$accel" --timeout 600 --kernel "$BUILD/pith.bin" "${mods[@]}" \
            --append bench --debugcon "$log" --serial /dev/null; then
        echo "bench: boot $i failed; see $log" >&2
        exit 1
    fi
    tr -d '\r' < "$log" > "$log.clean"
    boot_samples+=("$(sed -n 's/^bench-sample pith.boot_to_banner \([0-9]*\) .*/\1/p' "$log.clean")")
done

first=$logdir/boot1.log.clean
eval "$(sed -n 's/^bench-cpu model=\("[^"]*"\) tsc_mhz=\([0-9]*\) cpus=\([0-9]*\)/model=\1 tsc_mhz=\2 cpus=\3/p' "$first")"
kvm=0; [ "$accel" = kvm ] && kvm=1
echo "bench-machine cpu=\"$model\" tsc_mhz=$tsc_mhz kvm=$kvm cpus=$cpus accel=$accel qemu=$qemu_version qemu_cpu=$qemu_cpu"

unit=$(sed -n 's/^bench-sample pith.boot_to_banner [0-9]* \(.*\)/\1/p' "$first")
sorted=$(printf '%s\n' "${boot_samples[@]}" | sort -n)
n=${#boot_samples[@]}
median=$(echo "$sorted" | sed -n "$(( n / 2 + 1 ))p")
echo "bench pith.boot_to_banner median=$median min=$(echo "$sorted" | head -1) max=$(echo "$sorted" | tail -1) unit=$unit iters=$n"
grep '^bench pith\.' "$first"
