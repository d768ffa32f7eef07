#!/bin/sh
# Usage: need.sh build|test|bench|musl|e2fs|posix|lwip|busybox-tests
# Makes sure the host tools a target needs exist.  As root, installs the
# missing Debian packages with apt-get; otherwise stops with one line that
# names the exact command to run.
set -e
what=${1:-build}
# e2fsprogs lives in /usr/sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

# command:package pairs
base="qemu-system-x86_64:qemu-system-x86 gdb:gdb"
iso="grub-mkrescue:grub-common xorriso:xorriso mformat:mtools"
# The disk images (ext2, made and checked with the host's own tools).
e2fs="mke2fs:e2fsprogs e2fsck:e2fsprogs debugfs:e2fsprogs"
case $what in
    build) list="$base $e2fs" ;;
    iso) list="$base $iso" ;;
    test) list="$base $iso $e2fs musl-gcc:musl-tools" ;;
    posix) list="musl-gcc:musl-tools" ;;   # the Linux test programs (tests/posix/)
    e2fs) list="$e2fs" ;;
    bench) list="$base" ;;
    musl) list="" ;;
    # lwIP's source from Debian's archive (tools/lwip-fetch.sh): xz, and curl unless wget is here.
    lwip) list="xz:xz-utils"; command -v wget >/dev/null 2>&1 || list="$list curl:curl" ;;
    # busybox's testsuite from Debian's archive (tools/busybox-tests-fetch.sh): bzip2, xz, and curl unless wget is here.
    busybox-tests) list="bzip2:bzip2 xz:xz-utils"; command -v wget >/dev/null 2>&1 || list="$list curl:curl" ;;
    *) echo "need.sh: unknown target '$what'" >&2; exit 2 ;;
esac
# The pinned QEMU (tools/qemu-fetch.sh) is fetched from Debian's archive
# by the targets that boot: curl, unless wget is here.
case $what in
    build|test|bench) command -v wget >/dev/null 2>&1 || list="$list curl:curl" ;;
esac
# The Linux comparison of make bench (bench/linux/run.sh).  Wanted, but not
# required: without these tools make bench still prints Pith's figures and
# says why the comparison is missing.
optional=""
[ "$what" = bench ] && optional="musl-gcc:musl-tools cpio:cpio gzip:gzip dpkg-deb:dpkg mke2fs:e2fsprogs"

missing=""
for pair in $list; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
wanted=""
for pair in $optional; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || wanted="$wanted ${pair#*:}"
done
# grub-mkrescue needs the BIOS (i386-pc) GRUB modules to make a bootable image.
case $what in iso|test) [ -d /usr/lib/grub/i386-pc ] || missing="$missing grub-pc-bin" ;; esac
# The POSIX personality's tests and make run's disk carry Debian's static
# busybox; the plain busybox package is dynamically linked, which Pith's
# personality refuses, so it is replaced.
static_busybox() { [ -x /bin/busybox ] && ! readelf -l /bin/busybox 2>/dev/null | grep -q INTERP; }
case $what in test|build|e2fs) static_busybox || missing="$missing busybox-static" ;; esac
# Every native program links part of musl's static C library (docs/runtime.md).
[ -f /usr/lib/x86_64-linux-musl/libc.a ] || missing="$missing musl-dev"
# Host unit tests need the sanitizer runtimes (libasan, libubsan come with gcc).
[ -z "$missing$wanted" ] && exit 0

missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "need.sh: installing:" $missing $wanted
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || [ -z "$missing" ]
    # shellcheck disable=SC2086
    [ -z "$missing" ] || apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # shellcheck disable=SC2086
    [ -z "$wanted" ] || apt-get install -y -qq --no-install-recommends $wanted >/dev/null ||
        echo "need.sh: could not install$wanted; the Linux comparison may be skipped" >&2
    exit 0
fi
if [ -n "$missing" ]; then
    echo "error: missing host tools; run: sudo apt-get install $missing" >&2
    exit 1
fi
echo "note: the Linux comparison in make bench wants: sudo apt-get install$wanted" >&2
