# More applets: dd, tee, od, hexdump, nl, paste, rev, fold, expr, printf, cat -n, tac,
# truncate, chown, chgrp, touch -r, ls -l, mktemp, sync, yes, cp -a of a link;
# /dev/zero, /dev/urandom, /dev/null.
B=/bin/busybox
W=/tmp/applets-more
$B rm -rf $W; $B mkdir -p $W; cd $W
$B seq 1 12 > n
printf 'b\nd\na\nc\n' > u1; printf 'a\nb\nx\n' > u2
echo "-- dd tee od"
$B dd if=n of=part bs=4 skip=1 count=2 2> err; $B cat part; echo
$B dd if=n of=part bs=1 seek=2 count=3 conv=notrunc 2> err; $B cat part; echo
$B echo tee-line | $B tee t1 t2 > t3; $B cat t1 t2 t3
$B echo appended | $B tee -a t1 > t3; $B cat t1
printf 'AB\001\377' | $B od -An -tx1
printf 'hello world' | $B hexdump -C
echo "-- text"
$B cat -n u1
$B tac u1
$B nl u2
$B paste u1 u2
$B paste -d, -s u2
echo 'pith kernel' | $B rev
echo 'abcdefghijklmnopqrstuvwxyz' | $B fold -w 10
$B expr 6 \* 7; $B expr length pithos; $B expr 10 / 3
$B printf '%05d|%-4s|%x|%s\n' 42 ab 255 "x y"
$B yes pith | $B head -n 3
$B echo ' a b ' | $B sed 's/^ *//;s/ *$//' | $B wc -c
echo "-- files"
$B truncate -s 100 big; $B stat -c '%s' big
$B truncate -s 10 big; $B stat -c '%s' big
$B chown 12:34 big; $B stat -c '%u:%g' big
$B chgrp 56 big; $B stat -c '%u:%g' big
$B touch -d '2019-05-06 07:08:09' ref; $B touch -r ref big; $B stat -c '%Y' big
$B ls -ln big | $B awk '{ print $1, $2, $3, $4, $5, $9 }'
$B ls -lnd . | $B awk '{ print $1, $3, $4 }'
$B mkdir -m 700 -p idir/sub; $B stat -c '%a %F' idir/sub
T=$($B mktemp -p $W); $B test -f $T && echo "mktemp made a file"; $B stat -c '%a' $T
D=$($B mktemp -d -p $W); $B test -d $D && echo "mktemp -d made a directory"
$B sync && echo "sync ok"
$B ln -s n sl; $B ln -sfn u1 sl; $B readlink sl
$B mv -f u1 u3; $B ls -1 u1 u3 2>&1 | $B sort
$B cp -a sl copy-of-link; $B readlink copy-of-link
$B rm -rf idir; $B test ! -e idir && echo "rm -rf gone"
echo "-- devices"
$B dd if=/dev/zero of=z bs=1024 count=64 2> err; $B stat -c '%s' z; $B md5sum < z
$B head -c 1000 /dev/urandom | $B wc -c
$B dd if=/dev/urandom bs=16 count=1 2> err | $B od -An -tx1 | $B wc -w
$B cat /dev/null | $B wc -c
echo gone > /dev/null; echo "write to /dev/null: $?"
$B stat -c '%F %t,%T %a' /dev/null /dev/zero /dev/urandom
cd /; $B rm -rf $W
echo done
