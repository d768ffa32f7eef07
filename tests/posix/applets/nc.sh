# busybox nc over loopback: a listener in the background writes what it receives to a file;
# a client sends a line from a pipe and ends at its end of input.  Each side's
# poll then has its finished input as a negative descriptor.  Twice on one port:
# the first listener's end of the connection is in TIME-WAIT, which SO_REUSEADDR
# (nc sets it) lets the second bind past.
B=/bin/busybox
W=/tmp/applets-nc
$B rm -rf $W; $B mkdir -p $W; cd $W
for round in 1 2; do
    $B nc -l -p 47123 > got &
    L=$!
    $B sleep 1
    echo "round $round over loopback" | $B nc 127.0.0.1 47123
    echo "client: $?"
    wait $L
    echo "listener: $?"
    $B cat got
done
cd /; $B rm -rf $W
echo done
