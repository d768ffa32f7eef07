#!/bin/bash
# make bench: boots Pith in benchmark mode and prints the figures in the
# format of docs/benchmarks.md.  Mode: icount unless the CPU has real
# hardware virtualisation (then kvm, and the unit is cycles); ACCEL forces one.
# BOOTS (default 5) boots give the spread of the boot-to-banner figure.
# Then bench/linux/run.sh boots a Linux guest in the same mode for the
# linux.* figures and a short Pith/Linux ratio table; if it cannot, one
# "# linux comparison unavailable: REASON" line says why (still exit 0).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BOOTS=${BOOTS:-5}
SMP=${SMP:-1}
accel=${ACCEL:-auto}
if [ "$accel" = auto ]; then
    if grep -qwE 'vmx|svm' /proc/cpuinfo && { exec 3<>/dev/kvm; } 2>/dev/null; then
        exec 3>&-; accel=kvm
    else
        accel=icount
    fi
fi
# The QEMU qemu-run.sh runs: the pinned one when unpacked (qemu_version, icount_cpu, icount_smp).
. tools/qemu-pick.sh
qemu_cpu=max
[ "$accel" = icount ] && qemu_cpu=$icount_cpu
[ "$accel" = kvm ] && qemu_cpu=host
logdir=$BUILD/bench-logs
mkdir -p "$logdir"

boot_samples=()
for i in $(seq 1 "$BOOTS"); do
    log=$logdir/boot$i.log
    # Only the first boot runs the user-level figures (they are deterministic under icount).
    mods=()
    [ "$i" = 1 ] && mods=(--module "$BUILD/user/bench.elf")
    if ! tools/qemu-run.sh --accel "$accel" --smp "$SMP" --timeout 600 --kernel "$BUILD/pith.bin" "${mods[@]}" \
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
grep -E '^(bench|#) pith\.' "$first"

# Cross-CPU figures need two CPUs: under icount only with QEMU 8.1 or
# later (the pinned QEMU 10.0, tools/qemu-fetch.sh), in instructions and
# deterministic, with their own machine line.  Debian 12's QEMU 7.2 runs
# one CPU under icount, so there they come from plain emulation (or KVM
# where it is real), converted to nanoseconds, with their spread.
smp_accel=tcg
[ "$accel" = kvm ] && smp_accel=kvm
[ "$accel" = icount ] && [ "$icount_smp" = 1 ] && smp_accel=icount
smp_log=$logdir/smp.log
if tools/qemu-run.sh --accel "$smp_accel" --smp 2 --timeout 600 --kernel "$BUILD/pith.bin" \
        --module "$BUILD/user/bench.elf" --append "bench smp" --debugcon "$smp_log" --serial /dev/null; then
    tr -d '\r' < "$smp_log" > "$smp_log.clean"
    eval "$(sed -n 's/^bench-cpu model=\("[^"]*"\) tsc_mhz=\([0-9]*\) cpus=\([0-9]*\)/model=\1 tsc_mhz=\2 cpus=\3/p' "$smp_log.clean")"
    smp_cpu=max
    [ "$smp_accel" = icount ] && smp_cpu=$icount_cpu
    [ "$smp_accel" = kvm ] && smp_cpu=host
    echo "bench-machine cpu=\"$model\" tsc_mhz=$tsc_mhz kvm=$kvm cpus=$cpus accel=$smp_accel qemu=$qemu_version qemu_cpu=$smp_cpu"
    if [ "$smp_accel" = icount ]; then
        echo "# cross-CPU figures: icount, $cpus CPUs, in instructions (QEMU runs the CPUs in turns)"
    else
        why=""
        [ "$accel" = icount ] && why=" (QEMU $qemu_version runs only one CPU under icount)"
        echo "# cross-CPU figures: $smp_accel, $cpus CPUs, in ns$why"
    fi
    grep -E '^(bench|#) pith\.(ipc_call_rtt_xcpu|wake_latency)|^bkl:' "$smp_log.clean" | sed 's/^bkl:/# bkl:/'
else
    echo "# cross-CPU figures unavailable: the two-CPU boot failed (see $smp_log)"
fi

# pith.ipc_scaling_2cpu: two client/server pairs, one on each of two CPUs,
# calling at once, against one pair alone (decision 0030).  The CPUs must
# really run at the same time: plain emulation (a host thread per CPU, so
# two host CPUs) or KVM, never icount, which runs them in turns.  A ratio
# of times, so no unit conversion; the host's other load shows in it.
scale_accel=tcg
[ "$accel" = kvm ] && scale_accel=kvm
scale_log=$logdir/scaling.log
if [ "$(nproc)" -lt 2 ]; then
    echo "# pith.ipc_scaling_2cpu unavailable: the host has one CPU"
elif tools/qemu-run.sh --accel "$scale_accel" --smp 2 --timeout 600 --kernel "$BUILD/pith.bin" \
        --module "$BUILD/user/bench.elf" --append "bench scaling" --debugcon "$scale_log" --serial /dev/null; then
    tr -d '\r' < "$scale_log" > "$scale_log.clean"
    eval "$(sed -n 's/^bench-cpu model=\("[^"]*"\) tsc_mhz=\([0-9]*\) cpus=\([0-9]*\)/model=\1 tsc_mhz=\2 cpus=\3/p' "$scale_log.clean")"
    scale_cpu=max
    [ "$scale_accel" = kvm ] && scale_cpu=host
    echo "bench-machine cpu=\"$model\" tsc_mhz=$tsc_mhz kvm=$kvm cpus=$cpus accel=$scale_accel qemu=$qemu_version qemu_cpu=$scale_cpu"
    grep -E '^(bench|#) pith\.ipc_scaling' "$scale_log.clean"
else
    echo "# pith.ipc_scaling_2cpu unavailable: the two-CPU boot failed (see $scale_log)"
fi

# wait_for LOG PATTERN PID TRIES: until LOG has a line matching PATTERN,
# the QEMU wrapper PID has ended, or TRIES fifths of a second have passed.
wait_for() {
    for _ in $(seq 1 "$4"); do
        grep -aq "$2" "$1" 2>/dev/null && return
        kill -0 "$3" 2>/dev/null || return
        sleep 0.2
    done
}

# pith.server_restart: a server that crashes is restarted by init's
# supervisor; from its end to its name published again (serving), less the
# supervisor's backoff (policy, not cost).  tests/system/crasher/ crashes
# 200 ms after each start; the manifest lets it restart 5 times.
restart_dir=$logdir/restart
mkdir -p "$restart_dir"
echo "crasher register=/test/crash limit=5" > "$restart_dir/manifest"
log=$logdir/restart.log
# A previous run's log would satisfy the wait below before this QEMU writes.
rm -f "$log"
tools/qemu-run.sh --accel "$accel" --smp "$SMP" --timeout 120 --kernel "$BUILD/pith.bin" \
    --module "$BUILD/user/init.elf" --module "$BUILD/user/memd.elf" --module "$restart_dir/manifest" --module "$BUILD/user/crasher.elf" \
    --debugcon "$log" --serial /dev/null >"$log.runner" 2>&1 &
restart_pid=$!
wait_for "$log" 'crasher: giving up' "$restart_pid" 600
kill "$restart_pid" 2>/dev/null; wait "$restart_pid" 2>/dev/null
# And its QEMU, should it have outlived the wrapper (an idle guest under icount spins a host CPU).
pkill -f -- "debugcon file:$log" 2>/dev/null || true
restart_samples=$(tr -d '\r' < "$log" | sed -n 's/^init: crasher serving again \([0-9]*\) us after it ended (backoff \([0-9]*\) us)/\1 \2/p' |
                  awk '{ print $1 - $2 }' | sort -n)
n=$(echo "$restart_samples" | grep -c .)
if [ "$n" -gt 0 ]; then
    echo "bench pith.server_restart median=$(echo "$restart_samples" | sed -n "$(( n / 2 + 1 ))p") min=$(echo "$restart_samples" | head -1) max=$(echo "$restart_samples" | tail -1) unit=us iters=$n"
else
    echo "# pith.server_restart unavailable: no restart measured (see $log)"
fi

# pith.boot_to_shell: make run's system (every server of its manifest, its
# disk) from kernel entry to the shell's first prompt on the serial line
# with the POSIX personality serving (the later of the two: the shell, the
# lowest priority, may prompt before the file server's first disk read is
# answered and posix is started, since the disk answers in host time).
# The shell and posix log the TSC then, the banner the TSC at kernel
# entry; all count from reset, and the firmware and loader's share before
# kmain is given beside (not Pith's).  Three boots, the median.
shell_samples=()
for i in 1 2 3; do
    shell_log=$logdir/shell$i.log
    rm -f "$shell_log"
    [ -n "${BENCH_RUN_MODULES:-}" ] || break
    cp "$BUILD/disk.img" "$logdir/shell-disk.img"
    shell_mods=()
    for m in $BENCH_RUN_MODULES; do shell_mods+=(--module "$m"); done
    tools/qemu-run.sh --accel "$accel" --smp "$SMP" --mem "${BENCH_RUN_MEM:-512}" --timeout 300 \
        --kernel "$BUILD/pith.bin" "${shell_mods[@]}" \
        --disk "$logdir/shell-disk.img" --debugcon "$shell_log" --serial /dev/null >"$shell_log.runner" 2>&1 &
    shell_pid=$!
    wait_for "$shell_log" '^shell: first prompt' "$shell_pid" 1500
    wait_for "$shell_log" '^posix: serving /svc/posix' "$shell_pid" 1500
    kill "$shell_pid" 2>/dev/null; wait "$shell_pid" 2>/dev/null
    entry=$(tr -d '\r' < "$shell_log" | sed -n 's/.*[ (]\([0-9]*\) \(of them \)\{0,1\}before kmain.*/\1/p' | head -1)
    prompt=$(tr -d '\r' < "$shell_log" | sed -n 's/^shell: first prompt \([0-9]*\) TSC ticks after reset/\1/p' | head -1)
    serving=$(tr -d '\r' < "$shell_log" | sed -n 's/^posix: serving .*(\([0-9]*\) TSC ticks after reset)/\1/p' | head -1)
    [ -n "$serving" ] && [ -n "$prompt" ] && [ "$serving" -gt "$prompt" ] && prompt=$serving
    [ -n "$entry" ] && [ -n "$prompt" ] && [ -n "$serving" ] && shell_samples+=("$((prompt - entry))")
done
if [ "${#shell_samples[@]}" -gt 0 ]; then
    shell_unit=cycles
    [ "$accel" = icount ] && shell_unit=insns
    [ "$accel" = tcg ] && shell_unit=ticks
    sorted=$(printf '%s\n' "${shell_samples[@]}" | sort -n)
    n=${#shell_samples[@]}
    echo "bench pith.boot_to_shell median=$(echo "$sorted" | sed -n "$(( n / 2 + 1 ))p") min=$(echo "$sorted" | head -1) max=$(echo "$sorted" | tail -1) unit=$shell_unit iters=$n"
    echo "# pith.boot_to_shell: from kernel entry; the firmware and loader before it: $entry"
else
    echo "# pith.boot_to_shell unavailable: no first prompt, or the POSIX personality not serving (see $logdir/shell1.log)"
fi

# The Linux guest, same QEMU, mode and -smp.  Its stderr is kept for the reason.
# File-system figures: the storage servers and bench/fs on a fresh ext2
# disk, same mode.  fsbench prints unit=tsc: the mode chosen here names it.
fs_dir=$logdir/fs
mkdir -p "$fs_dir"
printf '%s\n' "pci priority=180 pci register=/dev/pci" \
    "blk priority=170 needs=pci register=/dev/blk0" \
    "fs priority=160 ports=0x70-0x71 needs=blk register=/fs" \
    "fsbench priority=100 needs=fs" > "$fs_dir/manifest"
tools/mkdisk.sh disk "$fs_dir/disk.img" 32 > /dev/null
log=$logdir/fs.log
rm -f "$log"
tools/qemu-run.sh --accel "$accel" --smp "$SMP" --timeout 600 --kernel "$BUILD/pith.bin" \
    --module "$BUILD/user/init.elf" --module "$BUILD/user/memd.elf" --module "$fs_dir/manifest" \
    --module "$BUILD/user/pci.elf" --module "$BUILD/user/blk.elf" --module "$BUILD/user/fs.elf" \
    --module "$BUILD/user/fsbench.elf" --disk "$fs_dir/disk.img" \
    --debugcon "$log" --serial /dev/null >"$log.runner" 2>&1 &
fs_pid=$!
wait_for "$log" '^fsbench: done' "$fs_pid" 3000
kill "$fs_pid" 2>/dev/null; wait "$fs_pid" 2>/dev/null
pkill -f -- "debugcon file:$log" 2>/dev/null || true
fs_unit=cycles
[ "$accel" = icount ] && fs_unit=insns
[ "$accel" = tcg ] && fs_unit=ticks
if tr -d '\r' < "$log" | grep -q '^bench pith\.fs_'; then
    tr -d '\r' < "$log" | grep '^bench pith\.fs_' | sed "s/unit=tsc/unit=$fs_unit/" | tee "$fs_dir/figures"
else
    echo "# file-system figures unavailable: $(tr -d '\r' < "$log" | grep -a '^fsbench: .*failed' | head -1) (see $log)"
fi

# The POSIX personality's getpid round trip: make run's system with the
# Linux program bench/posix/getpid.c on a disk, run by the shell's linux
# command (tests/system/posix.sh's disk and session helpers), same mode:
# answered in the kernel by the personality's fault program, then (the
# program runs itself again asking for the server) through the server.
posix_fig=$logdir/posix.figures
(
    LOGS=$logdir POSIX_NO_RUN=1
    . tests/system/posix.sh
    posix_folder "$logdir/posix-disk"
    tools/mkdisk.sh "$logdir/posix-disk" "$logdir/posix.img" 32 > /dev/null
    # shellcheck disable=SC2046
    SESSION_MEM=512 SESSION_TIMEOUT=1200 SESSION_ACCEL=$accel SESSION_DISK=$logdir/posix.img session_start "$logdir/posix.log" $(posix_modules)
    session_wait 'pith> ' 300 && session_wait_log 'posix: serving /svc/posix' 300 &&
        session_cmd 'linux /posix/bench-getpid' '^bench pith.posix_getpid_server' 300 > /dev/null
    session_since | grep -a '^bench pith.posix_getpid' | sed "s/unit=tsc/unit=$fs_unit/" > "$posix_fig"
    # bench/posix/clock.c: clock_gettime through the vDSO, then (run again without it) through the server.
    session_cmd 'linux /posix/bench-clock' '^bench pith.posix_clock_gettime_server' 300 > /dev/null
    session_since | grep -a '^bench pith.posix_clock_gettime' | sed "s/unit=tsc/unit=$fs_unit/" >> "$posix_fig"
    # bench/posix/posixbench.c: the program the Linux guest runs too (linux.posix_*).
    session_cmd 'linux /posix/bench-posix pith /tmp' '^bench pith.posix_fork_big_exit_wait' 900 > /dev/null
    session_since | grep -a '^bench pith.posix_' | sed "s/unit=tsc/unit=$fs_unit/" >> "$posix_fig"
    session_stop
)
if [ -s "$posix_fig" ]; then
    cat "$posix_fig"
else
    echo "# POSIX personality figure unavailable (see $logdir/posix.log)"
fi

# The network's UDP round trip between two machines on a QEMU socket
# network (tests/system/net.sh's nodes), always under plain emulation.
net_fig=$logdir/net.figures
(NET_FUNCTIONS_ONLY=1 . tests/system/net.sh && net_bench "$logdir") > "$net_fig"
if [ -s "$net_fig" ]; then
    cat "$net_fig"
else
    echo "# network figure unavailable (see $logdir/net-a.debugcon)"
fi

# Network IPC: a remote kv call beside the raw UDP round trip between the
# same two machines, in the same run (tests/system/netipc.sh's scenario).
netipc_fig=$logdir/netipc.figures
(LOGS=$logdir; result() { :; }; NETIPC_FUNCTIONS_ONLY=1 . tests/system/netipc.sh && netipc_three_nodes) |
    grep -a '^bench pith.netipc\|^# netipc' > "$netipc_fig"
if [ -s "$netipc_fig" ]; then
    cat "$netipc_fig"
else
    echo "# network IPC figures unavailable (see $logdir/netipc-a.debugcon)"
fi

fetch=""
ls "$BUILD"/linux-guest/boot/vmlinuz-* >/dev/null 2>&1 || fetch="; first downloading Debian's kernel package"
echo "bench: booting the Linux guest ($accel$fetch)" >&2
if linux=$(BUILD=$BUILD bench/linux/run.sh --accel "$accel" --smp "$SMP" 2>"$logdir/linux.err"); then
    cat "$logdir/linux.err" >&2
    echo "$linux"
else
    cat "$logdir/linux.err" >&2
    reason=$(tail -n1 "$logdir/linux.err" | sed 's/^linux-guest: //')
    echo "# linux comparison unavailable: ${reason:-bench/linux/run.sh failed}"
    exit 0
fi

# Ratios of medians, only where both figures exist in the same unit.
{ grep -h '^bench pith\.' "$first" "$fs_dir/figures" "$posix_fig" 2>/dev/null; echo "$linux"; } | awk '
    /^bench / { for (i = 3; i <= NF; i++) { split($i, kv, "="); f[$2, kv[1]] = kv[2] } }
    function row(p, l) {
        if (f[p, "median"] == "" || f[l, "median"] == "" || f[p, "unit"] != f[l, "unit"]) return
        if (!shown++) printf "# %-24s %-26s %9s %9s %7s\n", "pith", "linux", "pith", "linux", "ratio"
        printf "# %-24s %-26s %9d %9d %7.2f\n", p, l, f[p, "median"], f[l, "median"],
               f[p, "median"] / f[l, "median"]
    }
    END {
        row("pith.ipc_call_rtt_xas", "linux.pipe_rtt_same_cpu")
        row("pith.ipc_call_rtt_xas", "linux.futex_rtt_same_cpu")
        row("pith.null_syscall", "linux.null_syscall")
        row("pith.posix_getpid", "linux.null_syscall")
        row("pith.posix_getpid_server", "linux.null_syscall")
        row("pith.posix_clock_gettime", "linux.clock_gettime")
        row("pith.posix_clock_gettime_server", "linux.clock_gettime")
        row("pith.posix_pipe_rtt", "linux.posix_pipe_rtt")
        row("pith.posix_fork_exit_wait", "linux.posix_fork_exit_wait")
        row("pith.posix_fork_exec_wait", "linux.posix_fork_exec_wait")
        row("pith.posix_fork_big_exit_wait", "linux.posix_fork_big_exit_wait")
        row("pith.posix_read_4k", "linux.posix_read_4k")
        row("pith.pagefault_rtt", "linux.minor_fault")
        row("pith.fs_read_4k_random", "linux.fs_read_4k_random")
        row("pith.fs_read_4k_seq", "linux.fs_read_4k_seq")
        row("pith.fs_write_4k_seq", "linux.fs_write_4k_seq")
    }'
