# Busybox's own testsuite for the applets named (busybox sh run.sh APPLET...;
# without any, those listed in the file groups beside it),
# run as its testsuite/runtest runs it, with a line "GROUP applet" before
# each applet's results (runtest prints none, and test names repeat across
# applets).  The functions and the loop are runtest's; what differs: the
# links to busybox in runtest-tempdir-links/ are made when the test disk is
# built (tests/system/busybox.sh), since runtest's 400 ln processes each
# time cost more under QEMU than most applets' tests.  Runs the same on
# Linux and on Pith.
cd "$(dirname "$0")/testsuite" || exit 1
. ./testing.sh
tsdir=$(pwd)
bindir=${tsdir%/*}
LINKSDIR=$bindir/runtest-tempdir-links
PATH="$bindir:$PATH"
export bindir
export VERBOSE=
[ $# -gt 0 ] || set -- $(cat "$bindir/groups")

# runtest's run_applet_testcase: one old-style test, sh -x -e applet/testcase.
run_applet_testcase() {
	applet="$1"
	testcase="$2"
	status=0
	uc_applet=$(echo "$applet" | tr a-z A-Z)
	testname="${testcase##*/}"
	if grep "^# CONFIG_$uc_applet is not set$" "$bindir/.config" >/dev/null; then
		echo "UNTESTED: $testname"
		return 0
	fi
	if grep "^# FEATURE: " "$testcase" >/dev/null; then
		local feature=$(sed -ne 's/^# FEATURE: //p' "$testcase")
		for f in $feature; do
			if grep "^# $f is not set$" "$bindir/.config" >/dev/null; then
				echo "UNTESTED: $testname"
				return 0
			fi
		done
	fi
	rm -rf ".tmpdir.$applet"
	mkdir -p ".tmpdir.$applet"
	cd ".tmpdir.$applet" || return 1
	d="$tsdir" sh -x -e "$testcase" >"$testname.stdout.txt" 2>&1 || status=$?
	if [ $status -ne 0 ]; then
		echo "FAIL: $testname"
	else
		echo "PASS: $testname"
	fi
	cd ..
	rm -rf ".tmpdir.$applet"
	return $status
}

# runtest's option flags: every CONFIG_ set in busybox's build configuration.
export OPTIONFLAGS=:$(
	sed -nr 's/^CONFIG_//p' "$bindir/.config" |
	sed 's/=.*//' | xargs | sed 's/ /:/g'
	):

for applet in "$@"; do
	echo "GROUP $applet"
	if [ -d "$tsdir/$applet" ]; then
		for testcase in "$tsdir/$applet"/*; do
			run_applet_testcase "$applet" "$testcase"
		done
	fi
	if [ -f "$applet.tests" ]; then
		if [ ! -e "$LINKSDIR/$applet" ] && ! echo "$applet" | grep "^all_" >/dev/null; then
			echo "SKIPPED: $applet (not built)"
			continue
		fi
		PATH="$LINKSDIR:$tsdir:$bindir:$PATH" "$tsdir/$applet.tests"
	fi
done
echo "GROUPS END"
