# File-system scenarios, sourced by tools/run-tests.sh (uses its result(),
# $BUILD, $LOGS): make run's system on an ext2 image made by the host's
# mke2fs, driven through the shell's file commands; the image checked by
# the host's e2fsck afterwards and booted again; the file server and the
# disk driver killed under a writer; images the server must refuse.

. tests/system/session.sh

FU=$BUILD/user
export PATH=$PATH:/usr/sbin:/sbin       # e2fsck, debugfs

# The modules of make run.
fs_modules() {
    echo "$FU/init.elf $FU/memd.elf ${1:-$BUILD/modules/manifest} $FU/console.elf $FU/shell.elf $FU/kvd.elf" \
        "$FU/pci.elf $FU/blk.elf $FU/fs.elf ${2:-}"
}

fs_check() {                # fs_check NAME LINE PATTERN: FAIL unless the answer has PATTERN
    if session_cmd "$2" "$3"; then
        result PASS "fs/$1"
    else
        result FAIL "fs/$1" "'$2' did not answer /$3/ (see $SESSION_LOG)"
        session_since | tail -5
    fi
}

# e2fsck -fn exits 0: the image is consistent.
fs_fsck_clean() {           # fs_fsck_clean NAME IMAGE
    if e2fsck -fn "$2" > "$2.fsck" 2>&1; then
        result PASS "fs/$1"
    else
        result FAIL "fs/$1" "e2fsck -fn found problems (see $2.fsck)"
        tail -5 "$2.fsck"
    fi
}

# ---- the shell's file commands on make run's disk ----------------------
fs_shell() {
    local log=$LOGS/fs-shell img=$LOGS/fs-shell.img
    tools/mkdisk.sh disk "$img" 32 > /dev/null
    # shellcheck disable=SC2046
    SESSION_DISK=$img session_start "$log" $(fs_modules "" "$FU/fstest.elf")
    if ! session_wait 'pith> ' 60 || ! session_wait_log 'fs: mounted /fs' 60; then
        result FAIL fs/make_run_mounts_the_disk "no prompt or no mount (see $log)"
        session_stop
        return
    fi
    result PASS fs/make_run_mounts_the_disk
    fs_check ls_root_shows_the_disk_folder 'ls /' 'README'
    fs_check cat_reads_a_file_from_mke2fs 'cat /etc/motd' 'Welcome to Pith'
    fs_check cat_follows_a_symlink 'cat /motd' 'Welcome to Pith'
    fs_check ls_long_format 'ls /etc' '^-rw-r--r-- +1 +0 +0 +5 hostname'
    fs_check write_makes_a_file 'write /home/note hello from the tests' 'write: /home/note: 21 bytes'
    fs_check cat_reads_what_was_written 'cat /home/note' 'hello from the tests'
    fs_check write_replaces_contents 'write /home/note second text' 'write: /home/note: 12 bytes'
    fs_check cat_sees_replacement 'cat home/note' '^second text'
    fs_check mkdir_makes_a_directory 'mkdir /home/stuff' 'pith> '
    fs_check mv_moves_across_directories 'mv /home/note /home/stuff/note' 'pith> '
    fs_check ls_sees_the_moved_file 'ls /home/stuff' ' 12 note'
    fs_check moved_file_gone_from_old_place 'cat /home/note' 'cat: /home/note: no such file or directory'
    fs_check rm_refuses_a_full_directory 'rm /home/stuff' 'rm: /home/stuff: directory not empty'
    fs_check mkdir_refuses_an_existing_name 'mkdir /home' 'mkdir: /home: exists already'
    fs_check mkdir_refuses_a_missing_parent 'mkdir /no/such' 'mkdir: /no/such: no such file or directory'
    fs_check write_into_a_file_as_directory 'write /etc/motd/x y' 'write: /etc/motd/x: not a directory'
    fs_check cat_refuses_a_directory 'cat /etc' 'cat: /etc: is a directory'
    fs_check mv_refuses_a_directory_into_itself 'mv /home /home/stuff/h' 'mv: .*: invalid argument'
    fs_check rm_refuses_the_root 'rm /' 'rm: /: invalid argument'
    fs_check rm_removes_a_file 'rm /home/stuff/note' 'pith> '
    fs_check rm_removes_an_empty_directory 'rm /home/stuff' 'pith> '
    fs_check write_for_the_next_boot 'write /home/kept this survives a reboot' '23 bytes'
    fs_check df_reports_the_volume 'df' '^/fs +32768 +[0-9]+ +[0-9]+ +8192 +[0-9]+ +1024'
    fs_check ps_shows_the_storage_servers 'ps' 'running .* fs'
    # The protocol's own test program, every message and error.
    session_cmd 'start fstest' 'start: fstest: done' > /dev/null
    session_wait_log '^fstest: [0-9]+ passed' 120
    session_stop
    local line name
    while IFS= read -r line; do
        case $line in
            "fstest: PASS "*) result PASS "fs/protocol/${line#fstest: PASS }" ;;
            "fstest: FAIL "*) name=${line#fstest: FAIL }; result FAIL "fs/protocol/${name%%:*}" "${name#*: }" ;;
        esac
    done < <(grep -aE '^fstest: (PASS|FAIL) ' "$log.debugcon" | tr -d '\r')
    if grep -aqE '^fstest: [0-9]+ passed, 0 failed' "$log.debugcon"; then
        result PASS fs/protocol_complete
    else
        result FAIL fs/protocol_complete "no clean summary (see $log.debugcon)"
    fi

    fs_fsck_clean image_clean_after_shell_session "$img"
    if [ "$(debugfs -R 'cat /home/kept' "$img" 2>/dev/null)" = "this survives a reboot" ] &&
        ! debugfs -R 'stat /home/stuff' "$img" 2>&1 | grep -q 'Inode:'; then
        result PASS fs/host_reads_what_pith_wrote
    else
        result FAIL fs/host_reads_what_pith_wrote "debugfs does not see /home/kept, or sees /home/stuff"
    fi

    # The same image booted again: what was written is there.
    log=$LOGS/fs-reboot
    # shellcheck disable=SC2046
    SESSION_DISK=$img session_start "$log" $(fs_modules)
    if session_wait 'pith> ' 60 && session_wait_log 'fs: mounted /fs' 60 &&
        session_cmd 'cat /home/kept' 'this survives a reboot'; then
        result PASS fs/written_file_survives_reboot
    else
        result FAIL fs/written_file_survives_reboot "see $log"
    fi
    session_stop
    fs_fsck_clean image_clean_after_reboot "$img"
}

# ---- servers killed under a writer -------------------------------------
# fswriter writes and syncs numbered files without end; the file server
# is killed FS_KILLS times and the disk driver twice, at uneven moments.
# Afterwards e2fsck -fy may repair what a kill left half-written, then
# e2fsck -fn must be clean and every file fswriter saw synced must be
# there, whole.
FS_KILLS=${FS_KILLS:-10}

fs_synced() { sed -n 's/^fswriter: synced \([0-9]*\).*/\1/p' "$1" | tr -d '\r'; }

fs_kills() {
    local log=$LOGS/fs-kills img=$LOGS/fs-kills.img m i n last killed=0 blk_killed=0
    tools/mkdisk.sh disk "$img" 32 > /dev/null
    mkdir -p "$BUILD/modules/scn-fs-kills"
    m=$BUILD/modules/scn-fs-kills/manifest
    printf "%s\n" "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console
pci      priority=180 pci register=/dev/pci
blk      priority=170 needs=pci register=/dev/blk0 restart=always limit=10
fs       priority=160 ports=0x70-0x71 needs=blk register=/fs restart=always limit=$((FS_KILLS + 5))
shell    priority=100 needs=console procs
fswriter priority=90 needs=fs restart=never" > "$m"
    # shellcheck disable=SC2046
    SESSION_DISK=$img session_start "$log" $(fs_modules "$m" "$FU/fswriter.elf")
    if ! session_wait 'pith> ' 60 || ! session_wait_log 'fswriter: synced 3$' 60; then
        result FAIL fs/writer_runs "fswriter synced nothing (see $log.debugcon)"
        session_stop
        return
    fi
    for i in $(seq 1 "$FS_KILLS"); do
        last=$(fs_synced "$log.debugcon" | tail -1)
        # Uneven moments: 0-3 files after the last sync, plus a pause of 0-290 ms.
        session_wait_log "fswriter: synced $((last + i % 4))$" 30
        sleep "0.$(( (i * 37) % 30 ))"
        session_cmd 'kill fs' 'kill: fs: done' && killed=$((killed + 1))
        session_wait_log 'fs: mounted /fs' 60
        if [ $((i % 5)) = 0 ]; then
            session_cmd 'kill blk' 'kill: blk: done' && blk_killed=$((blk_killed + 1))
            session_wait_log 'blk: /dev/blk0' 60
        fi
        # The writer goes on after each kill.
        n=$(fs_synced "$log.debugcon" | tail -1)
        session_wait_log "fswriter: synced $((n + 2))$" 60
    done
    session_stop
    local d=$log.debugcon synced
    synced=$(fs_synced "$d" | wc -l)
    if [ "$killed" = "$FS_KILLS" ] && [ "$blk_killed" = $((FS_KILLS / 5)) ] &&
        ! grep -aq 'fswriter: file .* gave up' "$d"; then
        result PASS fs/writer_survives_${FS_KILLS}_file_server_kills
        echo "  ($killed kills of fs, $blk_killed of blk; $synced files synced)"
    else
        result FAIL fs/writer_survives_${FS_KILLS}_file_server_kills "killed fs $killed, blk $blk_killed times (see $d)"
    fi

    # A killed file server can leave a change half-written; e2fsck repairs it.
    local fixed=$img.fixed
    cp "$img" "$fixed"
    e2fsck -fy "$fixed" > "$fixed.repair" 2>&1
    local repair=$?
    if [ $repair -le 1 ]; then
        result PASS fs/e2fsck_repairs_after_kills
        [ $repair = 1 ] && echo "  (e2fsck repaired: $(grep -ac '' "$fixed.repair") lines, see $fixed.repair)"
    else
        result FAIL fs/e2fsck_repairs_after_kills "e2fsck -fy exited $repair (see $fixed.repair)"
    fi
    fs_fsck_clean consistent_after_repair "$fixed"
    # Every file reported synced: present and whole (the tree copied out once).
    local bad=0 want got out=$LOGS/fs-kills.tree
    rm -rf "$out"
    mkdir -p "$out"
    debugfs -R "rdump /stress $out" "$fixed" > /dev/null 2>&1
    for n in $(fs_synced "$d"); do
        want=$(for i in $(seq 200); do echo "fswriter $n"; done)
        got=$(cat "$out/stress/d$((n / 100))/f$n" 2>/dev/null)
        [ "$want" = "$got" ] || { bad=$((bad + 1)); [ $bad -le 3 ] && echo "  /stress/d$((n / 100))/f$n differs"; }
    done
    if [ "$synced" -gt 0 ] && [ $bad = 0 ]; then
        result PASS fs/no_synced_file_lost
    else
        result FAIL fs/no_synced_file_lost "$bad of $synced synced files missing or wrong"
    fi
}

# ---- images the file server must refuse, with a reason, and go on ------
fs_refused() {              # fs_refused NAME IMAGE PATTERN
    local log=$LOGS/fs-refuse-$1
    # shellcheck disable=SC2046
    SESSION_DISK=$2 session_start "$log" $(fs_modules)
    if session_wait 'pith> ' 60 && session_wait_log 'fs: no volume' 60 &&
        session_cmd df "df: no volume: .*$3" && session_cmd 'ls /' 'ls: /: no volume mounted' &&
        session_cmd ps 'running .* fs$'; then
        result PASS "fs/refuses_$1"
    else
        result FAIL "fs/refuses_$1" "see $log"
    fi
    session_stop
}

fs_refusals() {
    local img=$LOGS/fs-zeroed.img
    tools/mkdisk.sh disk "$img" 32 > /dev/null
    dd if=/dev/zero of="$img" bs=1024 seek=1 count=1 conv=notrunc status=none
    fs_refused zeroed_superblock "$img" 'magic'
    img=$LOGS/fs-truncated.img
    tools/mkdisk.sh disk "$img" 32 > /dev/null
    truncate -s 8M "$img"
    fs_refused truncated_image "$img" 'device'
}

# FS_SCENARIOS picks some (tools/fs-soak.sh runs fs_kills alone).
for scenario in ${FS_SCENARIOS:-fs_shell fs_kills fs_refusals}; do
    $scenario
done
