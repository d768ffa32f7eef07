# Busybox's own testsuite (the testsuite/ of busybox 1.35.0, fetched by
# tools/busybox-tests-fetch.sh) run with Debian's busybox-static as the
# applets: on the host in a chroot of the test disk's folder, then under
# Pith from the disk, both through tests/posix/busybox/run.sh, and the
# results compared test by test.  Sourced by tools/run-tests.sh (its
# result(), $BUILD, $LOGS).  One TEST line per applet group: it fails if
# a test passes on the host and not under Pith, unless
# tests/posix/busybox-known-failures lists it with its reason; a test that
# fails on the host too (the host's environment) is an expected failure on
# both sides and counted apart.  BUSYBOX_GROUPS=all runs every group
# (make busybox-tests); by default a subset that keeps make test near its
# ten minutes (docs/testing.md).

POSIX_NO_RUN=1
. tests/system/posix.sh

BB_SRC=$BUILD/busybox-tests
BB_KNOWN=tests/posix/busybox-known-failures
# Never run: they need the network (wget fetches from the Internet), root's
# host features (mount: loop devices; mdev: a chroot and device nodes;
# taskset: CAP_SYS_NICE), or busybox's source tree (all_sourcecode).
BB_NEVER=" wget mount mdev taskset all_sourcecode "
# Run only when named (BUSYBOX_GROUPS=bc): bc's "parsing of numbers" pipes four
# lines for each of 65,537 numbers in 14 bases through two bc processes; under
# QEMU's TCG it had not ended after 14 minutes (126 s for all of bc on the host).
BB_SLOW=" bc "
# make test's subset: 32 groups, about 500 tests of text, files, archives
# and the shell's plumbing (diff: a file unlinked while open; du: a
# megabyte read from /dev/zero at once), about a minute under QEMU; the
# rest (bc and dc's arithmetic, the hash sums' thousands of processes, ...)
# only in make busybox-tests.
BB_SUBSET="awk basename cat cmp cut diff dirname du echo expr find grep head ls mkdir mv od paste
    printf readlink realpath rm sed seq sort tail tar test touch tr uniq wc xargs"

# bb_groups: the groups to run, in the testsuite's order.
bb_groups() {
    local g
    if [ "${BUSYBOX_GROUPS:-}" = all ]; then
        for g in "$BB_SRC"/testsuite/*.tests "$BB_SRC"/testsuite/*/; do
            g=${g%/} g=${g##*/} g=${g%.tests}
            case "$BB_NEVER$BB_SLOW" in *" $g "*) continue ;; esac
            echo "$g"
        done | sort -u
    else
        echo ${BUSYBOX_GROUPS:-$BB_SUBSET} | tr ' ' '\n'
    fi
}

# bb_folder DIR: make run's disk/, busybox as /bin/busybox and /bin/sh (the
# tests' #!/bin/sh), the testsuite in /bbtests as runtest expects it: the
# testsuite/ directory, busybox and its .config one level up, and the
# links runtest would make, one per applet.
bb_folder() {
    local dir=$1 a
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -a disk/. "$dir/"
    mkdir -p "$dir/bin" "$dir/bbtests/runtest-tempdir-links" "$dir/lost+found"
    cp /bin/busybox "$dir/bin/busybox"
    ln -s busybox "$dir/bin/sh"
    cp -a "$BB_SRC/testsuite" "$BB_SRC/.config" "$dir/bbtests/"
    ln -s /bin/busybox "$dir/bbtests/busybox"
    for a in $(/bin/busybox --list); do ln -s /bbtests/busybox "$dir/bbtests/runtest-tempdir-links/$a"; done
    cp tests/posix/busybox/run.sh "$dir/bbtests/run.sh"
    bb_groups > "$dir/bbtests/groups"      # the Pith shell's command line is short
}

# bb_host OUT: run.sh in a chroot of a copy of the folder, with
# /proc (busybox runs its applets through /proc/self/exe) and /dev's
# null, zero and urandom, as Pith has them.
bb_host() {
    local tmp
    tmp=$(mktemp -d)
    cp -a "$LOGS/busybox-disk/." "$tmp/"
    mkdir -p "$tmp/dev" "$tmp/proc"
    mknod -m 666 "$tmp/dev/null" c 1 3 && mknod -m 666 "$tmp/dev/zero" c 1 5 && mknod -m 666 "$tmp/dev/urandom" c 1 9
    mount -t proc proc "$tmp/proc"
    (cd / && env -i HOME=/ PATH=/bin:/usr/bin TERM=vt100 timeout "$(bb_secs)" /usr/sbin/chroot "$tmp" /bin/busybox sh /bbtests/run.sh) > "$1" 2>&1
    umount "$tmp/proc"
    rm -rf --one-file-system "$tmp"
}

# bb_results OUT: "group|test|verdict" per result line, a test's name made
# unique within its group by a "#N" after its repeats.
bb_results() {
    tr -d '\r' < "$1" | awk '
        /^GROUP / { g = $2; next }
        match($0, /^(PASS|FAIL|SKIPPED|UNTESTED): /) {
            v = substr($0, 1, RLENGTH - 2); t = substr($0, RLENGTH + 1)
            k = g "|" t; n = ++seen[k]; if (n > 1) t = t "#" n
            print g "|" t "|" v }'
}

# bb_compare HOST-OUT PITH-OUT: the TEST lines and each side's counts.
bb_compare() {
    local g line
    bb_results "$1" > "$LOGS/busybox.host.results"
    bb_results "$2" > "$LOGS/busybox.pith.results"
    # The known failures' group|test, without their reasons.
    grep -v '^#' "$BB_KNOWN" | grep . | awk -F'|' '{ print $1 "|" $2 }' > "$LOGS/busybox.known"
    awk -F'|' '
        FILENAME == ARGV[1] { known[$1 "|" $2] = 1; next }
        FILENAME == ARGV[2] { host[$1 "|" $2] = $3; next }
        { pith[$1 "|" $2] = $3 }
        END { for (k in host) if (host[k] == "PASS" && pith[k] != "PASS") {
                  split(k, a, "|"); print (k in known ? "KNOWN" : "FAIL") "|" a[1] "|" a[2] (k in pith ? "" : " (no result)") } }
    ' "$LOGS/busybox.known" "$LOGS/busybox.host.results" "$LOGS/busybox.pith.results" > "$LOGS/busybox.regressions"
    for g in $(bb_groups); do
        if ! tr -d '\r' < "$1" | grep -qx "GROUP $g"; then
            result FAIL "busybox/$g" "the host's run never reached it (see $1)"
        elif grep -q "^FAIL|$g|" "$LOGS/busybox.regressions"; then
            line=$(grep "^FAIL|$g|" "$LOGS/busybox.regressions" | cut -d'|' -f3 | paste -sd';' | cut -c1-200)
            result FAIL "busybox/$g" "pass on Linux, fail under Pith: $line (see $2)"
        else
            result PASS "busybox/$g"
        fi
    done
    bb_summary host "$LOGS/busybox.host.results"
    bb_summary pith "$LOGS/busybox.pith.results"
    if [ -s "$LOGS/busybox.regressions" ]; then
        echo "  busybox testsuite, passing on Linux and failing under Pith:"
        sort "$LOGS/busybox.regressions" | sed 's/^/    /'
    fi
    # A known failure that passes now is to be taken off the list.
    awk -F'|' 'NR == FNR { if ($3 == "PASS") pass[$1 "|" $2] = 1; next }
               ($1 "|" $2) in pass { print "  (known failure passing now: " $1 "|" $2 ")" }' \
        "$LOGS/busybox.pith.results" "$LOGS/busybox.known"
}

# bb_summary SIDE RESULTS: "busybox testsuite (SIDE): N passed, M failed, K skipped",
# a failure on both sides counted as expected, not as failed, on either;
# under Pith, how many of its failures are known.
bb_summary() {
    local counts
    counts=$(awk -F'|' '
        NR == FNR { if ($3 == "FAIL") hostfail[$1 "|" $2] = 1; next }
        $3 == "PASS" { p++ } $3 == "SKIPPED" || $3 == "UNTESTED" { s++ }
        $3 == "FAIL" { if (($1 "|" $2) in hostfail) x++; else f++ }
        END { printf "%d passed, %d failed, %d skipped, %d expected failures (failing on Linux too)", p, f, s, x }
    ' "$LOGS/busybox.host.results" "$2")
    # Under Pith: how many of the failures tests/posix/busybox-known-failures explains.
    [ "$1" = pith ] && counts=$(echo "$counts" | sed "s/ failed,/ failed ($(grep -c '^KNOWN|' "$LOGS/busybox.regressions") known),/")
    echo "busybox testsuite ($1): $counts" | tee -a "$LOGS/busybox.summary"
}

# How long each side may take: make test's subset takes about a minute.
bb_secs() { if [ "${BUSYBOX_GROUPS:-}" = all ]; then echo "${BUSYBOX_TIMEOUT:-7200}"; else echo "${BUSYBOX_TIMEOUT:-900}"; fi; }

bb_run() {
    local log=$LOGS/busybox img=$LOGS/busybox.img start secs=$(bb_secs)
    : > "$LOGS/busybox.summary"
    if [ ! -x /bin/busybox ] || [ ! -f "$BB_SRC/testsuite/runtest" ]; then
        result FAIL busybox/testsuite "needs busybox-static and $BB_SRC (make test fetches it)"
        return
    fi
    bb_folder "$LOGS/busybox-disk"
    tools/mkdisk.sh "$LOGS/busybox-disk" "$img" 48 > /dev/null
    start=$(date +%s)
    bb_host "$LOGS/busybox.host"
    echo "  (host: $(($(date +%s) - start)) s)"
    # shellcheck disable=SC2046
    SESSION_TIMEOUT=$((secs + 120)) SESSION_MEM=512 SESSION_NET=user SESSION_DISK=$img session_start "$log" $(posix_modules)
    if ! session_wait 'pith> ' 60 || ! session_wait_log 'posix: serving /svc/posix' 60; then
        result FAIL busybox/personality_serves "no prompt or no /svc/posix (see $log)"
        session_stop
        return
    fi
    start=$(date +%s)
    session_send "linux /bin/busybox sh /bbtests/run.sh"
    if session_wait '^GROUPS END' "$secs" && session_wait 'pith> ' 30; then
        result PASS busybox/testsuite_runs_to_its_end
    else
        result FAIL busybox/testsuite_runs_to_its_end "no end after $secs s (see $log)"
    fi
    echo "  (Pith: $(($(date +%s) - start)) s)"
    session_since > "$LOGS/busybox.pith"
    session_stop
    bb_compare "$LOGS/busybox.host" "$LOGS/busybox.pith"
}

bb_run
