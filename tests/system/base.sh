# Base-system scenarios, sourced by tools/run-tests.sh (uses its result(),
# $BUILD, $LOGS).  Each boots init with a manifest and talks to the shell
# over COM1 (tests/system/session.sh), or reads what the programs print.

. tests/system/session.sh

U=$BUILD/user

# check NAME LINE PATTERN: run LINE in the shell; FAIL NAME unless the answer has PATTERN.
check() {
    if session_cmd "$2" "$3"; then
        return 0
    fi
    result FAIL "base/$1" "'$2' did not answer /$3/ (see $SESSION_LOG)"
    session_since | tail -5
    return 1
}

# refuse NAME LINE PATTERN: as check, and the command must not have run (no "done").
refuse() {
    check "$@" || return 1
    if session_since | grep -aq ': done$'; then
        result FAIL "base/$1" "'$2' was obeyed"
        return 1
    fi
}

# The free memory mem reports, in KiB.
free_kib() {
    session_cmd mem 'KiB free' >/dev/null || return 1
    session_since | sed -n 's/^memory: [0-9]* KiB in all, \([0-9]*\) KiB free.*/\1/p'
}

# The free memory and init's free capability slots, as "KiB SLOTS".
free_kib_slots() {
    session_cmd mem 'slots left' >/dev/null || return 1
    session_since | sed -n 's/^memory: [0-9]* KiB in all, \([0-9]*\) KiB free.* \([0-9]*\) capability slots left/\1 \2/p'
}

# A manifest for one scenario: it must be a boot module named "manifest".
manifest_for() {            # manifest_for NAME TEXT -> path
    mkdir -p "$BUILD/modules/$1"
    printf '%s\n' "$2" > "$BUILD/modules/$1/manifest"
    echo "$BUILD/modules/$1/manifest"
}

# ---- the shell of make run: every command, and bad input refused ----------
shell_session() {
    local log=$LOGS/base-shell
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$BUILD/modules/manifest" "$U/console.elf" "$U/shell.elf" "$U/kvd.elf"
    if ! session_wait 'pith> ' 60; then
        result FAIL base/make_run_lands_in_shell "no prompt (see $log)"
        session_stop
        return
    fi
    result PASS base/make_run_lands_in_shell

    # The console holds COM1: init's later lines are in the kernel's log only.
    if grep -aq 'init: started shell' "$log.debugcon" && ! grep -aq 'init: started shell' "$log" &&
        grep -aq "log: a thread holds COM1's ports" "$log"; then
        result PASS base/kernel_log_leaves_com1_to_console
    else
        result FAIL base/kernel_log_leaves_com1_to_console "see $log"
    fi

    check help_lists_commands help 'uptime +time since boot' && result PASS base/help_lists_commands
    check ps_lists_processes ps 'PID PARENT STATE' &&
        session_since | grep -aqE '^ +[0-9]+ +1 running .* console$' &&
        session_since | grep -aqE '^ +[0-9]+ +1 running .* kv$' &&
        session_since | grep -aqE '^ +[0-9]+ +1 running .* shell$' && result PASS base/ps_lists_processes
    check names_lists_names names '/svc/kv +kv' && session_since | grep -aqE '^/dev/console +console' &&
        result PASS base/names_lists_names
    check uptime_counts uptime '^up [0-9]+\.[0-9]{3} s' && result PASS base/uptime_counts
    check log_reads_kernel_log 'log 40' 'init: started shell' && result PASS base/log_reads_kernel_log

    # Bad input: a clear message, nothing done.
    refuse unknown_command_refused frobnicate "unknown command 'frobnicate'; type help" &&
        refuse missing_argument_refused kill 'kill: usage: kill NAME' &&
        refuse extra_argument_refused 'ps now' 'ps: usage: ps' &&
        refuse unknown_program_refused 'stop nosuch' 'stop: nosuch: no such program' &&
        refuse long_name_refused "start $(printf 'x%.0s' $(seq 40))" 'is too long for a program name' &&
        refuse bad_number_refused 'log many' "log: 'many' is not a number of lines" &&
        refuse running_program_not_started_twice 'start kv' 'start: kv: not in a state that allows it' &&
        result PASS base/bad_input_refused
    # This boot carries no self-test program: test says so.
    refuse test_without_selftest test 'test: cannot start selftest: no such program' &&
        result PASS base/test_without_selftest_refused

    # Line editing: backspace, ^U, ^C.
    check backspace_edits "$(printf 'uptimx\x7fe')" '^up [0-9]' && result PASS base/backspace_edits
    check ctrl_u_erases_line "$(printf 'nonsense\x15uptime')" '^up [0-9]' &&
        ! session_since | grep -aq 'unknown command' && result PASS base/ctrl_u_erases_line
    session_send "$(printf 'stop kv\x03')"
    if session_wait '\^C' && session_wait 'pith> ' && ! session_since | grep -aq 'stop: kv'; then
        result PASS base/ctrl_c_abandons_line
    else
        result FAIL base/ctrl_c_abandons_line "see $log"
    fi

    # stop returns every page of the quota; names go and come back.
    local before after
    before=$(free_kib)
    if check stop_returns_memory 'stop kv' 'stop: kv: done' &&
        session_wait_log 'every page of its quota came back' 10 && after=$(free_kib) &&
        [ -n "$before" ] && [ $((after - before)) = 16384 ]; then
        result PASS base/stop_returns_every_page
    else
        result FAIL base/stop_returns_every_page "free KiB before $before, after ${after:-?}"
    fi
    check stopped_listed ps 'stopped .* kv$' && session_cmd names 'console' &&
        ! session_since | grep -aq '/svc/kv' && result PASS base/stopped_server_names_gone
    check start_again 'start kv' 'start: kv: done' && session_cmd names '/svc/kv +kv' &&
        result PASS base/started_server_names_back

    # kill: the supervisor restarts it; restart: at once.
    check kill_restarts 'kill kv' 'kill: kv: done' && session_wait_log 'init: kv restarted' 10 &&
        session_cmd ps ' running +[0-9]+ +[0-9]+ +[0-9]+ +1  kv$' && result PASS base/killed_server_restarted
    check restart_command 'restart kv' 'restart: kv: done' && session_cmd names '/svc/kv +kv' &&
        result PASS base/restart_command

    # Restarts reuse init's capability slots: ten of them leave as many as before.
    local slots_before slots_after i
    session_cmd mem 'slots left' && slots_before=$(session_since | sed -n 's/.*init has \([0-9]*\) capability slots left/\1/p')
    for i in $(seq 10); do session_cmd 'restart kv' 'restart: kv: done' > /dev/null; done
    session_cmd mem 'slots left' && slots_after=$(session_since | sed -n 's/.*init has \([0-9]*\) capability slots left/\1/p')
    if [ -n "$slots_before" ] && [ "$slots_before" = "$slots_after" ]; then
        result PASS base/restarts_reuse_init_slots
    else
        result FAIL base/restarts_reuse_init_slots "slots left before ${slots_before:-?}, after ${slots_after:-?}"
    fi

    # The memory manager holds every quota: never stopped, killed or restarted by hand (docs/memory.md).
    check memd_listed ps ' running .* memd$' && session_cmd names '/svc/mem +memd' &&
        refuse memd_not_killed 'kill memd' 'kill: memd: the memory manager holds every quota' &&
        refuse memd_not_stopped 'stop memd' 'stop: memd: the memory manager holds every quota' &&
        refuse memd_not_restarted 'restart memd' 'restart: memd: the memory manager holds every quota' &&
        refuse memd_not_started 'start memd' 'start: memd: the memory manager holds every quota' &&
        check memd_still_running ps ' running .* memd$' && result PASS base/memory_manager_never_ended_by_hand

    # Killing the console under the shell: the shell finds the new one by name.
    # While no console holds COM1 the kernel's log is back on it.
    session_send 'kill console'
    if session_wait_log 'init: console serving again' 10 && sleep 1 && session_cmd uptime '^up [0-9]'; then
        result PASS base/shell_survives_console_restart
    else
        result FAIL base/shell_survives_console_restart "see $log"
    fi
    if grep -aq 'init: console (pid [0-9]*) ended' "$log" && ! grep -aq 'init: console serving again' "$log" &&
        grep -aq 'init: console serving again' "$log.debugcon"; then
        result PASS base/kernel_log_on_com1_between_consoles
    else
        result FAIL base/kernel_log_on_com1_between_consoles "see $log"
    fi
    session_stop
}

# ---- a server killed under a client; a crashing server given up on --------
kill_under_load() {
    local log=$LOGS/base-kill m
    m=$(manifest_for scn-kill "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console
kv      priority=150 module=kvd.elf register=/svc/kv limit=10
kvtest  priority=160 needs=kv procs restart=never
crasher register=/test/crash limit=2
shell   needs=console procs")
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$m" "$U/console.elf" "$U/kvd.elf" "$U/kvtest.elf" "$U/crasher.elf" \
        "$U/shell.elf"
    if session_wait_log "kvtest: (PASS|FAIL)" 120 && session_log_since | grep -aq 'kvtest: PASS'; then
        result PASS base/kill_server_every_request_once_or_restart_error
    else
        result FAIL base/kill_server_every_request_once_or_restart_error "see $log"
        grep -a 'kvtest' "$log.debugcon"
    fi
    grep -a 'kvtest: PASS' "$log.debugcon"
    if session_wait_log 'init: crasher: giving up after 2 restarts' 60 &&
        [ "$(grep -ac 'crasher (pid [0-9]*): page fault (vector 14)' "$log.debugcon")" = 3 ] &&
        [ "$(grep -ac 'crasher: published /test/crash (0)' "$log.debugcon")" = 3 ]; then
        result PASS base/crashing_server_restarted_then_given_up
    else
        result FAIL base/crashing_server_restarted_then_given_up "see $log"
    fi
    # A lone crash is restarted at once; the second, 200 ms after its start, is a crash loop: 10 ms.
    if [ "$(tr -d '\r' < "$log.debugcon" | sed -n 's/^init: crasher serving again [0-9]* us after it ended (backoff \([0-9]*\) us)$/\1/p' |
            tr '\n' ' ')" = "0 10000 " ]; then
        result PASS base/crash_loop_throttled_lone_crash_not
    else
        result FAIL base/crash_loop_throttled_lone_crash_not "see $log"
    fi
    session_wait 'pith> ' 10
    if session_cmd names '/svc/kv' && ! session_since | grep -aq '/test/crash' &&
        session_cmd ps 'gave-up .* crasher$'; then
        result PASS base/dead_server_names_gone
    else
        result FAIL base/dead_server_names_gone "see $log"
    fi
    session_stop
}

# ---- a malformed manifest: reported with its line, nothing of it obeyed ----
malformed_manifest() {
    local log=$LOGS/base-badmanifest m
    m=$(manifest_for scn-bad "# two good lines, then a mistake
console ports=0x3f8-0x3ff irq=4 register=/dev/console
kv module=kvd.elf register=/svc/kv
shell needs=consol procs")
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$m" "$U/console.elf" "$U/kvd.elf" "$U/shell.elf"
    if session_wait "init: manifest line 4: needs 'consol', which is not listed; nothing started" 60 &&
        sleep 2 && ! grep -aq 'init: started' "$log" && ! grep -aq 'pith> ' "$log"; then
        result PASS base/malformed_manifest_reported_not_obeyed
    else
        result FAIL base/malformed_manifest_reported_not_obeyed "see $log"
    fi
    session_stop
}

# ---- several processes writing to the console at once ----------------------
several_writers() {
    local log=$LOGS/base-writers m w i missing=""
    m=$(manifest_for scn-writers "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console
writer-a module=writer.elf needs=console restart=never
writer-b module=writer.elf needs=console restart=never
writer-c module=writer.elf needs=console restart=never")
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$m" "$U/console.elf" "$U/writer.elf"
    session_wait 'writer-c: line 20 of 20' 60
    sleep 1
    for w in a b c; do
        for i in $(seq -w 1 20); do
            [ "$(tr -d '\r' < "$log" | grep -acx "writer-$w: line $i of 20, written whole in one request")" = 1 ] ||
                missing="$missing writer-$w/$i"
        done
    done
    if [ -z "$missing" ]; then
        result PASS base/several_writers_lines_whole
    else
        result FAIL base/several_writers_lines_whole "not once and whole:$missing (see $log)"
    fi
    session_stop
}

# ---- the memory manager faults: held, not restarted; the rest goes on ---------
memd_faults() {
    local log=$LOGS/base-memd-faults
    SESSION_APPEND=memd-fault session_start "$log" "$U/init.elf" "$U/memd.elf" "$BUILD/modules/manifest" \
        "$U/console.elf" "$U/shell.elf" "$U/kvd.elf"
    if session_wait_log 'init: memd held, not restarted' 90 &&
        grep -aq 'init: memd (pid [0-9]*): page fault (vector 14)' "$log.debugcon" &&
        session_wait_log "init: the memory manager's answer" 10; then
        result PASS base/memd_fault_reported_and_held
    else
        result FAIL base/memd_fault_reported_and_held "see $log"
    fi
    session_wait 'pith> ' 30
    # Everything else runs on: the shell answers, kv serves, memd is listed as given up and unpublished.
    if session_cmd ps 'gave-up .* memd$' && session_since | grep -aqE ' running .* kv$' &&
        session_cmd names '/svc/kv +kv' && ! session_since | grep -aq '/svc/mem'; then
        result PASS base/memd_fault_others_keep_running
    else
        result FAIL base/memd_fault_others_keep_running "see $log"
    fi
    # Ending a program still ends it; starting one fails clearly; memd is never started again.
    if check memd_gone_stop 'stop kv' 'stop: kv: done' &&
        session_log_since | grep -aq 'kv: its quota stays with the memory manager, which is not running' &&
        check memd_gone_start 'start kv' 'start: kv: the memory manager is not running: no quota can be given' &&
        check memd_gone_mem mem 'mem: the memory manager is not running' &&
        refuse memd_gone_not_restarted 'start memd' 'start: memd: the memory manager holds every quota' &&
        sleep 1 && ! grep -aq 'restarting memd' "$log.debugcon"; then
        result PASS base/memd_fault_new_starts_fail_clearly
    else
        result FAIL base/memd_fault_new_starts_fail_clearly "see $log"
    fi
    session_stop
}

# ---- caps, bench and test: what a process holds, figures, the self-test ----
# bench_ok NAME: the bench line for NAME has 0 < min <= median <= max.
bench_ok() {
    local line med min max
    line=$(session_since | grep -aE "^  $1 +median +[0-9]+ ns" | head -1)
    med=$(echo "$line" | sed -n 's/.*median *\([0-9]*\) ns.*/\1/p')
    min=$(echo "$line" | sed -n 's/.* min \([0-9]*\) .*/\1/p')
    max=$(echo "$line" | sed -n 's/.* max \([0-9]*\) .*/\1/p')
    [ -n "$med" ] && [ -n "$min" ] && [ -n "$max" ] && [ "$min" -gt 0 ] && [ "$min" -le "$med" ] &&
        [ "$med" -le "$max" ] && return 0
    echo "bench line for $1 not plausible: '$line'"
    return 1
}

shell_tools() {
    local log=$LOGS/base-shell-tools pid first second
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$BUILD/modules/manifest" "$U/console.elf" "$U/shell.elf" "$U/kvd.elf" \
        "$U/selftest.elf"
    if ! session_wait 'pith> ' 60; then
        result FAIL base/shell_tools_prompt "no prompt (see $log)"
        session_stop
        return
    fi

    # The shell's own capabilities, in the slots process.h promises.
    check caps_lists_capabilities 'caps shell' 'caps: shell holds [0-9]+ capabilities in 4096 slots' &&
        session_since | grep -aqE '^ +1 cnode +rwgxp +0  2\^12 slots$' &&
        session_since | grep -aqE '^ +3 tcb +rwgxp +0  -$' &&
        session_since | grep -aqE '^ +4 log +rw--- +0  -$' &&
        session_since | grep -aqE '^ +10 endpoint +-wg-- +[1-9][0-9]*  -$' &&
        session_since | grep -aqE '^ +11 endpoint +-wg-- +[1-9][0-9]*  -$' &&
        session_since | grep -aqE '^ +14 untyped +' &&
        session_since | grep -aqE '^ +15 endpoint +-wg-- ' && result PASS base/caps_lists_shell_capabilities
    session_cmd ps 'PID PARENT' > /dev/null
    pid=$(session_since | sed -n 's/^ *\([0-9]*\) .* kv$/\1/p')
    check caps_by_pid "caps $pid" 'caps: kv holds [0-9]+ capabilities' &&
        session_since | grep -aqE '^ +1 cnode ' && result PASS base/caps_by_pid
    refuse caps_unknown_refused 'caps nosuch' 'caps: nosuch: no such program' &&
        refuse caps_unknown_pid_refused 'caps 9999' 'caps: no process has pid 9999' &&
        refuse caps_usage 'caps' 'caps: usage: caps NAME\|PID' &&
        refuse caps_long_name_refused "caps $(printf 'x%.0s' $(seq 40))" 'is too long for a program name' &&
        session_cmd 'stop kv' 'stop: kv: done' > /dev/null &&
        refuse caps_stopped_refused 'caps kv' 'caps: kv: not running, so it holds nothing' &&
        session_cmd 'start kv' 'start: kv: done' > /dev/null && result PASS base/caps_bad_input_refused

    # bench: four figures, each with 0 < min <= median <= max.
    if session_cmd bench 'map-unmap +(median|failed)' 120 && bench_ok null-syscall && bench_ok ipc-roundtrip &&
        bench_ok kv-count && bench_ok map-unmap; then
        result PASS base/bench_measures
    else
        result FAIL base/bench_measures "see $log"
        session_since | tail -6
    fi
    refuse bench_usage 'bench now' 'bench: usage: bench' && result PASS base/bench_bad_input_refused

    # test: the self-test passes, is listed exited with status 0, and runs again.
    if session_cmd test 'test: selftest \(pid [0-9]+\) exited with status 0: every check passed' 120 &&
        session_since | grep -aqE '^selftest: 9 passed, 0 failed$' &&
        ! session_since | grep -aq 'selftest: FAIL' && session_cmd ps 'exited .* selftest$'; then
        result PASS base/selftest_passes
    else
        result FAIL base/selftest_passes "see $log"
        session_since | tail -12
    fi
    first=$(grep -a 'test: selftest (pid' "$log" | tail -1)
    if session_cmd test 'test: selftest \(pid [0-9]+\) exited with status 0' 120 &&
        second=$(grep -a 'test: selftest (pid' "$log" | tail -1) && [ "$first" != "$second" ]; then
        result PASS base/selftest_runs_again
    else
        result FAIL base/selftest_runs_again "see $log"
    fi
    # With the key-value server stopped its checks fail, and the status counts them.
    if session_cmd 'stop kv' 'stop: kv: done' &&
        session_cmd test 'test: selftest \(pid [0-9]+\) exited with status 4: 4 checks failed' 120 &&
        session_since | grep -aqE '^selftest: FAIL kv: ' && session_since | grep -aqE '^selftest: 5 passed, 4 failed$'
    then
        result PASS base/selftest_failures_counted
    else
        result FAIL base/selftest_failures_counted "see $log"
        session_since | tail -12
    fi
    # bench too: the key-value figure says why it is missing, the others are still measured.
    if session_cmd bench 'map-unmap +(median|failed)' 120 &&
        session_since | grep -aqE '^  kv-count +failed: nothing serves its name \(error 0x107\)$' &&
        bench_ok null-syscall && bench_ok map-unmap; then
        result PASS base/bench_reports_a_failed_figure
    else
        result FAIL base/bench_reports_a_failed_figure "see $log"
        session_since | tail -6
    fi
    refuse test_usage 'test now' 'test: usage: test' && result PASS base/test_bad_input_refused

    # create and remove: a child of the shell, its quota carved from the shell's own.
    local shell_pid
    session_cmd ps 'PID PARENT' > /dev/null
    shell_pid=$(session_since | sed -n 's/^ *\([0-9]*\) .* shell$/\1/p')
    if check create_child 'create kid selftest.elf 4' 'create: kid: done' &&
        session_cmd ps 'PID PARENT' && session_since | grep -aqE "^ +[0-9]+ +$shell_pid +stopped .* kid$" &&
        check start_child 'start kid' 'start: kid: done' &&
        check remove_child 'remove kid' 'remove: kid: done' &&
        session_cmd ps 'PID PARENT' && ! session_since | grep -aq ' kid$'; then
        result PASS base/shell_creates_and_removes_a_child
    else
        result FAIL base/shell_creates_and_removes_a_child "see $log"
        session_since | tail -6
    fi
    refuse create_usage 'create kid2' 'create: usage: create NAME MODULE MIB \[LIMIT\]' &&
        refuse create_not_number 'create kid2 selftest.elf four' 'create: MIB and LIMIT are numbers' &&
        refuse create_bad_size 'create kid2 selftest.elf 3' 'create: kid2: a bad name or memory size' &&
        refuse create_too_big 'create kid2 selftest.elf 64' 'create: kid2: no memory for its quota' &&
        refuse create_no_module 'create kid2 nosuch.elf 4' 'create: kid2: no such program' &&
        refuse remove_unknown 'remove nosuch' 'remove: nosuch: no such program' &&
        refuse remove_init 'remove init' 'remove: init: that is init' && result PASS base/create_remove_bad_input_refused
    session_stop
}

# ---- process trees: built, listed, ended with their subtree; init refused ---
# The parent of NAME in ps, and its pid: "PID PARENT" (empty if not listed).
ps_of() {
    session_since | awk -v n="$1" '$NF == n { print $1, $2 }'
}

process_tree() {
    local log=$LOGS/base-tree m before stopped again after root mid leaf
    # Nine entries that are not programs (listed, never started, no memory)
    # fill the table enough for treetest to see a full one (memd, the
    # memory manager, takes one entry too).
    m=$(manifest_for scn-tree "console  priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console
shell    needs=console procs
treetest memory=64 restart=never
$(for i in $(seq 9); do echo "fill$i module=manifest restart=never"; done)")
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$m" "$U/console.elf" "$U/shell.elf" "$U/treetest.elf"
    if session_wait_log 'treetest: (PASS|FAIL)' 180 && grep -aq 'treetest: PASS' "$log.debugcon"; then
        result PASS base/tree_three_deep_quota_from_parent_subtree_ends
    else
        result FAIL base/tree_three_deep_quota_from_parent_subtree_ends "see $log"
        grep -a 'treetest\|tree-' "$log.debugcon" | tail -5
    fi
    session_wait 'pith> ' 10

    # ps shows the real parents: init > treetest > tree-mid > tree-leaf.
    if session_cmd ps 'tree-leaf'; then
        root=$(ps_of treetest) mid=$(ps_of tree-mid) leaf=$(ps_of tree-leaf)
    fi
    if [ -n "$root" ] && [ "${root#* }" = 1 ] && [ "${mid#* }" = "${root% *}" ] && [ "${leaf#* }" = "${mid% *}" ]; then
        result PASS base/ps_shows_tree_parents
    else
        result FAIL base/ps_shows_tree_parents "treetest '$root', tree-mid '$mid', tree-leaf '$leaf' (PID PARENT)"
    fi

    # Nobody ends init, not even with procs.
    refuse init_not_stopped 'stop init' 'stop: init: that is init, the supervisor: nothing could restart it' &&
        refuse init_not_killed 'kill init' 'kill: init: that is init' &&
        refuse init_not_restarted 'restart init' 'restart: init: that is init' &&
        result PASS base/init_cannot_be_ended

    # The shell (procs) acts on any process: stopping the middle ends the leaf.
    if check stop_middle 'stop tree-mid' 'stop: tree-mid: done' && session_cmd ps 'tree-mid' &&
        session_since | grep -aqE ' stopped .* tree-mid$' && ! session_since | grep -aq 'tree-leaf'; then
        result PASS base/stopping_middle_ends_leaf
    else
        result FAIL base/stopping_middle_ends_leaf "see $log"
    fi

    # Stopping the root ends its whole subtree, and init's free memory comes
    # back exactly: the figure before starting the tree again and after.
    before=$(free_kib)
    if check stop_root 'stop treetest' 'stop: treetest: done' && session_cmd ps 'treetest' &&
        ! session_since | grep -aq 'tree-mid' && stopped=$(free_kib) &&
        [ -n "$before" ] && [ $((stopped - before)) = 65536 ]; then
        result PASS base/stopping_root_ends_subtree
    else
        result FAIL base/stopping_root_ends_subtree "free KiB with the tree $before, without ${stopped:-?}"
    fi
    # (and init's capability slots with it).
    stopped=$(free_kib_slots)
    session_send 'start treetest'
    if session_wait_log 'treetest: (PASS|FAIL)' 180 && session_log_since | grep -aq 'treetest: PASS' &&
        session_wait 'pith> ' 10 && again=$(free_kib) && check stop_root_again 'stop treetest' 'done' &&
        after=$(free_kib_slots) && [ -n "$stopped" ] && [ "$again" = "$before" ] && [ "$after" = "$stopped" ]; then
        result PASS base/tree_memory_comes_back_exactly
    else
        result FAIL base/tree_memory_comes_back_exactly \
            "free KiB with the tree ${before:-?}/${again:-?}; KiB and slots without it ${stopped:-?}/${after:-?} (see $log)"
    fi
    session_stop
}

# ---- a program paged by the memory manager; a bad access still ends it ------
paged_program() {
    local log=$LOGS/base-paged m
    m=$(manifest_for scn-paged "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console
anontest pages=16 restart=always limit=1
shell needs=console procs")
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$m" "$U/console.elf" "$U/anontest.elf" "$U/shell.elf"
    if session_wait_log 'init: anontest: giving up after 1 restarts' 90 &&
        [ "$(grep -ac 'anontest: PASS 8 pages demand-zero from the memory manager (quota 16 pages)' "$log.debugcon")" = 2 ] &&
        ! grep -aq 'anontest: FAIL' "$log.debugcon"; then
        result PASS base/paged_program_demand_zero_from_memd
    else
        result FAIL base/paged_program_demand_zero_from_memd "see $log"
        grep -a 'anontest' "$log.debugcon" | head -5
    fi
    session_wait 'pith> ' 30
    if [ "$(grep -ac 'anontest (pid [0-9]*): page fault (vector 14) at .*, address 0x5000000000' "$log.debugcon")" = 2 ] &&
        session_cmd ps 'gave-up .* +1  anontest$'; then
        result PASS base/paged_program_bad_access_reaches_supervisor
    else
        result FAIL base/paged_program_bad_access_reaches_supervisor "see $log"
    fi
    session_stop
}

# ---- more paged programs than the manager has clients: the one too many is refused ----
paged_too_many() {
    local log=$LOGS/base-paged-full m i lines=""
    for i in 1 2 3 4 5 6 7 8 9; do
        lines="$lines
anon-$i module=anontest.elf pages=8 restart=never"
    done
    m=$(manifest_for scn-paged-full "${lines#?}")
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$m" "$U/anontest.elf"
    if session_wait_log 'init: anon-9 did not start' 90 &&
        grep -aq 'init: anon-9: the memory manager took no client (error 0x1006)' "$log.debugcon" &&
        session_wait_log 'init: anon-8 \(pid [0-9]*\) ended' 60 &&
        [ "$(grep -ac 'anontest: PASS 8 pages' "$log.debugcon")" = 8 ]; then
        result PASS base/paged_program_refused_when_manager_has_no_client_left
    else
        result FAIL base/paged_program_refused_when_manager_has_no_client_left "see $log"
    fi
    session_stop
}

# ---- programs started with their image paged in by the memory manager (manifest: lazy) ----
# mem's figures as "KIB_FREE COMMITTED PAGES_FREE PULLS".
mem_figures() {
    session_cmd mem 'image pages pulled' >/dev/null || return 1
    session_since | awk '/^memory: / { kib = $6 } /^paging: / { print kib, $2, $7, $10 }'
}

# The KiB of its quota NAME has made into objects (ps's "used").
used_kib() {
    session_cmd ps 'PID PARENT STATE' >/dev/null || return 1
    session_since | awk -v n="$1" '$NF == n { print $5 }'
}

# IN with its program headers moved to its end (past its first page), as OUT:
# the ELF loader, which has the whole file, takes it; the memory manager,
# which reads only an image's first page, refuses it (bad_image).
far_headers() {             # far_headers IN OUT
    local size phoff phnum at i
    cp "$1" "$2"
    size=$(stat -c %s "$1")
    phoff=$(od -An -t u8 -j 32 -N 8 "$1" | tr -d ' ')
    phnum=$(od -An -t u2 -j 56 -N 2 "$1" | tr -d ' ')
    at=$(( (size + 7) / 8 * 8 ))
    dd if="$1" of="$2" bs=1 skip="$phoff" seek="$at" count=$((phnum * 56)) conv=notrunc status=none
    for i in 0 1 2 3 4 5 6 7; do
        printf "\\$(printf %o $(( (at >> (8 * i)) & 255 )))"
    done | dd of="$2" bs=1 seek=32 conv=notrunc status=none
}

lazy_programs() {
    local log=$LOGS/base-lazy m f0 f1 f2 f3 f4 lazy eager private freed pulls quota
    m=$(manifest_for scn-lazy "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console
kv     module=kvd.elf register=/svc/kv lazy restart=always limit=10
shell  needs=console,kv procs
lazy-a module=lazytest.elf needs=kv lazy restart=always limit=3
lazy-b module=lazytest.elf needs=kv lazy restart=never
eager  module=lazytest.elf needs=kv restart=never
bad    module=manifest lazy restart=never
gone   module=nosuch.elf lazy restart=never
far    module=farhdr.elf lazy restart=never")
    far_headers "$U/lazytest.elf" "$BUILD/modules/scn-lazy/farhdr.elf"
    session_start "$log" "$U/init.elf" "$U/memd.elf" "$m" "$U/console.elf" "$U/shell.elf" "$U/kvd.elf" \
        "$U/lazytest.elf" "$BUILD/modules/scn-lazy/farhdr.elf"
    # kv serves from a lazily mapped image; both lazy instances see their image as the loader would give it.
    if session_wait 'pith> ' 60 && session_wait_log 'lazytest: (PASS|FAIL) lazy-a' 60 &&
        session_wait_log 'lazytest: (PASS|FAIL) lazy-b' 30 && session_wait_log 'lazytest: (PASS|FAIL) eager' 30 &&
        grep -aq 'lazytest: PASS lazy-a: .* paged by memd, image [1-9][0-9]* of [0-9]* client pages' "$log.debugcon" &&
        grep -aq 'lazytest: PASS lazy-b: .* paged by memd' "$log.debugcon" &&
        grep -aq 'lazytest: PASS eager: .* loaded by init' "$log.debugcon" && session_cmd names '/svc/kv +kv'; then
        result PASS base/lazy_program_runs_and_serves
    else
        result FAIL base/lazy_program_runs_and_serves "see $log"
        grep -a 'lazytest\|init: kv\|lazy-' "$log.debugcon" | head -8
    fi

    # A malformed module, a missing one, and one whose headers the manager
    # cannot read in its first page: refused, each with a clear message; the
    # rest runs.
    if grep -aq 'init: bad: manifest is not a program: ' "$log.debugcon" &&
        grep -aq 'init: gone: no boot module nosuch.elf' "$log.debugcon" &&
        grep -aq 'init: far: its image farhdr.elf was not mapped: the memory manager finds it no program (bad_image)' \
            "$log.debugcon" && grep -aq 'init: far: could not start it' "$log.debugcon" &&
        session_cmd ps ' stopped .* bad$' && session_since | grep -aqE ' stopped .* gone$' &&
        session_since | grep -aqE ' stopped .* far$'; then
        result PASS base/lazy_bad_or_missing_module_refused
    else
        result FAIL base/lazy_bad_or_missing_module_refused "see $log"
    fi

    # The same program loaded by init makes its image from its quota; started lazily it does not.
    lazy=$(used_kib lazy-a) eager=$(used_kib eager)
    if [ -n "$lazy" ] && [ -n "$eager" ] && [ "$lazy" -lt "$eager" ]; then
        result PASS base/lazy_program_uses_less_of_its_quota "ps used: $lazy KiB lazy, $eager KiB eager"
    else
        result FAIL base/lazy_program_uses_less_of_its_quota "ps used: ${lazy:-?} KiB lazy, ${eager:-?} KiB eager"
    fi

    # Two instances of one module share their text through memd's page cache:
    # lazy-b started beside lazy-a pulls only its headers and data pages (each
    # pull but the headers' fills a page of its own), and ending lazy-b frees
    # only its own pages while lazy-a still maps the text; ending lazy-a then
    # frees its own as many, and the text besides (idle in the cache).
    f0=$(mem_figures)
    check lazy_stop_b 'stop lazy-b' 'stop: lazy-b: done' && session_wait_log 'lazy-b \(pid [0-9]*\) ended' 10
    f1=$(mem_figures)
    session_send 'start lazy-b'
    session_wait_log 'lazytest: (PASS|FAIL) lazy-b' 30 && session_wait 'pith> ' 10
    f2=$(mem_figures)
    check lazy_stop_b_again 'stop lazy-b' 'stop: lazy-b: done' && session_wait_log 'lazy-b \(pid [0-9]*\) ended' 10
    f3=$(mem_figures)
    check lazy_stop_a 'stop lazy-a' 'stop: lazy-a: done' && session_wait_log 'lazy-a \(pid [0-9]*\) ended' 10
    f4=$(mem_figures)
    set -- $f0 $f1 $f2 $f3 $f4
    if [ $# = 20 ]; then
        private=$(($7 - $3)) pulls=$((${12} - $4)) freed=$((${19} - ${15}))
        # (lazy-b's second run uses the same pages as its first: the figures but the pulls match.)
        if [ "$9 ${10} ${11}" = "$1 $2 $3" ] && [ "${13} ${14} ${15}" = "$5 $6 $7" ] && [ "$private" -gt 0 ] &&
            [ "$pulls" -le $((private + 1)) ] && [ "$freed" -gt "$private" ]; then
            result PASS base/lazy_instances_share_text \
                "lazy-b alone: $private pages of its own, $pulls pulls; lazy-a then freed $freed (text $((freed - private)))"
        else
            result FAIL base/lazy_instances_share_text "figures (KiB committed free pulls): $f0 / $f1 / $f2 / $f3 / $f4"
        fi
    else
        result FAIL base/lazy_instances_share_text "mem's figures missing (see $log)"
    fi

    # Killed, a lazy program is restarted by the supervisor and every page
    # comes back: the figures after its restart are those before its kill;
    # stopped, its quota and its client's pages come back whole.
    check lazy_start_a 'start lazy-a' 'start: lazy-a: done' && session_wait_log 'lazytest: (PASS|FAIL) lazy-a' 30 &&
        session_wait 'pith> ' 10
    f0=$(mem_figures)
    quota=$(session_log_since | sed -n 's/.*lazytest: PASS lazy-a: .* of \([0-9]*\) client pages/\1/p' | tail -1)
    session_send 'kill lazy-a'
    session_wait_log 'init: lazy-a restarted' 10 && session_wait_log 'lazytest: (PASS|FAIL) lazy-a' 30
    f1=$(mem_figures)
    check lazy_stop_a_again 'stop lazy-a' 'stop: lazy-a: done' && session_wait_log 'lazy-a \(pid [0-9]*\) ended' 10
    f2=$(mem_figures)
    set -- $f0 $f1 $f2
    if [ $# = 12 ] && [ -n "$quota" ] && [ "$1 $2 $3" = "$5 $6 $7" ] && [ $(($9 - $1)) = 16384 ] &&
        [ $(($2 - ${10})) = "$quota" ] && grep -aq 'lazytest: PASS lazy-a: .*' "$log.debugcon" &&
        ! grep -aq 'lazytest: FAIL' "$log.debugcon" &&
        [ "$(grep -ac 'init: lazy-a (pid [0-9]*) ended; every page of its quota came back' "$log.debugcon")" = 3 ]; then
        result PASS base/lazy_program_killed_restarted_every_page_back
    else
        result FAIL base/lazy_program_killed_restarted_every_page_back \
            "figures (KiB committed free pulls) before the kill, after the restart, stopped: $f0 / $f1 / $f2; client quota ${quota:-?}"
    fi
    session_stop
}

# ---- init faults: nothing can restart it, so the system ends, saying why ----
init_faults() {
    local m t log status
    m=$(manifest_for scn-initfault "console priority=200 ports=0x3f8-0x3ff irq=4 register=/dev/console
shell   needs=console procs")
    for t in supervisor main mapper; do
        log=$LOGS/base-init-fault-$t
        tools/qemu-run.sh --accel tcg --timeout 120 --kernel "$BUILD/pith.bin" --module "$U/init.elf" \
            --module "$U/memd.elf" --module "$m" --module "$U/console.elf" --module "$U/shell.elf" --append "init.fault=$t" \
            --debugcon "$log.debugcon" --serial "$log.serial" 2> "$log.runner"
        status=$?
        if [ $status = 1 ] && grep -aq "init: its $t thread faulted (vector 14 at 0x[0-9a-f]*, address 0x10)" \
            "$log.debugcon" && grep -aq 'init: init is the supervisor and nothing can restart it: ending the system' \
            "$log.debugcon" && grep -aq 'shutdown requested by user level (failure)' "$log.debugcon"; then
            result PASS "base/init_${t}_fault_ends_system"
        else
            result FAIL "base/init_${t}_fault_ends_system" "runner exited $status (see $log.debugcon)"
        fi
    done
}

shell_session
memd_faults
paged_program
paged_too_many
lazy_programs
kill_under_load
malformed_manifest
several_writers
shell_tools
process_tree
init_faults
