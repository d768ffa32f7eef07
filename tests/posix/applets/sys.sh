# free and uptime (sysinfo, /proc/meminfo), whose figures differ between
# machines: their shape is compared; and sort of 100,000 lines, whose
# output is compared whole through a checksum.
B=/bin/busybox
echo "-- free"
$B free | $B awk 'NR == 1 { print } NR > 1 { ok = $2 ~ /^[0-9]+$/ && $2 + 0 >= $3 + 0; print $1, NF, ok }'
$B free -m | $B awk 'NR > 1 { print $1, NF }'
echo "-- uptime"
$B uptime | $B grep -qE '^ *[0-9]+:[0-9]+:[0-9]+ up .*load average: [0-9]+\.[0-9]+, [0-9]+\.[0-9]+, [0-9]+\.[0-9]+$' &&
    echo "uptime's line has its shape"
echo "-- sort"
$B seq 1 100000 | $B awk '{ print ($1 * 7919) % 100003, "line", $1 }' > /tmp/sort-in
$B wc -l < /tmp/sort-in
$B sort /tmp/sort-in | $B md5sum
$B sort -n /tmp/sort-in | $B tail -n 2
$B rm -f /tmp/sort-in
echo done
