#!/bin/sh
# Usage: mkdisk.sh [--busybox] SRCDIR IMAGE MIB
# An ext2 volume of MIB MiB holding SRCDIR's files (mke2fs -d), 1 KiB
# blocks: the disk make run boots with.  --busybox adds the host's static
# busybox as /bin/busybox, for the POSIX personality (linux /bin/busybox ls /).
# Whoever builds it and whatever their umask, the volume is the same:
# every file owned by root, directories and executables 0755, the rest 0644.
set -e
PATH=$PATH:/usr/sbin:/sbin      # mke2fs lives there
busybox=0
[ "${1:-}" = --busybox ] && { busybox=1; shift; }
src=$1 img=$2 mib=$3
said="$src/"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$src/." "$stage/"
if [ $busybox = 1 ] && [ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null | grep -q INTERP; then
    mkdir -p "$stage/bin"
    cp /bin/busybox "$stage/bin/busybox"
    said="$said and the host's /bin/busybox"
fi
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -perm -u+x -exec chmod 0755 {} +
find "$stage" -type f ! -perm -u+x -exec chmod 0644 {} +
mkdir -p "$(dirname "$img")"
rm -f "$img.tmp"
truncate -s "${mib}M" "$img.tmp"
mke2fs -q -F -t ext2 -b 1024 -L pith -E root_owner=0:0 -d "$stage" "$img.tmp"
# mke2fs -d keeps the builder's uid and gid: make every inode root's.
if [ "$(id -u)" != 0 ]; then
    (cd "$stage" && find . -mindepth 1) | sed 's,^\.,,' |
        while read -r p; do printf 'sif "%s" uid 0\nsif "%s" gid 0\n' "$p" "$p"; done > "$stage.cmds"
    debugfs -w -f "$stage.cmds" "$img.tmp" > /dev/null 2>&1
    rm -f "$stage.cmds"
fi
mv "$img.tmp" "$img"
echo "  MKE2FS  $img (from $said)"
