#!/bin/sh
# Usage: busybox-tests-fetch.sh DIR
# Unpacks busybox's own testsuite (the testsuite/ directory of busybox
# 1.35.0, the upstream release of Debian 12's source package busybox
# 1:1.35.0-4+deb12u1, whose busybox-static the tests run) into
# DIR/testsuite, and that package's build configuration of busybox-static
# (debian/config/pkg/static) as DIR/.config: the testsuite reads it to
# skip tests of features the binary was built without.  Both files are
# fetched once from the Debian archive apt uses (tools/debian-archive.sh)
# into DIR and checked against their pinned sha256; a failure is one line
# naming the cause.  tests/system/busybox.sh runs the testsuite.
set -e
dir=$1
orig=busybox_1.35.0.orig.tar.bz2
orig_sha256=faeeb244c35a348a334f4a59e44626ee870fb07b6884d68c10ae8bc19f83a694
deb=busybox_1.35.0-4+deb12u1.debian.tar.xz
deb_sha256=1cacbe095ef4880ea7879933c8e3c5075d1527cd6fbcb626a9b41e5daefd1a46
mkdir -p "$dir"
[ -f "$dir/testsuite/runtest" ] && [ -f "$dir/.config" ] && exit 0
archive=$("$(dirname "$0")/debian-archive.sh") || {
    echo "error: apt names no Debian 12 archive to fetch busybox's testsuite from; put $orig and $deb in $dir by hand" >&2
    exit 1
}

# fetch FILE SHA256: into $dir unless there, then checked.
fetch() {
    url=$archive/pool/main/b/busybox/$1
    if [ ! -f "$dir/$1" ]; then
        if command -v curl >/dev/null 2>&1; then
            curl -sSfL -o "$dir/$1.part" "$url" 2>/dev/null || fail=1
        elif command -v wget >/dev/null 2>&1; then
            wget -q -O "$dir/$1.part" "$url" || fail=1
        else
            echo "error: busybox's testsuite must be fetched and neither curl nor wget is here; run: sudo apt-get install curl" >&2
            exit 1
        fi
        if [ -n "${fail:-}" ]; then
            rm -f "$dir/$1.part"
            echo "error: cannot fetch busybox's testsuite from $url (no network?); put $1 in $dir by hand" >&2
            exit 1
        fi
        mv "$dir/$1.part" "$dir/$1"
    fi
    if ! echo "$2  $dir/$1" | sha256sum -c --status; then
        echo "error: $dir/$1 does not have the pinned sha256 $2; delete it to fetch again" >&2
        exit 1
    fi
}
fetch $orig $orig_sha256
fetch $deb $deb_sha256
rm -rf "$dir/testsuite" "$dir/busybox-1.35.0" "$dir/debian"
tar -xjf "$dir/$orig" -C "$dir" busybox-1.35.0/testsuite
tar -xJf "$dir/$deb" -C "$dir" debian/config/pkg/static
[ -f "$dir/busybox-1.35.0/testsuite/runtest" ] && [ -f "$dir/debian/config/pkg/static" ] || {
    echo "error: $orig or $deb did not hold busybox's testsuite/ or debian/config/pkg/static" >&2
    exit 1
}
mv "$dir/debian/config/pkg/static" "$dir/.config"
mv "$dir/busybox-1.35.0/testsuite" "$dir/testsuite"
rm -rf "$dir/busybox-1.35.0" "$dir/debian"
