# Archives and pipelines: tar, gzip, gunzip, xargs.  (tar's z would exec gzip by name,
# which the host's chroot does not have: the scripts pipe through busybox gzip instead.)
B=/bin/busybox
W=/tmp/applets-archive
$B rm -rf $W; $B mkdir -p $W/src/sub; cd $W
$B seq 1 2000 > src/numbers
printf 'abc\n' > src/sub/small
$B ln -s numbers src/link
echo "-- tar"
$B tar cf t.tar src
$B tar tf t.tar | $B sort
$B mkdir out; $B tar xf t.tar -C out
$B diff -r src out/src && echo "extracted equal"
$B readlink out/src/link
$B tar cf - src | $B gzip -c > t.tgz
$B gunzip -c t.tgz | $B tar tf - | $B sort
$B mkdir out2; cd out2; $B gunzip -c ../t.tgz | $B tar xf -; cd ..
$B cmp src/numbers out2/src/numbers && echo "tgz equal"
$B tar cf - src | $B tar tf - | $B wc -l
echo "-- gzip"
$B cp src/numbers n
$B gzip n
$B test -f n.gz && $B test ! -f n && echo "gzip replaced it"
$B gzip -t n.gz && echo "gzip -t ok"
$B gunzip n.gz
$B cmp n src/numbers && echo "round trip equal"
$B gzip -c n | $B gunzip -c | $B md5sum
$B md5sum < n
$B gzip -9 -c n > n9.gz; $B zcat n9.gz | $B tail -n 1
echo garbage > bad.gz; $B gzip -t bad.gz 2>$W/null; echo "gzip -t garbage: $?"
echo "-- xargs"
$B seq 1 10 | $B xargs $B echo
$B seq 1 7 | $B xargs -n 3 $B echo
$B find src -type f | $B sort | $B xargs $B wc -l
echo 'a b c' | $B xargs -n1 $B echo item
$B seq 1 3 | $B xargs -I X $B echo "<X>"
cd /; $B rm -rf $W
echo done
