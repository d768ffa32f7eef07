# Storage scenarios, sourced by tools/run-tests.sh (uses its result(),
# $BUILD, $LOGS): the PCI server and the virtio-blk driver booted with a
# disk image, the block protocol's test program (tests/system/blktest/)
# as two clients; the same with configuration space through the legacy
# ports; and make run's system with no disk at all.

. tests/system/session.sh

SU=$BUILD/user

# A 16 MiB raw image whose first 32 sectors and last one begin "PITH%08u" (their numbers).
storage_image() {
    local img=$1 s
    rm -f "$img"
    truncate -s 16M "$img"
    for s in $(seq 0 31) 32767; do
        printf 'PITH%08u' "$s" | dd of="$img" bs=512 seek="$s" conv=notrunc status=none
    done
}

storage_manifest() {        # storage_manifest NAME PCI-PROGRAM-LINE PCI-PROGRAM-NAME CLIENT-LINE... -> path
    local name=$1 pci=$2 pciname=$3
    shift 3
    mkdir -p "$BUILD/modules/$name"
    printf '%s\n' "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console" "$pci" \
        "blk priority=170 needs=$pciname register=/dev/blk0 restart=always limit=10" "$@" \
        > "$BUILD/modules/$name/manifest"
    echo "$BUILD/modules/$name/manifest"
}

# Turns the test program's lines into results: "PROG: PASS name" -> storage/PREFIX/name.
storage_collect() {         # storage_collect LOG PREFIX PROG...
    local log=$1 prefix=$2 prog line name
    shift 2
    for prog in "$@"; do
        while IFS= read -r line; do
            case $line in
                "$prog: PASS "*) result PASS "storage/$prefix${line#"$prog: PASS "}" ;;
                "$prog: FAIL "*) name=${line#"$prog: FAIL "}; result FAIL "storage/$prefix${name%%:*}" "${name#*: }" ;;
            esac
        done < <(grep -aE "^$prog: (PASS|FAIL) " "$log" | tr -d '\r')
        if grep -aqE "^$prog: [0-9]+ passed, 0 failed" "$log"; then
            result PASS "storage/$prefix${prog}_complete"
        else
            result FAIL "storage/$prefix${prog}_complete" "no clean summary (see $log)"
        fi
    done
}

storage_disk() {
    local log=$LOGS/storage-disk img=$LOGS/storage-disk.img m
    storage_image "$img"
    m=$(storage_manifest scn-storage "pci priority=180 pci register=/dev/pci" pci \
        "blktest priority=120 needs=blk procs register=/test/blka restart=never" \
        "blktest-b priority=120 module=blktest.elf needs=blk restart=never")
    SESSION_DISK=$img session_start "$log" "$SU/init.elf" "$SU/memd.elf" "$m" "$SU/console.elf" "$SU/pci.elf" \
        "$SU/blk.elf" "$SU/blktest.elf"
    session_wait_log '^blktest: [0-9]+ passed' 200
    session_wait_log '^blktest-b: [0-9]+ passed' 30
    session_stop
    local d=$log.debugcon
    storage_collect "$d" "" blktest blktest-b
    if grep -aq 'pci: [0-9]* functions through ECAM' "$d" &&
        grep -aq 'pci: 00:03.0 1af4:1042 class 010000 INTA GSI 23 .*BAR4 mem' "$d"; then
        result PASS storage/pci_enumerates_through_ecam
    else
        result FAIL storage/pci_enumerates_through_ecam "see $d"
    fi
    local most
    most=$(sed -n 's/^blk: \([0-9]*\) requests in flight at once.*/\1/p' "$d" | sort -n | tail -1)
    if [ "${most:-0}" -ge 2 ]; then
        result PASS storage/several_requests_in_flight
        echo "  (the driver had $most requests in flight at once)"
    else
        result FAIL storage/several_requests_in_flight "at most ${most:-0} in flight (see $d)"
    fi
    if grep -aq 'init: blk restarted' "$d" && [ "$(grep -ac 'pci: 00:03.0 (1af4:1042) claimed' "$d")" = 1 ] &&
        [ "$(grep -ac '^blk: /dev/blk0: 32768 sectors' "$d")" = 2 ]; then
        result PASS storage/killed_driver_restarted_and_claims_again
    else
        result FAIL storage/killed_driver_restarted_and_claims_again "see $d"
    fi
    grep -a 'blktest: killed the driver' "$d"
}

# Configuration space through ports 0xCF8/0xCFC (the server named pci-legacy ignores the ECAM).
storage_legacy_ports() {
    local log=$LOGS/storage-legacy img=$LOGS/storage-legacy.img m
    storage_image "$img"
    m=$(storage_manifest scn-storage-legacy "pci-legacy priority=180 module=pci.elf pci register=/dev/pci" \
        pci-legacy "blktest-solo priority=120 module=blktest.elf needs=blk restart=never")
    SESSION_DISK=$img session_start "$log" "$SU/init.elf" "$SU/memd.elf" "$m" "$SU/console.elf" "$SU/pci.elf" \
        "$SU/blk.elf" "$SU/blktest.elf"
    session_wait_log '^blktest-solo: [0-9]+ passed' 120
    session_stop
    storage_collect "$log.debugcon" legacy_ports/ blktest-solo
    if grep -aq 'pci: [0-9]* functions through ports 0xCF8/0xCFC' "$log.debugcon"; then
        result PASS storage/legacy_ports/pci_enumerates_through_ports
    else
        result FAIL storage/legacy_ports/pci_enumerates_through_ports "see $log.debugcon"
    fi
}

# make run's system (its manifest) with no disk: blk says so and ends cleanly; the shell comes up.
storage_no_disk() {
    local log=$LOGS/storage-nodisk
    session_start "$log" "$SU/init.elf" "$SU/memd.elf" "$BUILD/modules/manifest" "$SU/console.elf" "$SU/shell.elf" \
        "$SU/kvd.elf" "$SU/pci.elf" "$SU/blk.elf"
    if session_wait 'pith> ' 60 && session_wait_log 'blk: no virtio-blk device' 30 &&
        session_cmd ps 'exited .* blk$' && session_cmd names '/dev/pci +pci'; then
        result PASS storage/no_disk_blk_says_so_and_boot_goes_on
    else
        result FAIL storage/no_disk_blk_says_so_and_boot_goes_on "see $log"
    fi
    session_stop
}

storage_disk
storage_legacy_ports
storage_no_disk
