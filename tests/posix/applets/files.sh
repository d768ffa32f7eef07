# File applets: mkdir -p, touch, cp -r, mv, rm -r, ln -s, chmod, stat, find, du, diff, cmp, md5sum, sha256sum, date.
B=/bin/busybox
W=/tmp/applets-files
$B rm -rf $W; $B mkdir -p $W/a/b/c; cd $W
echo "-- mkdir touch ls"
$B mkdir -p a/b/c a/d
echo hello > a/b/c/f1
printf 'line1\nline2\nline3\n' > a/d/f2
$B touch a/empty
$B touch -d '2020-02-03 04:05:06' a/d/f2
$B stat -c '%Y %s %n' a/d/f2
$B ls -1 a
$B ls -1R a
echo "-- cp mv rm"
$B cp -r a copy
$B ls -1R copy
$B cp a/d/f2 a/f3
$B cp -p a/d/f2 a/f4
$B stat -c '%Y %n' a/f4
$B mv a/f3 a/f3moved
$B mv a/f3moved a/b/
$B ls -1 a a/b
$B rm a/b/f3moved
$B rm -r copy/b
$B ls -1 copy
$B rm -f nothing; echo "rm -f missing: $?"
$B rm nothing 2>$W/null; echo "rm missing: $?"
$B rmdir a/b 2>$W/null; echo "rmdir non-empty: $?"
echo "-- ln chmod stat"
$B ln -s d/f2 a/sl
$B readlink a/sl
$B cat a/sl
$B ln a/d/f2 a/hard
$B stat -c '%h %n' a/d/f2
$B ln -sf b a/sl
$B readlink a/sl
$B chmod 640 a/d/f2
$B chmod u+x,g-r a/d/f2
$B stat -c '%a %A %n' a/d/f2
$B chmod -R go-rwx a/b
$B stat -c '%a %n' a/b a/b/c a/b/c/f1
$B stat -c '%F' a/d; $B stat -c '%F %s' a/empty a/sl
$B stat -L -c '%F' a/sl
$B test -L a/sl && echo "test -L ok"
$B test -d a/d && $B test -f a/d/f2 && $B test -s a/d/f2 && $B test ! -s a/empty && echo "test ok"
echo "-- find"
$B find a | $B sort
$B find a -name 'f*' | $B sort
$B find a -type d | $B sort
$B find a -type f -size +0 | $B sort
$B find a -type f -size -1 | $B sort
$B find a -type l
$B find a -name f1 -exec $B cat {} \;
$B find a -type f -newer a/d/f2 -name empty
$B find a -maxdepth 1 -type f | $B sort
echo "-- du diff cmp sums"
$B du -a a | $B wc -l
$B du -s a > $W/null && echo "du ok"
printf 'line1\nLINE2\nline3\n' > other
$B diff a/d/f2 other; echo "diff: $?"
$B diff a/d/f2 a/hard; echo "diff same: $?"
$B cmp a/d/f2 other; echo "cmp: $?"
$B cmp -s a/d/f2 a/hard; echo "cmp same: $?"
$B md5sum a/d/f2 other
$B sha256sum a/d/f2
$B sha1sum other
$B md5sum a/d/f2 > sums; $B md5sum -c sums
$B date -u -d @1234567890 '+%Y-%m-%d %H:%M:%S %a %j'
$B date -u -d '2021-12-31 23:59:59' +%s
$B basename /a/b/c.txt .txt; $B dirname /a/b/c.txt
$B whoami
$B realpath a/d/../d/f2
cd /; $B rm -rf $W
echo done
