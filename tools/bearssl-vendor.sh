#!/bin/sh
# Checks lib/bearssl/ against Debian's pinned BearSSL source tarball
# (lib/bearssl/PROVENANCE.md): downloads it, checks its sha256, and
# compares every vendored file.  --update copies the files again.
set -eu
cd "$(dirname "$0")/.."
archive=$(tools/debian-archive.sh) || { echo "error: apt names no Debian 12 archive" >&2; exit 1; }
url=$archive/pool/main/b/bearssl/bearssl_0.6+dfsg.1.orig.tar.xz
sum=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
dir=${BUILD:-build}/bearssl-src
mkdir -p "$dir"
tarball=$dir/bearssl.orig.tar.xz
if [ ! -f "$tarball" ]; then
    curl -fsS -o "$tarball.part" "$url" || { echo "error: cannot download $url" >&2; exit 1; }
    mv "$tarball.part" "$tarball"
fi
echo "$sum  $tarball" | sha256sum -c --quiet - ||
    { echo "error: $tarball does not have the pinned sha256 $sum" >&2; rm -f "$tarball"; exit 1; }
rm -rf "$dir/bearssl-0.6"
tar -xJf "$tarball" -C "$dir"
bad=0
for f in $(cd lib/bearssl && find inc src -type f | sort) LICENSE.txt; do
    if [ "${1:-}" = --update ]; then
        cp "$dir/bearssl-0.6/$f" "lib/bearssl/$f"
    elif ! cmp -s "$dir/bearssl-0.6/$f" "lib/bearssl/$f"; then
        echo "differs from the tarball: lib/bearssl/$f" >&2
        bad=1
    fi
done
[ $bad = 0 ] && echo "lib/bearssl: every file matches bearssl_0.6+dfsg.1.orig.tar.xz"
exit $bad
