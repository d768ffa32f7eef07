#!/bin/bash
# The network IPC scenario (docs/network.md), sourced by tools/run-tests.sh
# (uses its result(), $BUILD, $LOGS) or run alone: tests/system/netipc.sh.
# Two machines on a QEMU socket network, each with the PCI server, the
# virtio-blk driver and file server (its /etc/netipc.conf on a disk made
# here with keys made here by netipc-keygen), the virtio-net driver, the
# network server, kv and the network IPC server.  Node 1 also runs an
# intruder: a second network IPC server claiming to be node 3, which node
# 2 knows, with the wrong key.  netipctest (tests/system/netipctest/) on
# node 2 calls node 1's kv and answers UDP echo; on node 1 it calls node
# 2's kv, checks the refusals, measures, has node 2's kv stopped and
# its network server killed, and asks for node 2's machine to
# be killed in the middle of calls.

netipc_key() {              # netipc_key -> "SECRET PUBLIC"
    "$BUILD/tools/netipc-keygen" | awk '{ printf "%s ", $2 } END { print "" }'
}

netipc_manifest() {         # netipc_manifest DIR ADDR ROLE [INTRUDER]
    {
        echo "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console"
        echo "pci priority=180 pci register=/dev/pci"
        echo "blk priority=170 needs=pci register=/dev/blk0 restart=always limit=10"
        echo "fs priority=160 ports=0x70-0x71 needs=blk register=/fs restart=always limit=10"
        echo "netdev priority=170 needs=pci register=/dev/net0 restart=always limit=10"
        echo "net priority=160 needs=netdev register=/svc/net args=ip=$2/24 restart=always limit=10"
        echo "kv priority=150 module=kvd.elf register=/svc/kv restart=always limit=10"
        echo "netipc priority=140 ports=0x70-0x71 needs=net,fs,kv register=/net args=/etc/netipc.conf restart=always limit=10"
        if [ -n "${4:-}" ]; then
            echo "intruder priority=140 module=netipc.elf ports=0x70-0x71 needs=net,fs register=/intruder args=/etc/intruder.conf restart=never"
            echo "netipctest priority=120 needs=netipc,intruder args=$3 restart=never"
        else
            echo "netipctest priority=120 needs=netipc procs args=$3 restart=never"
        fi
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

netipc_two_nodes() {
    local dir=$BUILD/netipc a=$LOGS/netipc-a b=$LOGS/netipc-b port pa pb line name k1 k2 k3 kx
    rm -rf "$dir"
    rm -f "$a".* "$b".*         # old logs would answer the waits below
    mkdir -p "$dir/a/etc" "$dir/b/etc" "$dir/ma" "$dir/mb"
    # Keys: nodes 1 and 2, node 3 as node 2 knows it, and the wrong one the intruder has.
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
    printf '%s\n' "node 3" "port 7702" "secret ${kx[0]}" "peer 2 10.0.0.2 7700 ${k2[1]}" \
        "import 2 /svc/kv" "publish /intruder" > "$dir/a/etc/intruder.conf"
    printf '%s\n' "node 2" "port 7700" "secret ${k2[0]}" "peer 1 10.0.0.1 7700 ${k1[1]}" \
        "peer 3 10.0.0.1 7702 ${k3[1]}" "export /svc/kv" "import 1 /svc/kv" > "$dir/b/etc/netipc.conf"
    tools/mkdisk.sh "$dir/a" "$dir/a.img" 4 > /dev/null && tools/mkdisk.sh "$dir/b" "$dir/b.img" 4 > /dev/null || {
        result FAIL netipc/disks "mkdisk.sh failed"
        return
    }
    netipc_manifest "$dir/ma" 10.0.0.1 check intruder
    netipc_manifest "$dir/mb" 10.0.0.2 peer
    port=$(( 20000 + RANDOM % 20000 ))
    netipc_node "$b" "$dir/mb/manifest" "$dir/b.img" 52:54:00:12:35:02 "socket,listen=127.0.0.1:$port"
    pb=$NETIPC_PID
    for ((i = 0; i < 50; i++)); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
    netipc_node "$a" "$dir/ma/manifest" "$dir/a.img" 52:54:00:12:35:01 "socket,connect=127.0.0.1:$port"
    pa=$NETIPC_PID
    # Node 2's machine dies when node 1's test asks, in the middle of its calls.
    if netipc_wait_for "$a.debugcon" '^netipctest: kill node 2 now' "${NETIPC_TIMEOUT:-900}" "$pa"; then
        kill "$pb" 2>/dev/null
    fi
    netipc_wait_for "$a.debugcon" '^netipctest: [0-9]+ passed' 120 "$pa"
    kill "$pa" "$pb" 2>/dev/null
    wait "$pa" "$pb" 2>/dev/null
    tr -d '\r' < "$a.debugcon" > "$a.log"
    tr -d '\r' < "$b.debugcon" > "$b.log"
    while IFS= read -r line; do
        case $line in
            "netipctest: PASS "*) result PASS "netipc/${line#netipctest: PASS }" ;;
            "netipctest: FAIL "*) name=${line#netipctest: FAIL }; result FAIL "netipc/${name%%:*}" "${name#*: }" ;;
        esac
    done < <(grep -aE '^netipctest: (PASS|FAIL) ' "$a.log")
    if grep -aqE '^netipctest: [0-9]+ passed, 0 failed' "$a.log"; then
        result PASS netipc/netipctest_complete
    else
        result FAIL netipc/netipctest_complete "no clean summary (see $a.debugcon, $b.debugcon)"
    fi
    # Node 2 counted the intruder's hellos as failed authentication, and took none of its calls.
    if grep -aqE '^netipc: node 2: dropped auth_failed=[1-9]' "$b.log"; then
        result PASS netipc/wrong_key_counted
    else
        result FAIL netipc/wrong_key_counted "node 2 logged no failed authentication (see $b.debugcon)"
    fi
    # Node 2's network server was killed: its network IPC server opened its port again.
    if grep -aqE '^netipc: node 2: UDP port 7700 open again' "$b.log"; then
        result PASS netipc/socket_reopened
    else
        result FAIL netipc/socket_reopened "node 2 never said its port was open again (see $b.debugcon)"
    fi
    grep -a '^bench pith.netipc\|^# netipc\|^netipctest: [a-z ]*: k' "$a.log"
}

if [ -n "${NETIPC_FUNCTIONS_ONLY:-}" ]; then
    :                       # make bench calls netipc_two_nodes itself (tools/bench.sh)
elif [ -z "${BASH_SOURCE[1]:-}" ]; then
    cd "$(dirname "$0")/../.."
    BUILD=${BUILD:-build}
    LOGS=$BUILD/test-logs
    mkdir -p "$LOGS"
    passed=0 failed=0
    result() { echo "TEST $1 $2${3:+: $3}"; if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }
    netipc_two_nodes
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
else
    netipc_two_nodes
fi
