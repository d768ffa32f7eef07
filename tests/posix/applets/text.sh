# Text applets: grep, sed, awk, sort, uniq, wc, head, tail, cut, tr.
B=/bin/busybox
W=/tmp/applets-text
$B rm -rf $W; $B mkdir -p $W; cd $W
printf 'alpha 3 x\nBeta 10 y\ngamma 2 x\nalpha 7 z\ndelta 10 y\nEpsilon 1 x\n' > data
echo "-- grep"
$B grep alpha data
$B grep -i beta data
$B grep -v x data
$B grep -c 10 data
$B grep -n 'a 1' data
$B grep -E '^[A-Z][a-z]+ [0-9]{2} ' data
$B grep -e gamma -e delta data
$B grep -q nothing data; echo "grep -q missing: $?"
$B grep -l alpha data /etc/motd
echo "-- sed"
$B sed 's/a/A/g' data
$B sed -n '2,3p' data
$B sed -n '/^alpha/p' data
$B sed '1d;$d' data
$B sed -e 's/\([a-z]*\) \([0-9]*\)/\2 \1/' data
$B sed '/Beta/,/alpha/s/ /_/g' data
printf 'one\ntwo\n' > s; $B sed -i 's/two/TWO/' s; $B cat s
echo "-- awk"
$B awk '{ print $2, $1 }' data
$B awk '{ s += $2 } END { print "sum", s, "n", NR }' data
$B awk '$3 == "x" { printf "%-8s|%5.2f\n", $1, $2 / 3 }' data
$B awk -F' ' 'NR % 2 == 0 { n[$3]++ } END { for (k in n) c++; print c, "kinds" }' data
$B awk 'BEGIN { x = substr("pithos", 1, 4); print toupper(x), length("pith"), index("pith", "t") }'
echo "-- sort uniq"
$B sort data
$B sort -k2 -n data
$B sort -k2,2nr -k1,1 data
$B sort -u -k3,3 data
$B awk '{ print $3 }' data | $B sort | $B uniq -c
$B awk '{ print $3 }' data | $B sort | $B uniq -d
$B awk '{ print $3 }' data | $B sort -r | $B uniq -u
echo "-- wc head tail cut tr"
$B wc data
$B wc -l < data
$B wc -w -c data
$B head -n 2 data
$B head -c 9 data; echo
$B tail -n 2 data
$B tail -n +5 data
$B tail -c 8 data
$B cut -d' ' -f1,3 data
$B cut -c1-3 data
$B tr a-z A-Z < data
$B tr -d 'aeiou' < data
$B echo 'a  b   c' | $B tr -s ' '
$B seq 1 5 | $B tr '\n' ,; echo
cd /; $B rm -rf $W
echo done
