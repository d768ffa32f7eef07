# busybox nc over loopback: a listener in the background writes what it receives to a file;
# a client sends a line from a file and ends at its end.  The client's
# poll then has its finished input as a negative descriptor.  Twice, on one port.
B=/bin/busybox
W=/tmp/applets-nc
$B rm -rf $W; $B mkdir -p $W; cd $W
for round in 1 2; do
    $B sleep 2 | $B nc -l -p 47123 > got &  # its input open: were it at its end, nc would shut down
                                            # its side at once, and the client might see that first
    L=$!
    $B sleep 1
    echo "round $round over loopback" > msg
    $B nc 127.0.0.1 47123 < msg             # (from a file: one process fewer than a pipe from echo)
    echo "client: $?"
    wait $L
    echo "listener: $?"
    $B cat got
done
cd /; $B rm -rf $W
echo done
