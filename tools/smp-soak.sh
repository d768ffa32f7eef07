#!/bin/bash
# Soak test for several CPUs: boots the multi-CPU groups of make test over
# and over and counts how many runs pass.  A run is, for each group named
# in SOAK_GROUPS:
#   kernel  the in-system suite (tests/kernel + tests/user) with SMP CPUs,
#           as run-tests.sh runs it (every announced test reported, none
#           failed, the kernel's verdict success)
#   fuzz    the system-call fuzzer with SMP CPUs: FUZZ_CALLS calls (300,000)
#           from seed FUZZ_SEED (20261126), as in make test's fuzz/tcg-smp2
# Environment (make smp-soak passes them on):
#   RUNS=20 SMP=2 JOBS=1 SOAK_GROUPS="kernel fuzz" SOAK_TIMEOUT=900
#   FUZZ_CALLS=300000 FUZZ_SEED=20261126 BUILD=build
# A boot in which fewer than SMP CPUs came online fails (its multi-CPU
# tests would only have been skipped).
# JOBS=2 runs two boots at once (the load under which the two-CPU hang of
# docs/smp.md showed); never more than two QEMUs.  A boot that hangs ends
# at SOAK_TIMEOUT; its local APICs' state (info lapic) is saved next to its
# log before it is stopped.  Logs: $BUILD/soak-logs/.  The last line is
# "soak: N of M runs passed" (and per group); exit status 0 only if all did.
set -u
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
RUNS=${RUNS:-20}
SMP=${SMP:-2}
JOBS=${JOBS:-1}
GROUPS_=${SOAK_GROUPS:-kernel fuzz}
TIMEOUT=${SOAK_TIMEOUT:-900}
CALLS=${FUZZ_CALLS:-300000}
SEED=${FUZZ_SEED:-20261126}
LOGS=$BUILD/soak-logs
. tools/qemu-pick.sh          # the QEMU of tools/qemu-run.sh
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
[ "$JOBS" -le 2 ] || JOBS=2
rm -rf "$LOGS"
mkdir -p "$LOGS"

# One boot, in the foreground: boot NAME KIND.  Writes NAME.result (PASS or FAIL: why).
boot() {
    local name=$1 kind=$2 log="$LOGS/$1" append modules=()
    case $kind in
        kernel) append="test expect_cpus=$SMP"
                modules=("$BUILD/user/kernel-tests.elf" "$BUILD/modules/testdata.bin") ;;
        fuzz)   append="fuzz=$CALLS seed=$SEED"
                modules=("$BUILD/user/fuzz.elf") ;;
    esac
    local initrd="" m
    for m in "${modules[@]}"; do initrd="$initrd${initrd:+,}$m"; done
    rm -f "$log.sock"
    "${qemu[@]}" -M q35 -m 256 -smp "$SMP" -no-reboot -display none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg -cpu max \
        -kernel "$BUILD/pith.bin" -append "$append" -initrd "$initrd" \
        -debugcon "file:$log.debugcon" -serial "file:$log.serial" \
        -monitor "unix:$log.sock,server,nowait" </dev/null &
    local qpid=$! waited=0 status
    trap 'kill $qpid 2>/dev/null; wait $qpid 2>/dev/null; exit 2' TERM INT HUP
    while kill -0 $qpid 2>/dev/null && [ $waited -lt "$TIMEOUT" ]; do
        sleep 1
        waited=$((waited + 1))
    done
    if kill -0 $qpid 2>/dev/null; then
        lapic_state "$log.sock" > "$log.lapic" 2>&1
        kill $qpid 2>/dev/null
        wait $qpid 2>/dev/null
        echo "FAIL: no verdict after ${TIMEOUT}s; APIC state in $log.lapic" > "$log.result"
        rm -f "$log.sock"
        return
    fi
    wait $qpid
    status=$?
    rm -f "$log.sock"
    local why="" online
    [ $status = 33 ] || why="QEMU exit status $status"
    # A CPU that did not start makes a one-CPU run of it: not what was asked for.
    online=$(sed -n 's/^smp: \([0-9]*\) of [0-9]* CPUs online.*/\1/p' "$log.debugcon" | head -1)
    [ "${online:-0}" = "$SMP" ] || why="$why${why:+; }${online:-no} of $SMP CPUs online"
    if [ $kind = kernel ]; then
        local announced ran
        announced=$(sed -n 's/^TEST BEGIN count=//p' "$log.debugcon" | tr -d '\r' | awk '{ n += $1 } END { if (NR) print n }')
        ran=$(grep -acE '^TEST (PASS|FAIL) ' "$log.debugcon")
        grep -aq '^TEST FAIL ' "$log.debugcon" && why="$why${why:+; }$(grep -a '^TEST FAIL ' "$log.debugcon" | head -3 | tr '\n' ' ')"
        [ -n "$announced" ] && [ "$announced" = "$ran" ] || why="$why${why:+; }announced ${announced:-nothing}, reported $ran"
    else
        grep -aq "^fuzz syscalls=[0-9]* kernel_ok=1" "$log.debugcon" || why="$why${why:+; }no kernel_ok=1"
    fi
    if [ -z "$why" ]; then echo PASS > "$log.result"; else echo "FAIL: $why" > "$log.result"; fi
}

# The local APICs and CPUs of a hung boot, from QEMU's monitor.
lapic_state() {
    python3 - "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
def cmd(c):
    s.sendall((c + "\n").encode())
    time.sleep(1)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    return out.decode(errors="replace")
cmd("")
for c in ("info lapic 0", "info lapic 1", "info registers -a"):
    print(cmd(c))
EOF
}

# One run: every group, one after the other.  Prints one line.
one_run() {
    local n=$1 g verdicts=""
    for g in $GROUPS_; do
        boot "run$n-$g" "$g"
        verdicts="$verdicts $g=$(cut -c1-4 "$LOGS/run$n-$g.result")"
    done
    echo "soak: run $n:$verdicts"
    for g in $GROUPS_; do
        case $(cat "$LOGS/run$n-$g.result") in
            PASS) ;;
            *) echo "soak:   run $n $g: $(cat "$LOGS/run$n-$g.result")" ;;
        esac
    done
}

echo "soak: $RUNS runs of [$GROUPS_] with $SMP CPUs, $JOBS at once (fuzz: $CALLS calls, seed $SEED)"
next=1
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 2' TERM INT HUP
while [ $next -le "$RUNS" ]; do
    pids=()
    for ((j = 0; j < JOBS && next <= RUNS; j++)); do
        one_run $next &
        pids+=($!)
        next=$((next + 1))
    done
    wait "${pids[@]}"
done

passed=0
summary=""
for g in $GROUPS_; do
    ok=$(cat "$LOGS"/run*-"$g".result 2>/dev/null | grep -c '^PASS')
    summary="$summary $g $ok/$RUNS"
done
for ((n = 1; n <= RUNS; n++)); do
    all=1
    for g in $GROUPS_; do
        [ "$(cat "$LOGS/run$n-$g.result" 2>/dev/null)" = PASS ] || all=0
    done
    passed=$((passed + all))
done
echo "soak: $passed of $RUNS runs passed (${summary# }); logs in $LOGS/"
[ $passed = "$RUNS" ]
