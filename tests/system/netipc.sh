#!/bin/bash
# The network IPC scenario (docs/network.md), sourced by tools/run-tests.sh
# (uses its result(), $BUILD, $LOGS) or run alone: tests/system/netipc.sh.
# Three machines on one QEMU socket network (multicast: every machine hears
# every frame), each with the PCI server, the virtio-blk driver and file
# server (its /etc/netipc.conf on a disk made here, with keys made here by
# netipc-keygen), the virtio-net driver, the network server and the network
# IPC server.  netipctest (tests/system/netipctest/) on node 2 calls node
# 1's kv and answers UDP echo; on node 3, whose key is not the one node 2
# knows, it checks its calls get nowhere; on node 1 it calls node 2's kv,
# checks the refusals, measures, has node 2's kv stopped and its network
# server killed, and asks for node 2's machine to be killed in the middle
# of calls; node 3 also starts three servers that must refuse to start
# (a configuration mistake, no file, no clock ports).

netipc_key() {              # netipc_key -> "SECRET PUBLIC"
    "$BUILD/tools/netipc-keygen" | awk '{ printf "%s ", $2 } END { print "" }'
}

netipc_manifest() {         # netipc_manifest DIR ADDR ROLE
    {
        echo "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console"
        echo "pci priority=180 pci register=/dev/pci"
        echo "blk priority=170 needs=pci register=/dev/blk0 restart=always limit=10"
        echo "fs priority=160 ports=0x70-0x71 needs=blk register=/fs restart=always limit=10"
        echo "netdev priority=170 needs=pci register=/dev/net0 restart=always limit=10"
        echo "net priority=160 needs=netdev register=/svc/net args=ip=$2/24 restart=always limit=10"
        case $3 in
            intruder)
                echo "netipc priority=140 ports=0x70-0x71 needs=net,fs register=/net args=/etc/netipc.conf restart=always limit=10"
                echo "netipctest priority=120 needs=netipc args=$3 restart=never"
                # Servers that must refuse to start, each saying why: a mistake in the file, no file, no clock.
                echo "badconf priority=130 module=netipc.elf ports=0x70-0x71 needs=fs register=/bad args=/etc/bad.conf restart=never"
                echo "noconf priority=130 module=netipc.elf ports=0x70-0x71 needs=fs register=/none args=/etc/none.conf restart=never"
                echo "noclock priority=130 module=netipc.elf needs=fs register=/noclock args=/etc/netipc.conf restart=never" ;;
            *)
                echo "kv priority=150 module=kvd.elf register=/svc/kv restart=always limit=10"
                echo "netipc priority=140 ports=0x70-0x71 needs=net,fs,kv register=/net args=/etc/netipc.conf restart=always limit=10"
                echo "netipctest priority=120 needs=netipc procs args=$3 restart=never" ;;
        esac
    } > "$1/manifest"
}

netipc_node() {             # netipc_node LOG MANIFEST DISK MAC NETDEV; its QEMU's pid in NETIPC_PID
    local u=$BUILD/user
    tools/qemu-run.sh --accel tcg --mem 384 --timeout "${NETIPC_TIMEOUT:-900}" --kernel "$BUILD/pith.bin" \
        --module "$u/init.elf" --module "$u/memd.elf" --module "$2" --module "$u/console.elf" \
        --module "$u/pci.elf" --module "$u/blk.elf" --module "$u/fs.elf" --module "$u/netdev.elf" \
        --module "$u/net.elf" --module "$u/kvd.elf" --module "$u/netipc.elf" --module "$u/netipctest.elf" \
        --disk "$3" --mac "$4" --net "$5" \
        --debugcon "$1.debugcon" --serial "$1.serial" 2> "$1.runner" &
    NETIPC_PID=$!
}

netipc_wait_for() {         # netipc_wait_for FILE PATTERN SECONDS PID
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -aqE -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

netipc_collect() {          # netipc_collect LOG: its netipctest lines as results
    local line name
    while IFS= read -r line; do
        case $line in
            "netipctest: PASS "*) result PASS "netipc/${line#netipctest: PASS }" ;;
            "netipctest: FAIL "*) name=${line#netipctest: FAIL }; result FAIL "netipc/${name%%:*}" "${name#*: }" ;;
        esac
    done < <(grep -aE '^netipctest: (PASS|FAIL) ' "$1")
}

netipc_three_nodes() {
    local dir=$BUILD/netipc a=$LOGS/netipc-a b=$LOGS/netipc-b c=$LOGS/netipc-c port net pa pb pc k1 k2 k3 kx
    rm -rf "$dir"
    rm -f "$a".* "$b".* "$c".*  # old logs would answer the waits below
    mkdir -p "$dir/a/etc" "$dir/b/etc" "$dir/c/etc" "$dir/ma" "$dir/mb" "$dir/mc"
    # Keys: nodes 1 and 2, node 3 as node 2 knows it, and the other one node 3 has.
    read -r -a k1 <<< "$(netipc_key)"
    read -r -a k2 <<< "$(netipc_key)"
    read -r -a k3 <<< "$(netipc_key)"
    read -r -a kx <<< "$(netipc_key)"
    if [ ${#k1[@]} != 2 ] || [ ${#kx[@]} != 2 ]; then
        result FAIL netipc/keys "netipc-keygen gave no keys"
        return
    fi
    printf '%s\n' "node 1" "port 7700" "secret ${k1[0]}" "peer 2 10.0.0.2 7700 ${k2[1]}" \
        "export /svc/kv" "import 2 /svc/kv" > "$dir/a/etc/netipc.conf"
    printf '%s\n' "node 2" "port 7700" "secret ${k2[0]}" "peer 1 10.0.0.1 7700 ${k1[1]}" \
        "peer 3 10.0.0.3 7700 ${k3[1]}" "export /svc/kv" "import 1 /svc/kv" > "$dir/b/etc/netipc.conf"
    printf '%s\n' "node 3" "port 7700" "secret ${kx[0]}" "peer 2 10.0.0.2 7700 ${k2[1]}" \
        "import 2 /svc/kv" > "$dir/c/etc/netipc.conf"
    printf '%s\n' "node 4" "port 7704" "secret ${kx[0]}" "peer 4 10.0.0.2 7700 ${k2[1]}" > "$dir/c/etc/bad.conf"
    for n in a b c; do
        tools/mkdisk.sh "$dir/$n" "$dir/$n.img" 4 > /dev/null || {
            result FAIL netipc/disks "mkdisk.sh failed"
            return
        }
    done
    netipc_manifest "$dir/ma" 10.0.0.1 check
    netipc_manifest "$dir/mb" 10.0.0.2 peer
    netipc_manifest "$dir/mc" 10.0.0.3 intruder
    port=$(( 20000 + RANDOM % 20000 ))
    net="socket,mcast=230.0.0.1:$port,localaddr=127.0.0.1"
    netipc_node "$b" "$dir/mb/manifest" "$dir/b.img" 52:54:00:12:35:02 "$net"
    pb=$NETIPC_PID
    netipc_node "$a" "$dir/ma/manifest" "$dir/a.img" 52:54:00:12:35:01 "$net"
    pa=$NETIPC_PID
    netipc_node "$c" "$dir/mc/manifest" "$dir/c.img" 52:54:00:12:35:03 "$net"
    pc=$NETIPC_PID
    # Node 2's machine dies when node 1's test asks (in the middle of its calls), once node 3's is done;
    # a test that ended early ends the wait too.
    if netipc_wait_for "$a.debugcon" '^netipctest: (kill node 2 now|[0-9]+ passed)' "${NETIPC_TIMEOUT:-900}" "$pa"; then
        netipc_wait_for "$c.debugcon" '^netipctest: [0-9]+ passed' 40 "$pc"
        kill "$pb" 2>/dev/null
    fi
    netipc_wait_for "$a.debugcon" '^netipctest: [0-9]+ passed' 120 "$pa"
    kill "$pa" "$pb" "$pc" 2>/dev/null
    wait "$pa" "$pb" "$pc" 2>/dev/null
    for n in "$a" "$b" "$c"; do
        tr -d '\r' < "$n.debugcon" > "$n.log"
    done
    netipc_collect "$a.log"
    netipc_collect "$c.log"
    for n in "$a:1" "$c:3"; do
        if grep -aqE '^netipctest: [0-9]+ passed, 0 failed' "${n%:*}.log"; then
            result PASS "netipc/netipctest_complete_node${n#*:}"
        else
            result FAIL "netipc/netipctest_complete_node${n#*:}" "no clean summary (see ${n%:*}.debugcon, $b.debugcon)"
        fi
    done
    # Node 2 counted node 3's hellos as failed authentication, and took none of its calls.
    if grep -aqE '^netipc: node 2: dropped auth_failed=[1-9]' "$b.log"; then
        result PASS netipc/wrong_key_counted
    else
        result FAIL netipc/wrong_key_counted "node 2 logged no failed authentication (see $b.debugcon)"
    fi
    # Node 3's servers that must not start said why, each in its own words.
    local refusal bad=""
    for refusal in "netipc: /etc/bad.conf: a peer has this node's own number" \
                   "netipc: cannot read /etc/none.conf (error " \
                   "netipc: cannot read the real-time clock (error "; do
        grep -aqF -- "$refusal" "$c.log" || bad="$bad '$refusal'"
    done
    if [ -z "$bad" ]; then
        result PASS netipc/bad_configuration_refused
    else
        result FAIL netipc/bad_configuration_refused "not said:$bad (see $c.debugcon)"
    fi
    # Node 2's network server was killed: its network IPC server opened its port again.
    if grep -aqE '^netipc: node 2: UDP port 7700 open again' "$b.log"; then
        result PASS netipc/socket_reopened
    else
        result FAIL netipc/socket_reopened "node 2 never said its port was open again (see $b.debugcon)"
    fi
    grep -ah '^bench pith.netipc\|^# netipc\|^netipctest: [a-z ]*: k' "$a.log" "$c.log"
}

if [ -n "${NETIPC_FUNCTIONS_ONLY:-}" ]; then
    :                       # make bench calls netipc_three_nodes itself (tools/bench.sh)
elif [ -z "${BASH_SOURCE[1]:-}" ]; then
    cd "$(dirname "$0")/../.."
    BUILD=${BUILD:-build}
    LOGS=$BUILD/test-logs
    mkdir -p "$LOGS"
    passed=0 failed=0
    result() { echo "TEST $1 $2${3:+: $3}"; if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }
    netipc_three_nodes
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
else
    netipc_three_nodes
fi
