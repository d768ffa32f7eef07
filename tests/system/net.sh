# The network scenario, sourced by tools/run-tests.sh (uses its result(),
# $BUILD, $LOGS): two machines joined by a QEMU socket network (node B
# listens on a local TCP port, node A connects; no host network).  Each
# runs the PCI server, the virtio-net driver and the network server with
# its own static address (the manifest's args=); node B runs nettest's
# echo servers, node A nettest's checks (tests/system/nettest/): ping,
# UDP and TCP through every message and error, the driver killed under
# traffic, the UDP round trip; node B's shell runs ifconfig and ping.
# Then one machine on QEMU's user network gets its address by DHCP, and
# one without a network device boots without the network.
# Standalone: tests/system/net.sh.



net_manifest() {            # net_manifest NAME ARGS NETTEST-ARGS [LINE...] -> path (ARGS: the network server's)
    mkdir -p "$BUILD/modules/$1"
    printf '%s\n' "${@:4}" "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console" \
        "pci priority=180 pci register=/dev/pci" \
        "netdev priority=170 needs=pci register=/dev/net0 restart=always limit=10" \
        "net priority=160 needs=netdev register=/svc/net args=$2 restart=always limit=10" \
        "nettest priority=120 needs=net procs args=$3 restart=never" > "$BUILD/modules/$1/manifest"
    echo "$BUILD/modules/$1/manifest"
}

# Boots one node in the background: net_node LOG MANIFEST MAC NETDEV; its QEMU's pid in NET_PID.
net_node() {
    local NET_SU=$BUILD/user
    tools/qemu-run.sh --accel tcg --timeout "${NET_TIMEOUT:-400}" --kernel "$BUILD/pith.bin" \
        --module "$NET_SU/init.elf" --module "$NET_SU/memd.elf" --module "$2" --module "$NET_SU/console.elf" \
        --module "$NET_SU/pci.elf" --module "$NET_SU/netdev.elf" --module "$NET_SU/net.elf" \
        --module "$NET_SU/nettest.elf" ${4:+--mac "$3" --net "$4"} \
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

# The shell's network commands on node B, once node A is done.
net_shell_checks() {
    if session_cmd ifconfig 'en0: 10\.0\.0\.2 netmask 255\.255\.255\.0 gateway 0\.0\.0\.0' &&
        session_wait 'ether 52:54:00:12:34:02, driver up' 1; then
        result PASS net/shell_ifconfig
    else
        result FAIL net/shell_ifconfig "see $1"
    fi
    if session_cmd 'ping 10.0.0.1 2' '10\.0\.0\.1: 2 sent, 2 answered' 20 && session_wait 'reply from 10\.0\.0\.1: seq 1' 1; then
        result PASS net/shell_ping
    else
        result FAIL net/shell_ping "see $1"
    fi
    if session_cmd 'ping 10.0.0.77 1' '10\.0\.0\.77: 1 sent, 0 answered' 20 && session_wait 'no reply from' 1 &&
        session_cmd 'ping 10.9.9.9' 'ping: 10\.9\.9\.9: no route to it' && session_cmd 'ping 10.0.0' 'ping: usage'; then
        result PASS net/shell_ping_refusals
    else
        result FAIL net/shell_ping_refusals "see $1"
    fi
}

net_two_nodes() {
    local a=$LOGS/net-a b=$LOGS/net-b port ma mb pa line name i
    rm -f "$a".* "$b".*
    # A local port for the link: node B's QEMU listens on it, node A's connects.
    port=$(( 20000 + RANDOM % 20000 ))
    ma=$(net_manifest scn-net-a ip=10.0.0.1/24 check)
    mb=$(net_manifest scn-net-b ip=10.0.0.2/24 serve "shell priority=100 needs=console procs restart=always")
    SESSION_NET="socket,listen=127.0.0.1:$port" SESSION_MAC=52:54:00:12:34:02 SESSION_TIMEOUT=${NET_TIMEOUT:-400} \
        session_start "$b" "$BUILD/user/init.elf" "$BUILD/user/memd.elf" "$mb" "$BUILD/user/console.elf" \
        "$BUILD/user/shell.elf" "$BUILD/user/pci.elf" "$BUILD/user/netdev.elf" "$BUILD/user/net.elf" \
        "$BUILD/user/nettest.elf"
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    net_node "$a" "$ma" 52:54:00:12:34:01 "socket,connect=127.0.0.1:$port"
    pa=$NET_PID
    net_wait_for "$a.debugcon" '^nettest: [0-9]+ passed' "${NET_TIMEOUT:-400}" "$pa"
    tr -d '\r' < "$a.debugcon" > "$a.log"
    if session_wait 'pith> ' 30; then
        net_shell_checks "$b"
    else
        result FAIL net/shell_on_node_b "no prompt (see $b)"
    fi
    kill "$pa" 2>/dev/null
    wait "$pa" 2>/dev/null
    session_stop
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
    # The driver, killed, came back once and the network server went on with it.
    if grep -aq 'init: netdev restarted' "$a.log" && [ "$(grep -ac '^netdev: /dev/net0: 52:54:00:12:34:01' "$a.log")" = 2 ] &&
        [ "$(grep -ac '^init: started net ' "$a.log")" = 1 ] && ! grep -aq 'init: restarting net ' "$a.log"; then
        result PASS net/driver_restarted_server_did_not
    else
        result FAIL net/driver_restarted_server_did_not "see $a.log"
    fi
    grep -a '^nettest: ping\|^nettest: killed\|^netdev: a frame\|^bench pith.net' "$a.log" "$b.debugcon" | sed 's/^/  /'
}

# One machine on QEMU's user network, whose DHCP server and gateway are
# inside QEMU (the test sends nothing beyond them): the network server,
# started without addresses, asks by DHCP.
net_dhcp() {
    local d=$LOGS/net-dhcp m line name
    rm -f "$d".*
    m=$(net_manifest scn-net-dhcp dhcp dhcp)
    net_node "$d" "$m" 52:54:00:12:34:03 "user"
    net_wait_for "$d.debugcon" '^nettest: [0-9]+ passed' "${NET_TIMEOUT:-400}" "$NET_PID"
    kill "$NET_PID" 2>/dev/null
    wait "$NET_PID" 2>/dev/null
    tr -d '\r' < "$d.debugcon" > "$d.log"
    while IFS= read -r line; do
        case $line in
            "nettest: PASS "*) result PASS "net/${line#nettest: PASS }" ;;
            "nettest: FAIL "*) name=${line#nettest: FAIL }; result FAIL "net/${name%%:*}" "${name#*: }" ;;
        esac
    done < <(grep -aE '^nettest: (PASS|FAIL) ' "$d.log")
    grep -aqE '^nettest: [0-9]+ passed, 0 failed' "$d.log" || result FAIL net/dhcp_complete "see $d.debugcon"
    grep -a '^nettest: DHCP' "$d.log" | sed 's/^/  /'
}

# A machine without a network device: the driver and the server each say
# so and end without being restarted; the rest of the boot goes on.
net_no_device() {
    local d=$LOGS/net-nodevice m
    rm -f "$d".*
    m=$(net_manifest scn-net-nodevice ip=10.0.0.1/24 none)
    sed -i '/^nettest /d' "$m"
    net_node "$d" "$m" "" ""
    net_wait_for "$d.debugcon" 'init: net \(pid [0-9]+\) ended' 60 "$NET_PID"
    sleep 1
    kill "$NET_PID" 2>/dev/null
    wait "$NET_PID" 2>/dev/null
    if grep -aq '^netdev: no virtio-net device' "$d.debugcon" &&
        grep -aq '^net: no network device (/dev/net0 is not published)' "$d.debugcon" &&
        grep -aq 'init: net (pid [0-9]*) exited with status 0' "$d.debugcon" &&
        ! grep -aq 'init: restarting net' "$d.debugcon"; then
        result PASS net/no_device_driver_and_server_say_so
    else
        result FAIL net/no_device_driver_and_server_say_so "see $d.debugcon"
    fi
}

# make bench's pith.net_udp_rtt (tools/bench.sh): node B serves, node A
# only measures; plain emulation whatever the bench mode (two machines
# under icount would each skip their idle time), so the unit is ns.
net_bench() {               # net_bench LOGDIR -> the bench line, or nothing
    local a=$1/net-a b=$1/net-b port ma mb pa pb
    rm -f "$a".* "$b".*
    port=$(( 20000 + RANDOM % 20000 ))
    ma=$(net_manifest bench-net-a ip=10.0.0.1/24 bench)
    mb=$(net_manifest bench-net-b ip=10.0.0.2/24 serve)
    net_node "$b" "$mb" 52:54:00:12:34:02 "socket,listen=127.0.0.1:$port"
    pb=$NET_PID
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    net_node "$a" "$ma" 52:54:00:12:34:01 "socket,connect=127.0.0.1:$port"
    pa=$NET_PID
    net_wait_for "$a.debugcon" '^nettest: [0-9]+ passed' 300 "$pa"
    kill "$pa" "$pb" 2>/dev/null
    wait "$pa" "$pb" 2>/dev/null
    tr -d '\r' < "$a.debugcon" | grep -a '^bench pith.net_udp_rtt'
}

if [ -n "${NET_FUNCTIONS_ONLY:-}" ]; then
    :
elif [ -z "${BASH_SOURCE[1]:-}" ]; then
    # Run on its own: tests/system/net.sh
    cd "$(dirname "$0")/../.."
    . tests/system/session.sh
    BUILD=${BUILD:-build}
    LOGS=$BUILD/test-logs
    mkdir -p "$LOGS"
    passed=0 failed=0
    result() { echo "TEST $1 $2${3:+: $3}"; if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }
    net_two_nodes
    net_dhcp
    net_no_device
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
else
    . tests/system/session.sh
    net_two_nodes
    net_dhcp
    net_no_device
fi
