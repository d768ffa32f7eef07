#!/bin/sh
# Usage: mkdisk.sh SRCDIR IMAGE MIB
# An ext2 volume of MIB MiB holding SRCDIR's files (mke2fs -d), 1 KiB
# blocks, owned by root: the disk make run boots with.
set -e
PATH=$PATH:/usr/sbin:/sbin      # mke2fs lives there
src=$1 img=$2 mib=$3
mkdir -p "$(dirname "$img")"
rm -f "$img.tmp"
truncate -s "${mib}M" "$img.tmp"
mke2fs -q -F -t ext2 -b 1024 -L pith -E root_owner=0:0 -d "$src" "$img.tmp"
mv "$img.tmp" "$img"
echo "  MKE2FS  $img (from $src/)"
