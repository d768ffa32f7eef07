# busybox nc over loopback: a listener in the background writes what it receives to a file;
# a client sends a line from a pipe and ends at its end of input.  Each side's
# poll then has its finished input as a negative descriptor.
B=/bin/busybox
W=/tmp/applets-nc
$B rm -rf $W; $B mkdir -p $W; cd $W
$B nc -l -p 47123 > got &
L=$!
$B sleep 1
echo "hi over loopback" | $B nc 127.0.0.1 47123
echo "client: $?"
wait $L
echo "listener: $?"
$B cat got
cd /; $B rm -rf $W
echo done
