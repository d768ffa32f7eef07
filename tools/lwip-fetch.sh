#!/bin/sh
# Usage: lwip-fetch.sh DIR
# Unpacks lwIP 2.1.3 (Debian's source package lwip 2.1.3+dfsg1, the
# upstream release with non-free files removed) into DIR/lwip-2.1.3, for
# the network server (servers/net, docs/decisions/0017-lwip.md).  The
# tarball is fetched once from the Debian archive apt uses (tools/debian-archive.sh) into DIR and checked
# against its pinned sha256; a failure is one line naming the cause.
set -e
dir=$1
tarball=lwip_2.1.3+dfsg1.orig.tar.xz
archive=$("$(dirname "$0")/debian-archive.sh") || {
    echo "error: apt names no Debian 12 archive to fetch lwIP from; put $tarball in $dir by hand" >&2
    exit 1
}
url=$archive/pool/main/l/lwip/$tarball
sha256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24
mkdir -p "$dir"
[ -f "$dir/lwip-2.1.3/src/core/init.c" ] && exit 0
if [ ! -f "$dir/$tarball" ]; then
    if command -v curl >/dev/null 2>&1; then
        curl -sSfL -o "$dir/$tarball.part" "$url" 2>/dev/null || fail=1
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$dir/$tarball.part" "$url" || fail=1
    else
        echo "error: lwIP must be fetched and neither curl nor wget is here; run: sudo apt-get install curl" >&2
        exit 1
    fi
    if [ -n "${fail:-}" ]; then
        rm -f "$dir/$tarball.part"
        echo "error: cannot fetch lwIP from $url (no network?); put $tarball in $dir by hand" >&2
        exit 1
    fi
    mv "$dir/$tarball.part" "$dir/$tarball"
fi
if ! echo "$sha256  $dir/$tarball" | sha256sum -c --status; then
    echo "error: $dir/$tarball does not have the pinned sha256 $sha256; delete it to fetch again" >&2
    exit 1
fi
tar -xJf "$dir/$tarball" -C "$dir"
[ -f "$dir/lwip-2.1.3/src/core/init.c" ] || { echo "error: $tarball did not hold lwip-2.1.3/src" >&2; exit 1; }
