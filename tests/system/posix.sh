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
POSIX_PROGRAMS=${POSIX_PROGRAMS:-"hello status segv args files memory clock uname enosys fork cow shared signals poll proc mremap tty jobs threads sockets ids fsmeta itimer epoll flock sysinfo fifo vdso unix sigasync script mapcycle prctl statx rusage affinity"}
POSIX_PROC=" proc sysinfo busybox_applets_sys script prctl affinity "  # these see the host's /proc, mounted in the chroot
POSIX_TTY=" tty "                  # these run on a pseudo-terminal on the host (script), as on Pith's console
# These get /dev/null, /dev/zero and /dev/urandom in the host's chroot (Pith's are built in): gzip -t
# writes to /dev/null, ash's background jobs read it.
POSIX_DEV=" statx affinity busybox_applets_text busybox_applets_files busybox_applets_archive busybox_applets_more busybox_applets_shell busybox_nc_loopback "
POSIX_ARGS_args="alpha beta"
POSIX_BUSYBOX=(                 # name|command line (after the binary)
    "busybox_echo|echo hello"
    "busybox_ls|ls -1 /"
    "busybox_ls_etc|ls -1 /etc"
    "busybox_cat|cat /etc/motd"
    "busybox_sh_echo|sh /posix/echo.sh"
    "busybox_sh_pipe|sh /posix/pipe.sh"
    "busybox_sh_status|sh /posix/status.sh"
    "busybox_applets_text|sh /posix/applets/text.sh"      # the scripts of tests/posix/applets/
    "busybox_applets_files|sh /posix/applets/files.sh"
    "busybox_applets_archive|sh /posix/applets/archive.sh"
    "busybox_applets_more|sh /posix/applets/more.sh"
    "busybox_applets_shell|sh /posix/applets/shell.sh"
    "busybox_nc_loopback|sh /posix/applets/nc.sh"
    "busybox_applets_sys|sh /posix/applets/sys.sh"
)

posix_modules() {
    echo "$PU/init.elf $PU/memd.elf $BUILD/modules/manifest $PU/console.elf $PU/shell.elf $PU/kvd.elf" \
        "$PU/pci.elf $PU/blk.elf $PU/fs.elf $PU/posix.elf $PU/netdev.elf $PU/net.elf"
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
    cp "$PX/bench-clock" "$dir/posix/bench-clock"
    cp "$PX/tcprtt" "$dir/posix/tcprtt"
    [ -x "$PX/bench-posix" ] && cp "$PX/bench-posix" "$dir/posix/bench-posix"
    cp "$PX/refused/toobig" "$PX/refused/dynamic" "$dir/posix/"
    # Scripts for busybox sh (the Pith shell splits its command line on blanks, without quotes).
    printf 'echo one\necho two\n' > "$dir/posix/echo.sh"
    printf 'echo one; echo two | /bin/busybox cat; /bin/busybox ls /etc | /bin/busybox wc -l\n' > "$dir/posix/pipe.sh"
    # (applets by bare name need /proc/self/exe, which the host's chroot lacks: the scripts name busybox)
    printf 'true | false; echo status $?; /bin/busybox sh -c "exit 5"; echo $?\n/bin/busybox echo x | /bin/busybox tr x y\n' \
        > "$dir/posix/status.sh"
    cp -r tests/posix/applets "$dir/posix/applets"
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
        case $POSIX_DEV in
        *" $1 "*)
            mkdir -p "$tmp/dev" && mknod -m 666 "$tmp/dev/null" c 1 3 && mknod -m 666 "$tmp/dev/zero" c 1 5 &&
                mknod -m 666 "$tmp/dev/urandom" c 1 9 ;;
        esac
        case $POSIX_PROC in *" $1 "*) mkdir -p "$tmp/proc" && mount -t proc proc "$tmp/proc" ;; esac
        case $POSIX_TTY in
        *" $1 "*)   # nothing typed: script's input stays open and empty while the program runs
            (sleep 5 | env -i HOME=/ PATH=/bin:/usr/bin TERM=vt100 script -qec "/usr/sbin/chroot $tmp $2" /dev/null |
                tr -d '\r' > "$out"; echo "exit ${PIPESTATUS[1]}" >> "$out") 2>/dev/null ;;
        *)
            # shellcheck disable=SC2086
            (env -i HOME=/ PATH=/bin:/usr/bin TERM=vt100 /usr/sbin/chroot "$tmp" $2 > "$out" 2>&1; echo "exit $?" >> "$out") 2>/dev/null ;;
        esac
    else
        # shellcheck disable=SC2086
        (cd "$tmp" && env -i HOME=/ PATH=/bin:/usr/bin TERM=vt100 .$2 > "$out" 2>&1; echo "exit $?" >> "$out") 2>/dev/null
    fi
    if mountpoint -q "$tmp/proc" 2>/dev/null; then umount "$tmp/proc"; fi
    rm -rf --one-file-system "$tmp"
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
    # A network device (QEMU's user network, nothing beyond it is used) so the network server runs:
    # the socket tests go through its loopback interface.  512 MiB, as make run has: the manifest's
    # quotas (the personality's 64 MiB) do not fit in 256.
    # shellcheck disable=SC2046
    SESSION_MEM=512 SESSION_NET=user SESSION_DISK=$img session_start "$log" $(posix_modules)
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
    # The clock_gettime figures: through the vDSO, then run again with PITH_POSIX_VDSO=off, which must
    # leave it out (bench-clock refuses to measure otherwise).
    if session_cmd 'linux /posix/bench-clock' '^bench pith.posix_clock_gettime_server median=[0-9]+' 60 > /dev/null; then
        result PASS posix/clock_bench_runs_with_and_without_the_vdso
        session_since | grep -a '^bench pith.posix_clock_gettime'
    else
        result FAIL posix/clock_bench_runs_with_and_without_the_vdso "see $log"
    fi
    # TCP ping-pong over loopback: every answer checked; the mean round trips shown, not judged.
    if session_cmd 'linux /posix/tcprtt 200' '^tcprtt: [0-9]+ round trips ok' 120 > /dev/null; then
        result PASS posix/tcp_ping_pong
        session_since | grep -a '^tcprtt:'
    else
        result FAIL posix/tcp_ping_pong "see $log"
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
        # ps reads /proc: its own line, pid, user, (time,) command (Pith only: the pids differ).
        if session_cmd 'linux /bin/busybox ps' '^ *[0-9]+ +[a-z0-9]+ +([0-9:]+ +)?/bin/busybox ps$' > /dev/null; then
            result PASS posix/busybox_ps
        else
            result FAIL posix/busybox_ps "no line for ps itself (see $log)"
        fi
        # df reads /proc/mounts and statfs's the volume: the Pith shell's df gives the same sizes.
        local sizes
        if session_cmd 'df' '^/fs ' > /dev/null &&
            sizes=$(session_since | awk '$1 == "/fs" { print $2, $3, $4 }') &&
            session_cmd 'linux /bin/busybox df' '^/dev/root ' > /dev/null &&
            [ -n "$sizes" ] && [ "$(session_since | awk '$1 == "/dev/root" && $6 == "/" { print $2, $3, $4 }')" = "$sizes" ]; then
            result PASS posix/busybox_df
        else
            result FAIL posix/busybox_df "busybox df does not show the volume as the shell's df does (see $log)"
        fi
        posix_ash
    else
        echo "  (busybox-static is not installed: the busybox tests are skipped)"
    fi
    session_stop
}

# posix_ash_step NAME PATTERN [SECS]: after what was sent, PATTERN then ash's prompt.
posix_ash_step() {
    if session_wait "$2" "${3:-20}" && session_wait '/ # ' 10; then
        result PASS "posix/$1"
    else
        result FAIL "posix/$1" "no '$2' then a prompt (see $LOGS/posix)"
    fi
}

# Busybox ash on the console, typed at over the serial line as a person would:
# its own line editing in raw mode, a background job running while ash waits
# for a key, ^C ending the foreground job, exit back to the Pith shell.
posix_ash() {
    session_send 'linux /bin/busybox ash'
    if ! session_wait '/ # ' 30; then
        result FAIL posix/ash_interactive "no ash prompt (see $LOGS/posix)"
        return
    fi
    result PASS posix/ash_interactive
    session_send 'echo hi there'
    posix_ash_step ash_runs_a_command '^hi there$'
    session_mark
    printf 'echo abX\177c\r' >&7        # a typing mistake erased with DEL
    posix_ash_step ash_line_editing '^abc$'
    session_send '(/bin/busybox sleep 1; echo late) &'
    session_wait '/ # ' 10
    session_mark                        # nothing typed: ash waits for a key meanwhile
    if session_wait 'late$' 20; then
        result PASS posix/ash_background_job_runs_while_ash_reads
    else
        result FAIL posix/ash_background_job_runs_while_ash_reads "no 'late' (see $LOGS/posix)"
    fi
    session_send '/bin/busybox sleep 100'
    sleep 2
    session_mark
    printf '\003' >&7                   # ^C
    posix_ash_step ash_ctrl_c_ends_the_foreground_job '\^C' 10
    session_send 'echo status $?'
    posix_ash_step ash_survives_ctrl_c '^status 130$'
    # Job control without stopping: a background job listed, brought to the foreground
    # (ash gives it the terminal: TIOCSPGRP), then ended by ^C.
    session_send '/bin/busybox sleep 100 &'
    session_wait '/ # ' 10
    session_send 'jobs'
    posix_ash_step ash_jobs_lists_a_background_job 'Running +/bin/busybox sleep 100'
    session_send 'fg'
    sleep 2
    session_mark
    printf '\003' >&7
    posix_ash_step ash_fg_then_ctrl_c '\^C' 10
    # ^Z stops the foreground job (SIGTSTP), ash reports it and takes the terminal back; fg
    # continues it (SIGCONT) in the foreground, and ^C ends it.
    session_send '/bin/busybox sleep 100'
    sleep 2
    session_mark
    printf '\032' >&7                   # ^Z
    posix_ash_step ash_ctrl_z_stops_the_foreground_job 'Stopped' 10
    session_send 'fg'
    sleep 2
    session_mark
    printf '\003' >&7
    posix_ash_step ash_fg_continues_the_stopped_job '\^C' 10
    posix_vi
    session_send 'exit 3'
    if session_wait 'linux: /bin/busybox: exit status 3' 20 && session_wait 'pith> ' 10; then
        result PASS posix/ash_exit_back_to_the_pith_shell
    else
        result FAIL posix/ash_exit_back_to_the_pith_shell "see $LOGS/posix"
    fi
}

# busybox vi on the console: a file opened, a line inserted, :wq, then cat shows it.
posix_vi() {
    session_send '/bin/busybox vi /tmp/vi.txt'
    sleep 2                             # vi draws its screen
    session_mark
    printf 'ihello from vi\033' >&7      # insert, text, Esc
    sleep 1
    printf ':wq\r' >&7
    if session_wait '/ # ' 20; then
        session_send '/bin/busybox cat /tmp/vi.txt'
        posix_ash_step vi_inserts_and_writes_a_file '^hello from vi$'
    else
        result FAIL posix/vi_inserts_and_writes_a_file "vi did not end with :wq (see $LOGS/posix)"
    fi
}

# make run LOGIN=ash's boot: the manifest's shell line with args=login=ash; ash
# greets on the console as a login shell, and its end gives the Pith shell back.
posix_login() {
    local log=$LOGS/posix-login dir=$LOGS/posix-login-modules
    mkdir -p "$dir"
    sed -E 's/^(shell[[:space:]].*)$/\1 args=login=ash/' servers/init/boot.manifest > "$dir/manifest"
    # shellcheck disable=SC2046
    SESSION_MEM=512 SESSION_DISK=$LOGS/posix.img session_start "$log" $(posix_modules | sed "s|$BUILD/modules/manifest|$dir/manifest|")
    if session_wait '/ # ' 90; then
        session_send 'echo login $0'
        if session_wait '^login -ash$' 20 && session_wait '/ # ' 10; then
            result PASS posix/login_ash
        else
            result FAIL posix/login_ash "ash is not a login shell (see $log)"
        fi
        session_send 'exit'
        session_cmd '' 'pith> ' > /dev/null     # an empty line: the Pith shell's prompt again
        if grep -aq 'login: ash ended (status 0)' "$log"; then
            result PASS posix/login_ash_ends_into_the_pith_shell
        else
            result FAIL posix/login_ash_ends_into_the_pith_shell "see $log"
        fi
    else
        result FAIL posix/login_ash "no ash prompt on the console (see $log)"
    fi
    session_stop
}

if [ -z "${POSIX_NO_RUN:-}" ]; then
    posix_run
    if [ -x /bin/busybox ]; then posix_login; fi
fi
