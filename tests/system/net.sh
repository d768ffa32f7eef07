# The network scenario, sourced by tools/run-tests.sh (uses its result(),
# $BUILD, $LOGS): two machines joined by a QEMU socket network (node B
# listens on a local TCP port, node A connects; no host network).  Each
# runs the PCI server, the virtio-net driver and the network server with
# its own static address (the manifest's args=); node B runs nettest's
# echo servers, node A nettest's checks (tests/system/nettest/): ping,
# UDP and TCP through every message and error, the driver killed under
# traffic, the UDP round trip.  Standalone: tests/system/net.sh.



net_manifest() {            # net_manifest NAME ADDR NETTEST-ARGS -> path
    mkdir -p "$BUILD/modules/$1"
    printf '%s\n' "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console" \
        "pci priority=180 pci register=/dev/pci" \
        "netdev priority=170 needs=pci register=/dev/net0 restart=always limit=10" \
        "net priority=160 needs=netdev register=/svc/net args=ip=$2/24 restart=always limit=10" \
        "nettest priority=120 needs=net procs args=$3 restart=never" > "$BUILD/modules/$1/manifest"
    echo "$BUILD/modules/$1/manifest"
}

# Boots one node in the background: net_node LOG MANIFEST MAC NETDEV; its QEMU's pid in NET_PID.
net_node() {
    local NET_SU=$BUILD/user
    tools/qemu-run.sh --accel tcg --timeout "${NET_TIMEOUT:-400}" --kernel "$BUILD/pith.bin" \
        --module "$NET_SU/init.elf" --module "$NET_SU/memd.elf" --module "$2" --module "$NET_SU/console.elf" \
        --module "$NET_SU/pci.elf" --module "$NET_SU/netdev.elf" --module "$NET_SU/net.elf" \
        --module "$NET_SU/nettest.elf" --mac "$3" --net "$4" \
        --debugcon "$1.debugcon" --serial "$1.serial" 2> "$1.runner" &
    NET_PID=$!
}

net_wait_for() {            # net_wait_for FILE PATTERN SECONDS PID
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -aqE -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

net_two_nodes() {
    local a=$LOGS/net-a b=$LOGS/net-b port ma mb pa pb line name
    # A free local port for the link (QEMU's socket netdev listens on it).
    rm -f "$a".* "$b".*
    port=$(( 20000 + RANDOM % 20000 ))
    ma=$(net_manifest scn-net-a 10.0.0.1 check)
    mb=$(net_manifest scn-net-b 10.0.0.2 serve)
    net_node "$b" "$mb" 52:54:00:12:34:02 "socket,listen=127.0.0.1:$port"
    pb=$NET_PID
    # A's QEMU must find B's listening: wait for B's QEMU to open the port.
    for ((i = 0; i < 50; i++)); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
    net_node "$a" "$ma" 52:54:00:12:34:01 "socket,connect=127.0.0.1:$port"
    pa=$NET_PID
    net_wait_for "$a.debugcon" '^nettest: [0-9]+ passed' "${NET_TIMEOUT:-400}" "$pa"
    kill "$pa" "$pb" 2>/dev/null
    wait "$pa" "$pb" 2>/dev/null
    tr -d '\r' < "$a.debugcon" > "$a.log"
    while IFS= read -r line; do
        case $line in
            "nettest: PASS "*) result PASS "net/${line#nettest: PASS }" ;;
            "nettest: FAIL "*) name=${line#nettest: FAIL }; result FAIL "net/${name%%:*}" "${name#*: }" ;;
        esac
    done < <(grep -aE '^nettest: (PASS|FAIL) ' "$a.log")
    if grep -aqE '^nettest: [0-9]+ passed, 0 failed' "$a.log"; then
        result PASS net/nettest_complete
    else
        result FAIL net/nettest_complete "no clean summary (see $a.debugcon, $b.debugcon)"
    fi
    grep -a '^nettest: ping\|^bench pith.net' "$a.log"
}

if [ -z "${BASH_SOURCE[1]:-}" ]; then
    # Run on its own: tests/system/net.sh
    cd "$(dirname "$0")/../.."
    BUILD=${BUILD:-build}
    LOGS=$BUILD/test-logs
    mkdir -p "$LOGS"
    passed=0 failed=0
    result() { echo "TEST $1 $2${3:+: $3}"; if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }
    net_two_nodes
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
else
    net_two_nodes
fi
