# A conversation with a booted system over COM1, for the base-system
# scenarios (tests/system/base.sh).  Sourced; needs $BUILD.
#
#   session_start LOG MODULE...   boot with these modules; COM1's output to LOG
#                                 (SESSION_APPEND: a kernel command line;
#                                 SESSION_DISK: a raw image as a virtio-blk disk;
#                                 SESSION_ACCEL: the QEMU mode, tcg by default;
#                                 SESSION_NET, SESSION_MAC: a virtio-net device, qemu-run.sh's --net, --mac)
#   session_wait PATTERN [SECS]   wait until LOG holds PATTERN (grep -E) once
#                                 more than when the last command was sent
#   session_wait_log PATTERN [SECS]  the same in the kernel's log (LOG.debugcon):
#                                 once the console driver owns COM1 the
#                                 kernel's lines leave the serial line
#   session_send LINE             type LINE and Enter
#   session_cmd LINE PATTERN      send, then wait for PATTERN and the next prompt
#   session_stop                  end the machine
# Each wait counts matches after the point the last send started from, so a
# pattern already seen earlier in the session does not satisfy it.

session_start() {
    SESSION_LOG=$1
    shift
    local mods=() m
    for m in "$@"; do mods+=(--module "$m"); done
    SESSION_DIR=$(mktemp -d)
    mkfifo "$SESSION_DIR/com1.in" "$SESSION_DIR/com1.out"
    : > "$SESSION_LOG"
    cat "$SESSION_DIR/com1.out" > "$SESSION_LOG" &
    SESSION_READER=$!
    # Open our end of the input read-write so neither side blocks opening it.
    exec 7<>"$SESSION_DIR/com1.in"
    tools/qemu-run.sh --accel "${SESSION_ACCEL:-tcg}" --timeout "${SESSION_TIMEOUT:-240}" --kernel "$BUILD/pith.bin" "${mods[@]}" \
        ${SESSION_APPEND:+--append "$SESSION_APPEND"} ${SESSION_DISK:+--disk "$SESSION_DISK"} \
        ${SESSION_NET:+--net "$SESSION_NET"} ${SESSION_MAC:+--mac "$SESSION_MAC"} ${SESSION_MEM:+--mem "$SESSION_MEM"} \
        --debugcon "$SESSION_LOG.debugcon" --serial-pipe "$SESSION_DIR/com1" 2> "$SESSION_LOG.runner" &
    SESSION_QEMU=$!
    SESSION_MARK=0
    SESSION_LOG_MARK=0
}

# The logs' sizes in bytes: where the next waits start looking.
session_mark() {
    SESSION_MARK=$(stat -c %s "$SESSION_LOG")
    SESSION_LOG_MARK=$(stat -c %s "$SESSION_LOG.debugcon" 2>/dev/null || echo 0)
}

# session_wait_in SINCE PATTERN [SECONDS]: until what SINCE prints matches (1: timed out, or QEMU ended).
session_wait_in() {
    local since=$1 pattern=$2 secs=${3:-30} i
    for ((i = 0; i < secs * 10; i++)); do
        $since | grep -aqE -- "$pattern" && return 0
        kill -0 "$SESSION_QEMU" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
session_wait() { session_wait_in session_since "$@"; }

session_wait_log() { session_wait_in session_log_since "$@"; }

session_send() {
    session_mark
    printf '%s\r' "$1" >&7
}

# session_cmd LINE PATTERN: 0 if the answer held PATTERN before the next prompt.
session_cmd() {
    session_send "$1"
    session_wait "$2" "${3:-30}" && session_wait 'pith> ' 10
}

# What the machine printed since the last send.
session_since() { tail -c +$((SESSION_MARK + 1)) "$SESSION_LOG" | tr -d '\r'; }

# What the kernel logged since the last send.
session_log_since() { tail -c +$((SESSION_LOG_MARK + 1)) "$SESSION_LOG.debugcon" 2>/dev/null; }

session_stop() {
    kill "$SESSION_QEMU" 2>/dev/null
    wait "$SESSION_QEMU" 2>/dev/null
    exec 7>&-
    kill "$SESSION_READER" 2>/dev/null
    wait "$SESSION_READER" 2>/dev/null
    rm -rf "$SESSION_DIR"
}
