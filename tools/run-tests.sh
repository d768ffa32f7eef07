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

wanted host && echo "== host unit tests"
for t in "$BUILD"/host/test_*; do
    wanted host || break
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

if wanted kernel; then
    for mode in $modes; do
        run_suite "$mode" 1
    done
fi

if wanted scenarios; then
    echo "== boot scenarios"
    . tests/system/scenarios.sh
fi

wanted runtime && . tests/system/runtime-checks.sh

if wanted base; then
    echo "== base system (init, names, processes, console, shell)"
    . tests/system/base.sh
fi

if wanted storage; then
    echo "== storage (PCI server, virtio-blk driver, block protocol)"
    . tests/system/storage.sh
fi

if wanted fs; then
    echo "== file system (ext2 through the file server, kills, refusals)"
    . tests/system/fs.sh
fi

if wanted posix; then
    echo "== POSIX personality (static Linux programs, compared with the host)"
    . tests/system/posix.sh
fi

if wanted busybox; then
    echo "== busybox's own testsuite (host and Pith, compared test by test)"
    . tests/system/busybox.sh
fi

if wanted net; then
    echo "== network (virtio-net driver, lwIP server, two nodes on a socket network)"
    . tests/system/net.sh
fi

if wanted netipc; then
    echo "== network IPC (three machines: remote kv calls both ways, a wrong key, a node killed mid-call)"
    . tests/system/netipc.sh
fi

echo
if [ $failed -gt 0 ]; then
    echo "failed tests:"
    printf '  %s\n' "${failures[@]}"
    echo "logs: $LOGS/"
fi
[ -s "$LOGS/busybox.summary" ] && cat "$LOGS/busybox.summary"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
