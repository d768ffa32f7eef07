# The POSIX personality (servers/posix, docs/posix.md), sourced by
# tools/run-tests.sh (uses its result(), $BUILD, $LOGS): the Linux test
# programs of tests/posix/ (static, built with musl-gcc) run natively on
# the host in a directory laid out like the test disk, then under Pith
# through the shell's linux command, and the outputs are compared line by
# line.  Each output ends with "exit N", N the exit status (128 + signal).
# Debian's busybox-static, when the host has it, is tried the same way.

. tests/system/session.sh

PX=$BUILD/posix
PU=$BUILD/user
POSIX_PROGRAMS=${POSIX_PROGRAMS:-"hello status segv args files memory clock uname enosys fork signals"}
POSIX_ARGS_args="alpha beta"
POSIX_BUSYBOX=(                 # name|command line (after the binary)
    "busybox_echo|echo hello"
    "busybox_ls|ls -1 /"
    "busybox_ls_etc|ls -1 /etc"
    "busybox_cat|cat /etc/motd"
    "busybox_sh_echo|sh /posix/echo.sh"
    "busybox_sh_pipe|sh /posix/pipe.sh"
    "busybox_sh_status|sh /posix/status.sh"
)

posix_modules() {
    echo "$PU/init.elf $PU/memd.elf $BUILD/modules/manifest $PU/console.elf $PU/shell.elf $PU/kvd.elf" \
        "$PU/pci.elf $PU/blk.elf $PU/fs.elf $PU/posix.elf"
}

# The test disk's folder: make run's disk/, the programs in /posix, busybox in /bin.
posix_folder() {
    local dir=$1 p
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -a disk/. "$dir/"
    mkdir -p "$dir/posix" "$dir/bin" "$dir/lost+found"   # mke2fs makes lost+found; the host copy needs it too
    for p in $POSIX_PROGRAMS; do cp "$PX/$p" "$dir/posix/$p"; done
    cp "$PX/bench-getpid" "$dir/posix/bench-getpid"
    cp "$PX/refused/toobig" "$PX/refused/dynamic" "$dir/posix/"
    # Scripts for busybox sh (the Pith shell splits its command line on blanks, without quotes).
    printf 'echo one\necho two\n' > "$dir/posix/echo.sh"
    printf 'echo one; echo two | /bin/busybox cat; /bin/busybox ls /etc | /bin/busybox wc -l\n' > "$dir/posix/pipe.sh"
    # (applets by bare name need /proc/self/exe, which the host's chroot lacks: the scripts name busybox)
    printf 'true | false; echo status $?; /bin/busybox sh -c "exit 5"; echo $?\n/bin/busybox echo x | /bin/busybox tr x y\n' \
        > "$dir/posix/status.sh"
    [ -x /bin/busybox ] && cp /bin/busybox "$dir/bin/busybox"
    return 0
}

# posix_host NAME CMDLINE OUT: runs it natively from a fresh copy of the folder.
posix_host() {
    local tmp
    tmp=$(mktemp -d)
    cp -a "$LOGS/posix-disk/." "$tmp/"
    # shellcheck disable=SC2086
    local out
    out=$(realpath "$3")
    # As root, in a chroot, so absolute paths mean what they mean on the test disk.
    if [ "$(id -u)" = 0 ]; then
        # shellcheck disable=SC2086
        (env -i HOME=/ PATH=/bin:/usr/bin TERM=vt100 /usr/sbin/chroot "$tmp" $2 > "$out" 2>&1; echo "exit $?" >> "$out") 2>/dev/null
    else
        # shellcheck disable=SC2086
        (cd "$tmp" && env -i HOME=/ PATH=/bin:/usr/bin TERM=vt100 .$2 > "$out" 2>&1; echo "exit $?" >> "$out") 2>/dev/null
    fi
    rm -rf "$tmp"
}

# posix_pith CMDLINE OUT: runs it through the shell; its output without the
# echoed command and the prompt, the shell's report turned into "exit N".
posix_pith() {
    session_send "linux $1"
    if ! session_wait 'pith> ' 60; then
        echo "(no prompt after 60 s)" > "$2"
        return 1
    fi
    session_since | sed '1d;$d' | sed -E 's/^linux: .*: exit status ([0-9]+)$/exit \1/;
        s/^linux: .*: killed by signal [0-9]+ \(status ([0-9]+)\)$/exit \1/' > "$2"
    grep -qE '^exit [0-9]+$' "$2" || echo "exit 0" >> "$2"
}

posix_compare() {           # posix_compare NAME HOST-OUT PITH-OUT
    local first
    if diff -q "$2" "$3" > /dev/null; then
        result PASS "posix/$1"
    else
        first=$(diff "$2" "$3" | grep -m1 '^[<>]')
        result FAIL "posix/$1" "differs from Linux, first: $first (see $3)"
        diff "$2" "$3" | head -10
    fi
}

posix_run() {
    local log=$LOGS/posix img=$LOGS/posix.img p entry name cmd
    posix_folder "$LOGS/posix-disk"
    tools/mkdisk.sh "$LOGS/posix-disk" "$img" 32 > /dev/null
    # shellcheck disable=SC2046
    SESSION_DISK=$img session_start "$log" $(posix_modules)
    if ! session_wait 'pith> ' 60 || ! session_wait_log 'posix: serving /svc/posix' 60; then
        result FAIL posix/personality_serves "no prompt or no /svc/posix (see $log)"
        session_stop
        return
    fi
    result PASS posix/personality_serves
    for p in $POSIX_PROGRAMS; do
        eval "cmd=\"/posix/$p \${POSIX_ARGS_$p:-}\""
        posix_host "$p" "$cmd" "$LOGS/posix-$p.host"
        posix_pith "$cmd" "$LOGS/posix-$p.pith"
        posix_compare "$p" "$LOGS/posix-$p.host" "$LOGS/posix-$p.pith"
    done
    # Refusals, each with its reason.
    session_cmd 'linux /posix/none' 'linux: /posix/none: no such file or directory' > /dev/null &&
        result PASS posix/refuses_a_missing_file || result FAIL posix/refuses_a_missing_file "see $log"
    session_cmd 'linux /etc/motd' 'linux: /etc/motd: not an ELF executable' > /dev/null &&
        result PASS posix/refuses_a_text_file || result FAIL posix/refuses_a_text_file "see $log"
    session_cmd 'linux /posix' 'linux: /posix: not an ELF executable' > /dev/null &&
        result PASS posix/refuses_a_directory || result FAIL posix/refuses_a_directory "see $log"
    session_cmd 'linux /posix/dynamic' 'linux: /posix/dynamic: not a static x86-64 Linux executable' > /dev/null &&
        result PASS posix/refuses_a_dynamic_program || result FAIL posix/refuses_a_dynamic_program "see $log"
    session_cmd 'linux /posix/toobig' "linux: /posix/toobig: too big for a process's memory" > /dev/null &&
        result PASS posix/refuses_a_program_too_big || result FAIL posix/refuses_a_program_too_big "see $log"
    session_wait_log 'posix: system call 999 not supported' 1 || true
    if [ "$(grep -ac 'posix: system call 999 not supported' "$log.debugcon")" = 1 ]; then
        result PASS posix/unknown_call_logged_once
    else
        result FAIL posix/unknown_call_logged_once "expected one log line for system call 999 (see $log.debugcon)"
    fi
    # The getpid round trip measured (make bench reports it under icount); here it must only run.
    if session_cmd 'linux /posix/bench-getpid' '^bench pith.posix_getpid median=[0-9]+' > /dev/null; then
        result PASS posix/getpid_bench_runs
        session_since | grep -a '^bench pith.posix_getpid'
    else
        result FAIL posix/getpid_bench_runs "see $log"
    fi
    # The server survived everything: hello once more.
    session_cmd 'linux /posix/hello' 'hello, world' > /dev/null &&
        result PASS posix/server_survives_the_runs || result FAIL posix/server_survives_the_runs "see $log"
    if [ -x /bin/busybox ]; then
        for entry in "${POSIX_BUSYBOX[@]}"; do
            name=${entry%%|*} cmd=${entry#*|}
            posix_host "$name" "/bin/busybox $cmd" "$LOGS/posix-$name.host"
            posix_pith "/bin/busybox $cmd" "$LOGS/posix-$name.pith"
            posix_compare "$name" "$LOGS/posix-$name.host" "$LOGS/posix-$name.pith"
        done
    else
        echo "  (busybox-static is not installed: the busybox tests are skipped)"
    fi
    session_stop
}

[ -n "${POSIX_NO_RUN:-}" ] || posix_run
