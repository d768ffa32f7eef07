#!/bin/bash
# make test's runner.  Runs, in order:
#   1. host unit tests (build/host/test_*, AddressSanitizer + UBSan)
#   2. the in-system suite (tests/kernel/) booted under QEMU, in each mode
#      of TEST_MODES (default: tcg and icount)
#   3. boot scenarios (tests/system/scenarios.sh): deliberate panics, the
#      runner's timeout, the GRUB image, the debugger
#   4. the native runtime's build rules (tests/system/runtime-checks.sh)
#   5. the base system booted as make run boots it, driven over the serial
#      line (tests/system/base.sh)
#   6. storage: the PCI server and the virtio-blk driver with a disk
#      (tests/system/storage.sh)
#   7. fs: the file server on ext2 images made by mke2fs and checked by
#      e2fsck, through the shell and under kills (tests/system/fs.sh)
#   8. posix: static Linux programs through the POSIX personality, their
#      output compared with the host's (tests/system/posix.sh)
#   8b. busybox: busybox's own testsuite, on the host and under Pith, compared
#      test by test (tests/system/busybox.sh)
#   9. net: two machines on a QEMU socket network: the virtio-net driver,
#      the lwIP network server, ping, UDP, TCP (tests/system/net.sh)
# Groups are cut into units (the scenarios group into four), and two run at
# a time on a machine with two or more CPUs (TEST_JOBS=1: one at a time);
# each unit's output is shown whole, in the order above, when it is done.
# The in-system run is two suites: the kernel's own (tests/kernel/), then
# the user-level one (tests/user/), which the kernel starts as init.
# Every test prints one "TEST PASS|FAIL name" line; the last line is
# "N passed, N failed".  Exit status: 0 only if nothing failed.
# TEST_ONLY="host kernel scenarios runtime base storage fs posix busybox net netipc" (any of them) runs only
# those groups; everything by default.
# Logs of every boot are kept under build/test-logs/.
set -u
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
LOGS=$BUILD/test-logs
TIMEOUT=${TEST_TIMEOUT:-300}
if [ -n "${TEST_MODES:-}" ]; then
    modes=$TEST_MODES
elif [ "${ACCEL:-auto}" != auto ]; then
    modes=$ACCEL
else
    modes="tcg icount"
fi
rm -rf "$LOGS"
mkdir -p "$LOGS"
only=${TEST_ONLY:-host kernel scenarios runtime base storage fs posix busybox net netipc}
wanted() { case " $only " in *" $1 "*) return 0 ;; esac; return 1; }

passed=0
failed=0
failures=()

result() {                  # result PASS|FAIL name [reason]
    echo "TEST $1 $2${3:+: $3}"
    if [ "$1" = PASS ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$2")
    fi
}

# Counts the TEST lines of a log under a prefix; fails a test that never
# reported and checks the summary matches what the suite announced.
collect() {                 # collect LOG PREFIX
    local log=$1 prefix=$2 line status name
    while IFS= read -r line; do
        case $line in
            "TEST PASS "*) result PASS "$prefix${line#TEST PASS }" ;;
            "TEST FAIL "*) name=${line#TEST FAIL }; result FAIL "$prefix${name%%:*}" ;;
        esac
    done < <(grep -aE '^TEST (PASS|FAIL) ' "$log")
}

# Boots the kernel in test mode and collects its results.
run_suite() {               # run_suite MODE SMP [EXTRA-KERNEL-ARG]
    local mode=$1 smp=$2 extra=${3:-} tag="$1-smp$2${3:+-$3}" log="$LOGS/kernel-$1-smp$2${3:+-$3}"
    echo "== in-system tests ($mode, $smp CPU${extra:+, $extra})"
    tools/qemu-run.sh --accel "$mode" --smp "$smp" --timeout "$TIMEOUT" \
        --kernel "$BUILD/pith.bin" --module "$BUILD/user/kernel-tests.elf" \
        --module "$BUILD/modules/testdata.bin" --append "test expect_cpus=$smp $extra" \
        --debugcon "$log.debugcon" --serial "$log.serial" 2> "$log.runner"
    local status=$?
    collect "$log.debugcon" "kernel/$tag/"
    local announced ran
    # The kernel's suite and then the user-level suite each announce their count.
    announced=$(sed -n 's/^TEST BEGIN count=//p' "$log.debugcon" | tr -d '\r' | awk '{ n += $1 } END { if (NR) print n }')
    ran=$(grep -acE '^TEST (PASS|FAIL) ' "$log.debugcon")
    if [ -z "$announced" ] || [ "$announced" != "$ran" ]; then
        result FAIL "kernel/$tag/complete" "announced ${announced:-nothing}, reported $ran"
        tail -30 "$log.debugcon"
    elif [ $status != 0 ] && ! grep -q '^TEST FAIL' "$log.debugcon"; then
        result FAIL "kernel/$tag/verdict" "runner status $status: $(cat "$log.runner")"
    else
        result PASS "kernel/$tag/complete"
    fi
    # The user suite gives COM1's ports to threads and takes them away,
    # logging markers (tests/user/test_ioports.c): "quiet" ones while a
    # thread holds COM1 must reach the debug console and not the serial
    # line, "heard" ones both.
    local marker where bad=""
    for marker in quiet-held quiet-replaced quiet-one-holder-gone quiet-held-again quiet-last \
                  heard-other-ports heard-taken-away heard-revoked heard-thread-deleted; do
        where=""
        grep -aq "utest-com1-$marker" "$log.debugcon" && where=d
        grep -aq "utest-com1-$marker" "$log.serial" && where=${where}s
        case $marker/$where in
            quiet-*/d | heard-*/ds) ;;
            *) bad="$bad $marker(${where:-nowhere})" ;;
        esac
    done
    if [ -n "$bad" ] || ! grep -aq 'Pith' "$log.serial"; then
        result FAIL "kernel/$tag/com1_log" "misplaced:${bad:- no boot banner} (see $log.serial)"
    else
        result PASS "kernel/$tag/com1_log"
    fi
}

unit_host() {
    echo "== host unit tests"
    local t name status
    for t in "$BUILD"/host/test_*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        timeout 300 "$t" > "$LOGS/host-$name.log" 2>&1
        status=$?
        [ $status = 124 ] && echo "  (timed out after 300 s)" >> "$LOGS/host-$name.log"
        collect "$LOGS/host-$name.log" "host/$name/"
        if [ $status != 0 ] && ! grep -q '^TEST FAIL' "$LOGS/host-$name.log"; then
            result FAIL "host/$name" "exited with status $status (see $LOGS/host-$name.log)"
            tail -20 "$LOGS/host-$name.log"
        fi
    done
}

. tests/system/scenarios.sh

unit_kernel() {
    local mode
    for mode in $modes; do
        run_suite "$mode" 1
    done
}
unit_scenarios() { echo "== boot scenarios"; scenarios_boot; }
unit_smp() { echo "== the in-system suite on two and four CPUs"; scenarios_smp; }
unit_variants() { echo "== the suite without the fast path; the system-call fuzzer"; scenarios_variants; }
unit_grub() { echo "== the GRUB image"; scenarios_grub; }
unit_runtime() { . tests/system/runtime-checks.sh; }
unit_base() { echo "== base system (init, names, processes, console, shell)"; . tests/system/base.sh; }
unit_storage() { echo "== storage (PCI server, virtio-blk driver, block protocol)"; . tests/system/storage.sh; }
unit_fs() { echo "== file system (ext2 through the file server, kills, refusals)"; . tests/system/fs.sh; }
unit_posix() { echo "== POSIX personality (static Linux programs, compared with the host)"; . tests/system/posix.sh; }
unit_busybox() { echo "== busybox's own testsuite (host and Pith, compared test by test)"; . tests/system/busybox.sh; }
unit_net() { echo "== network (virtio-net driver, lwIP server, two nodes on a socket network)"; . tests/system/net.sh; }
unit_netipc() {
    echo "== network IPC (three machines: remote kv calls both ways, a wrong key, a node killed mid-call)"
    . tests/system/netipc.sh
}

# The units of work, each "unit:group", in the order their output is shown.
# Every unit boots its own machines and writes only its own logs, so two
# can run at once.
units="host:host kernel:kernel scenarios:scenarios smp:scenarios variants:scenarios grub:scenarios
       runtime:runtime base:base storage:storage fs:fs posix:posix busybox:busybox net:net netipc:netipc"
# The order in which idle workers take them: longest first, so that the
# last unit to finish is a short one.
longest_first="smp variants posix kernel busybox grub fs host base scenarios net netipc storage runtime"

# Runs one unit in a subshell of its own; its output and counts go to files.
run_unit() {                # run_unit NAME
    (
        passed=0 failed=0 failures=()
        "unit_$1"
        echo "$passed $failed" > "$LOGS/unit-$1.count"
        [ $failed = 0 ] || printf '%s\n' "${failures[@]}" > "$LOGS/unit-$1.failures"
    ) > "$LOGS/unit-$1.out" 2>&1 < /dev/null
    touch "$LOGS/unit-$1.done"
}

# A worker takes each unit no other worker has taken (mkdir is the claim).
worker() {
    local u
    for u in $longest_first; do
        [ -f "$LOGS/unit-$u.wanted" ] || continue
        mkdir "$LOGS/unit-$u.claim" 2> /dev/null || continue
        run_unit "$u"
    done
}

# TEST_JOBS units at a time (default: one per CPU, at most two: the
# machines are emulated, and a busy host stretches their guest time).
jobs=${TEST_JOBS:-$(nproc 2> /dev/null || echo 1)}
[ "$jobs" -ge 1 ] 2> /dev/null || jobs=1
[ "$jobs" -le 2 ] || jobs=2
shown=""
for pair in $units; do
    wanted "${pair#*:}" && touch "$LOGS/unit-${pair%%:*}.wanted" && shown="$shown ${pair%%:*}"
done
workers=()
for _ in $(seq 1 "$jobs"); do
    worker &
    workers+=($!)
done
# Shows each unit's output, in order, as soon as it is complete, and adds up its counts.
for u in $shown; do
    while [ ! -f "$LOGS/unit-$u.done" ]; do
        sleep 1
    done
    cat "$LOGS/unit-$u.out"
    if [ -f "$LOGS/unit-$u.count" ]; then
        read -r p f < "$LOGS/unit-$u.count"
        passed=$((passed + p))
        failed=$((failed + f))
        [ -f "$LOGS/unit-$u.failures" ] && mapfile -t -O "${#failures[@]}" failures < "$LOGS/unit-$u.failures"
    else
        result FAIL "unit/$u" "ended without its counts (see $LOGS/unit-$u.out)"
    fi
done
wait "${workers[@]}"

echo
if [ $failed -gt 0 ]; then
    echo "failed tests:"
    printf '  %s\n' "${failures[@]}"
    echo "logs: $LOGS/"
fi
[ -s "$LOGS/busybox.summary" ] && cat "$LOGS/busybox.summary"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
