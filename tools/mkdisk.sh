#!/bin/sh
# Usage: mkdisk.sh [--busybox] SRCDIR IMAGE MIB
# An ext2 volume of MIB MiB holding SRCDIR's files (mke2fs -d), 1 KiB
# blocks, owned by root: the disk make run boots with.  --busybox adds the
# host's static busybox as /bin/busybox, for the POSIX personality
# (linux /bin/busybox ls /).
set -e
PATH=$PATH:/usr/sbin:/sbin      # mke2fs lives there
busybox=0
[ "${1:-}" = --busybox ] && { busybox=1; shift; }
src=$1 img=$2 mib=$3
said="$src/"
if [ $busybox = 1 ] && [ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null | grep -q INTERP; then
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    cp -a "$src/." "$stage/"
    mkdir -p "$stage/bin"
    cp /bin/busybox "$stage/bin/busybox"
    src=$stage
    said="$said and the host's /bin/busybox"
fi
mkdir -p "$(dirname "$img")"
rm -f "$img.tmp"
truncate -s "${mib}M" "$img.tmp"
mke2fs -q -F -t ext2 -b 1024 -L pith -E root_owner=0:0 -d "$src" "$img.tmp"
mv "$img.tmp" "$img"
echo "  MKE2FS  $img (from $said)"
