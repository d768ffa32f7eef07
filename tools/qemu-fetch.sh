#!/bin/sh
# Usage: qemu-fetch.sh DIR
# Unpacks the pinned QEMU (Debian's qemu-system-x86 1:10.0.2 from
# bookworm-backports, with its firmware) into DIR, for tools/qemu-run.sh:
# the QEMU under which several CPUs run under icount, so cross-CPU figures
# count instructions (docs/decisions/0022-pinned-qemu.md).  Nothing is
# installed on the host: each .deb is fetched once from the Debian archive apt uses (tools/debian-archive.sh)
# into DIR/debs, checked against its pinned sha256 and unpacked with
# dpkg -x.  The libraries it links are those of Debian 12's own
# qemu-system-x86, which tools/need.sh installs.
#
# Exit status 0 when DIR/usr/bin/qemu-system-x86_64 runs; otherwise one
# line naming the cause and status 1, and tools/qemu-run.sh keeps running
# Debian's QEMU (make bench then gives its cross-CPU figures in ns).
set -e
dir=$1
archive=$(dirname "$0")/debian-archive.sh
pool=$("$archive")/pool/main || {
    echo "error: apt names no Debian 12 archive to fetch the pinned QEMU from; using Debian's QEMU" >&2
    exit 1
}
version=10.0.2+ds-2+deb13u1~bpo12+1
# pool path  sha256  (qemu-system-x86's dependencies that bookworm's own
# versions do not satisfy, and the firmware its q35 machine loads)
debs="
q/qemu/qemu-system-x86_${version}_amd64.deb 4a6b1856c8b0d7df4ff8e70249e12c473ccf8d516aadb4ae14d3d938faed0c65
q/qemu/qemu-system-common_${version}_amd64.deb 23a4672a138832d7173855e981aa8282c73ef5e04e080fa7ada9f82c6b34f507
q/qemu/qemu-system-data_${version}_all.deb 2d831088187087013b3fcbd19bdfb955b182a2d5a08f6dafa0ad1c6d2007fb4e
s/seabios/seabios_1.16.3-2~bpo12+1_all.deb 48390d0a534c66d11789e39518aa219773a9d3677b29fe1af8799dfb563ec713
i/ipxe/ipxe-qemu_1.0.0+git-20190125.36a4c85-5.1_all.deb 5c2419ce07f4d80ac5e88e32ac09cdc523c048af86c4730d682ba969d3189db2
"
bin=$dir/usr/bin/qemu-system-x86_64
stamp=$dir/.unpacked-$version
[ -f "$stamp" ] && "$bin" --version >/dev/null 2>&1 && exit 0

fetch() {                   # fetch URL FILE
    if command -v curl >/dev/null 2>&1; then
        curl -sSfL --connect-timeout 20 -o "$2" "$1" 2>/dev/null
    elif command -v wget >/dev/null 2>&1; then
        wget -q -T 20 -O "$2" "$1"
    else
        return 2
    fi
}

mkdir -p "$dir/debs"
rm -f "$dir"/.unpacked-*
echo "$debs" | while read -r path sha256; do
    [ -n "$path" ] || continue
    file=$dir/debs/${path##*/}
    if [ ! -f "$file" ]; then
        status=0
        fetch "$pool/$path" "$file.part" || status=$?
        if [ $status = 2 ]; then
            echo "error: the pinned QEMU must be fetched and neither curl nor wget is here (run: sudo apt-get install curl); using Debian's QEMU" >&2
            exit 1
        elif [ $status != 0 ]; then
            rm -f "$file.part"
            echo "error: cannot fetch $pool/$path (no network, or the archive dropped it; put it in $dir/debs by hand); using Debian's QEMU" >&2
            exit 1
        fi
        mv "$file.part" "$file"
    fi
    if ! echo "$sha256  $file" | sha256sum -c --status; then
        echo "error: $file does not have the pinned sha256 $sha256 (delete it to fetch again); using Debian's QEMU" >&2
        exit 1
    fi
    dpkg-deb -x "$file" "$dir"
done

# A library bookworm lacks would show here, not at the first boot.
if ! "$bin" --version >/dev/null 2>&1; then
    libs=$(ldd "$bin" 2>/dev/null | sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
    echo "error: the pinned QEMU in $dir does not run${libs:+ (missing libraries: ${libs% })}; using Debian's QEMU" >&2
    exit 1
fi
touch "$stamp"
