# Boot scenarios, sourced by tools/run-tests.sh (uses its result(), run_suite,
# $BUILD, $LOGS, $TIMEOUT).  Each boots Pith in a particular way and checks
# the runner's verdict and what the kernel printed.  The group is four
# parts, functions the runner may run side by side (each boots its own
# machines and writes only its own logs): scenarios_boot, scenarios_smp,
# scenarios_variants, scenarios_grub.

# boot_expect NAME STATUS "KERNEL ARGS" [PATTERN]...
# Boots with the test module, expects the runner to exit with STATUS and
# every PATTERN (grep -E) to appear in the debug console and on COM1.
boot_expect() {
    local name=$1 want=$2 args=$3 log="$LOGS/scenario-$1"
    shift 3
    tools/qemu-run.sh --accel tcg --timeout "$TIMEOUT" \
        --kernel "$BUILD/pith.bin" --module "$BUILD/modules/testdata.bin" \
        --append "$args" --debugcon "$log.debugcon" --serial "$log.serial" 2> "$log.runner"
    local status=$? p
    if [ $status != "$want" ]; then
        result FAIL "scenario/$name" "runner exited $status, expected $want"
        tail -20 "$log.debugcon"
        return
    fi
    for p in "$@"; do
        if ! grep -aqE "$p" "$log.debugcon"; then
            result FAIL "scenario/$name" "debug console lacks /$p/"
            tail -20 "$log.debugcon"
            return
        fi
        # A panic must also reach COM1, polled, whoever owns the UART.
        if ! tr -d '\r' < "$log.serial" | grep -aqE "$p"; then
            result FAIL "scenario/$name" "COM1 lacks /$p/"
            return
        fi
    done
    result PASS "scenario/$name"
}

# The system-call fuzzer: a million random calls from an unprivileged task,
# then its memory revoked and retyped whole (nothing leaked), and another
# task still running.  FUZZ_CALLS overrides the count.
fuzz_run() {                # fuzz_run MODE CPUS CALLS NAME
    local log="$LOGS/fuzz-$1-smp$2" calls=${FUZZ_CALLS:-$3}
    tools/qemu-run.sh --accel "$1" --smp "$2" --timeout "$TIMEOUT" --kernel "$BUILD/pith.bin" \
        --module "$BUILD/user/fuzz.elf" --append "fuzz=$calls seed=${FUZZ_SEED:-20261126}" \
        --debugcon "$log.debugcon" --serial "$log.serial" 2> "$log.runner"
    local status=$?
    grep -a '^fuzz: seed\|calls in\|^fuzz syscalls' "$log.debugcon"
    if [ $status = 0 ] && grep -aq "^fuzz syscalls=[0-9]* kernel_ok=1" "$log.debugcon"; then
        result PASS "fuzz/$1-smp$2/$4"
    else
        result FAIL "fuzz/$1-smp$2/$4" "runner exited $status; see $log.debugcon"
    fi
}

# Deliberate panics and faults, the runner's timeout, the module limit, the debugger.
scenarios_boot() {
    # The panic path itself: a deliberate panic fails the run, and the backtrace
    # names the function that panicked.
    boot_expect panic_fails_run_with_backtrace 1 "selftest=panic" \
        'PANIC on CPU 0: deliberate panic' '#0 +[0-9a-f]+ +selftest_panic_here\+0x' \
        'selftest_run_from_cmdline' 'kmain'

    # COM1 held by a driver that left it unusable (divisor latch open): the log
    # leaves COM1, and a panic still reaches it, the UART set up again.
    boot_expect panic_reaches_com1_a_driver_holds 1 "selftest=panic_com1_held" \
        'PANIC on CPU 0: deliberate panic' 'selftest_panic_here'
    if ! grep -aq "selftest: COM1 is a driver's now" "$LOGS/scenario-panic_reaches_com1_a_driver_holds.debugcon" ||
        grep -aq "selftest: COM1 is a driver's now" "$LOGS/scenario-panic_reaches_com1_a_driver_holds.serial"; then
        result FAIL scenario/log_leaves_com1_a_driver_holds "see $LOGS/scenario-panic_reaches_com1_a_driver_holds.serial"
    else
        result PASS scenario/log_leaves_com1_a_driver_holds
    fi

    # A kernel page fault: register dump, faulting address, backtrace, failure.
    boot_expect kernel_fault_dumps_registers 1 "selftest=fault" \
        'page fault \(vector 14, error 0x2\) on CPU 0, kernel mode' \
        'rip ffffffff8[0-9a-f]+ +rsp' 'cr2 0000000000000010' \
        '#0 +[0-9a-f]+ +selftest_fault_here\+0x' 'PANIC on CPU 0: unhandled page fault'

    # Stack overflow hits the guard page; the double fault runs on its IST stack.
    boot_expect double_fault_on_ist_stack 1 "selftest=doublefault" \
        'double fault \(vector 8' 'selftest_recurse' 'PANIC on CPU 0: unhandled double fault'

    boot_expect unknown_selftest_refused 1 "selftest=nonsense" \
        "unknown or failed self test 'nonsense'"

    # A clean shutdown is the one success status.
    boot_expect clean_shutdown_succeeds 0 "selftest=shutdown" 'shutdown: system halted'

    # Without an HPET the TSC is calibrated against the PIT (decision 0005); with one, against it.
    QEMU_MACHINE=q35,hpet=off boot_expect tsc_calibrated_by_pit_without_hpet 0 "selftest=shutdown" \
        'tsc: .*MHz \(PIT, within 100 ppm\)' 'shutdown: system halted'
    boot_expect tsc_calibrated_by_hpet 0 "selftest=shutdown" 'tsc: .*MHz \(HPET, within [0-9]+ ppm\)'

    # A kernel that never says anything is a failure, by timeout.
    log="$LOGS/scenario-timeout"
    tools/qemu-run.sh --accel tcg --timeout 5 --kernel "$BUILD/pith.bin" \
        --debugcon "$log.debugcon" --serial "$log.serial" 2> "$log.runner"
    status=$?
    if [ $status = 124 ] && grep -aq 'x86-64 microkernel' "$log.debugcon"; then
        result PASS scenario/hang_is_timeout_failure
    else
        result FAIL scenario/hang_is_timeout_failure "runner exited $status, expected 124"
    fi

    # More modules than the kernel tracks: refused loudly, never dropped.
    mods=()
    mkdir -p "$BUILD/modules/many"
    for i in $(seq 1 33); do
        echo "module $i" > "$BUILD/modules/many/m$i"
        mods+=(--module "$BUILD/modules/many/m$i")
    done
    log="$LOGS/scenario-too-many-modules"
    tools/qemu-run.sh --accel tcg --timeout "$TIMEOUT" --kernel "$BUILD/pith.bin" "${mods[@]}" \
        --debugcon "$log.debugcon" --serial "$log.serial" 2> "$log.runner"
    status=$?
    if [ $status = 1 ] && grep -aq '33 modules given, at most 32 supported' "$log.debugcon"; then
        result PASS scenario/too_many_modules_refused
    else
        result FAIL scenario/too_many_modules_refused "runner exited $status"
    fi

    # make debug: gdb connects, loads the symbols and stops in kmain.
    log="$LOGS/scenario-debug.log"
    DEBUG_BATCH=1 timeout 120 tools/debug.sh "$BUILD/pith.elf" "$BUILD/pith.bin" > "$log" 2>&1
    if grep -q 'kmain' "$log" && grep -qE '^#0 .*kmain' "$log"; then
        result PASS scenario/debugger_stops_at_kmain
    else
        result FAIL scenario/debugger_stops_at_kmain "see $log"
        tail -10 "$log"
    fi
}

scenarios_smp() {
    # The in-system suite with two and four CPUs online: everything above
    # again, plus the tests of test_smp.c that need a second CPU.
    # Four CPUs on a two-core host beside another unit: twice the time allowed.
    TIMEOUT=$((TIMEOUT * 2)) run_suite tcg 2
    TIMEOUT=$((TIMEOUT * 2)) run_suite tcg 4
}

# The suite without the fast path, and the system-call fuzzer.
scenarios_variants() {
    # The same semantics without the IPC fast path: every IPC test takes the slow path.
    run_suite tcg 1 nofastpath

    for mode in $modes; do
        fuzz_run "$mode" 1 1000000 million_calls_kernel_intact
    done
    # With two CPUs: the fuzzed thread moves between them (PITH_TCB_SET_AFFINITY)
    # while the watchdog stops, resumes and deletes it from the other.
    fuzz_run tcg 2 300000 calls_on_two_cpus_kernel_intact
}

scenarios_grub() {
    # The GRUB image: the same suite, loaded by GRUB instead of QEMU's loader.
    log="$LOGS/scenario-iso"
    tools/qemu-run.sh --accel tcg --timeout "$TIMEOUT" --iso "$BUILD/pith-test.iso" \
        --debugcon "$log.debugcon" --serial "$log.serial" 2> "$log.runner"
    status=$?
    collect "$log.debugcon" "iso/"
    if [ $status = 0 ] && grep -aq 'loader:  GRUB' "$log.debugcon" \
       && grep -aq 'TEST SUMMARY passed=[1-9][0-9]* failed=0' "$log.debugcon"; then
        result PASS scenario/iso_boots_under_grub
    else
        result FAIL scenario/iso_boots_under_grub "runner exited $status"
    fi
}
