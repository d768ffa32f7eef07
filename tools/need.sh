#!/bin/sh
# Usage: need.sh build|test|bench
# Makes sure the host tools a target needs exist.  As root, installs the
# missing Debian packages with apt-get; otherwise stops with one line that
# names the exact command to run.
set -e
what=${1:-build}

# command:package pairs
base="qemu-system-x86_64:qemu-system-x86 gdb:gdb"
iso="grub-mkrescue:grub-common xorriso:xorriso mformat:mtools"
case $what in
    build) list="$base" ;;
    iso|test) list="$base $iso" ;;
    bench) list="$base" ;;
    *) echo "need.sh: unknown target '$what'" >&2; exit 2 ;;
esac

missing=""
for pair in $list; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
# grub-mkrescue needs the BIOS (i386-pc) GRUB modules to make a bootable image.
case $what in iso|test) [ -d /usr/lib/grub/i386-pc ] || missing="$missing grub-pc-bin" ;; esac
# Host unit tests need the sanitizer runtimes (libasan, libubsan come with gcc).
[ -z "$missing" ] && exit 0

missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "need.sh: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi
echo "error: missing host tools; run: sudo apt-get install $missing" >&2
exit 1
