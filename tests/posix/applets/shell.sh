# The shell itself: here-documents, command substitution, arithmetic, functions, traps,
# read loops, redirections to numbered descriptors, subshells, background jobs and wait.
B=/bin/busybox
W=/tmp/applets-shell
$B rm -rf $W; $B mkdir -p $W; cd $W
echo "-- expansion"
x=$(echo inner | $B tr a-z A-Z); echo "subst $x"
echo "arith $((6 * 7 + 2 ** 3)) $(( 17 % 5 ))"
s="a,b,c"; echo "strip ${s#a,} ${s%,c} ${#s}"
set -- one two three; echo "args $# $2 $*"
echo "-- here-document and read"
$B cat > hd <<END
line one $x
line two
END
$B cat hd
while read a b c; do echo "read: $c/$b/$a"; done < hd
IFS=: read f1 f2 <<END
left:right
END
echo "$f2 $f1"
echo "-- functions, case, loops"
f() { local v=$1; echo "f got $v"; return 3; }
f value; echo "f returned $?"
for w in red green blue; do
    case $w in r*) echo "$w starts with r" ;; *n) echo "$w ends with n" ;; *) echo "$w other" ;; esac
done
i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo "counted $i"
echo "-- redirections"
exec 3> fd3; echo "to three" >&3; exec 3>&-; $B cat fd3
{ echo out; echo err >&2; } > both 2>&1; $B sort both
echo "appended" >> fd3; $B wc -l < fd3
$B ls nonexistent 2> errfile; echo "ls status $?"; $B wc -l < errfile
echo "-- subshells, traps, jobs"
(cd /; pwd); pwd
(exit 4); echo "subshell status $?"
trap 'echo trapped USR1' USR1
kill -USR1 $$
trap - USR1
$B sleep 1 & p=$!
wait $p; echo "waited $?"
$B sleep 5 & p=$!
kill $p; wait $p 2> $W/null; echo "killed job status $?"   # ("Terminated", or not: a race on Linux too)
( trap 'echo child caught TERM; kill $s; exit 7' TERM; $B sleep 5 & s=$!; wait ) & p=$!
$B sleep 1; kill -TERM $p; wait $p; echo "child status $?"
set -e; false || echo "set -e with ||"; set +e
echo "pipeline $(echo abc | $B rev | $B tr a-z A-Z)"
cd /; $B rm -rf $W
echo done
