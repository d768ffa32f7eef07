#!/bin/bash
# Boots Debian's stock Linux kernel in QEMU with ipcbench as /init and prints
# the guest's figures (`bench linux.NAME ...` and `# linux.info ...` lines).
#
#   bench/linux/run.sh [--accel icount|kvm|tcg|auto] [--smp N] [--samples N]
#                      [--timeout SECONDS]
#
# ACCEL, SMP and BUILD come from the environment too (as in make bench).
# KERNEL=/path/to/bzImage skips the download.  The kernel, the ipcbench build,
# the initramfs and the serial log live in $BUILD/linux-guest/.
# On any failure: one line on stderr saying why, exit status 1.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
dir=$BUILD/linux-guest
accel=${ACCEL:-auto} smp=${SMP:-1} samples="" timeout=600

fail() { echo "linux-guest: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
    case $1 in
        --accel) accel=$2; shift ;;
        --smp) smp=$2; shift ;;
        --samples) samples=$2; shift ;;
        --timeout) timeout=$2; shift ;;
        *) fail "unknown option '$1'" ;;
    esac
    shift
done
mkdir -p "$dir" || fail "cannot create $dir"

# The same choice as tools/bench.sh: KVM only where it is real hardware virtualisation.
if [ "$accel" = auto ]; then
    accel=icount
    if grep -qwE 'vmx|svm' /proc/cpuinfo && { exec 3<>/dev/kvm; } 2>/dev/null; then
        exec 3>&-; accel=kvm
    fi
fi
append="console=ttyS0 quiet panic=-1"
case $accel in
    icount) mode=(-accel tcg -cpu max -icount shift=0,align=off,sleep=off)
            append="$append pith_unit=insns" ;;
    tcg) mode=(-accel tcg -cpu max) ;;
    kvm) mode=(-enable-kvm -cpu host) ;;
    *) fail "unknown accel '$accel' (icount, kvm, tcg, auto)" ;;
esac

# QEMU before 8.1 gives the whole icount time slice to the first vCPU, and
# Linux hangs bringing up the second: there, one CPU (no *_xcpu figures).
qemu_version=$(qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
[ -n "$qemu_version" ] || fail "qemu-system-x86_64 not found"
if [ "$accel" = icount ] && [ "$smp" -gt 1 ] &&
   [ "$(printf '%s\n8.1\n' "$qemu_version" | sort -V | head -1)" != 8.1 ]; then
    echo "# linux guest: QEMU $qemu_version cannot run icount with $smp CPUs; using 1" >&2
    smp=1
fi

# ---- the kernel: Debian's current stock amd64 image, fetched once ----
kernel=${KERNEL:-$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)}
if [ -z "$kernel" ]; then
    if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
        fail "cannot fetch the Linux kernel: apt-get and dpkg-deb are needed (or set KERNEL=bzImage)"
    fi
    # linux-image-amd64 is the metapackage; it depends on the versioned image.
    find_pkg() {
        apt-cache depends linux-image-amd64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1
    }
    pkg=$(find_pkg)
    if [ -z "$pkg" ]; then
        apt-get update -qq >"$dir/apt.log" 2>&1
        pkg=$(find_pkg)
    fi
    [ -n "$pkg" ] || fail "cannot fetch the Linux kernel: apt knows no linux-image-amd64 (no Debian apt sources, or apt-get update failed: see $dir/apt.log)"
    echo "# linux guest: downloading $pkg (once, into $dir)" >&2
    rm -f "$dir"/*.deb
    (cd "$dir" && apt-get download "$pkg") >"$dir/apt.log" 2>&1 ||
        fail "cannot fetch the Linux kernel: apt-get download $pkg failed (no network?); see $dir/apt.log"
    dpkg-deb --fsys-tarfile "$dir"/"$pkg"_*.deb | tar -xf - -C "$dir" --wildcards './boot/vmlinuz-*' ||
        fail "cannot extract vmlinuz from the $pkg package"
    rm -f "$dir"/*.deb
    kernel=$(ls "$dir"/boot/vmlinuz-* | sort -V | tail -1)
fi
[ -r "$kernel" ] || fail "kernel image $kernel is not readable"

# ---- ipcbench as /init of a gzip'd cpio archive ----
bin=$dir/ipcbench
if [ ! -x "$bin" ] || [ bench/linux/ipcbench.c -nt "$bin" ]; then
    # musl makes a static binary of a few tens of KiB; glibc's -static works too.
    cc=gcc; command -v musl-gcc >/dev/null && cc=musl-gcc
    $cc -O2 -static -Wall -o "$bin" bench/linux/ipcbench.c 2>"$dir/cc.log" ||
        fail "cannot build ipcbench with $cc -static; see $dir/cc.log"
fi
command -v cpio >/dev/null || fail "cpio is needed to make the initramfs (apt-get install cpio)"
root=$dir/initramfs
rm -rf "$root" && mkdir -p "$root" && cp "$bin" "$root/init"
(cd "$root" && echo init | cpio -o -H newc -R 0:0 --quiet) | gzip -9 > "$dir/initramfs.cpio.gz" ||
    fail "cannot make the initramfs"

# ---- boot: the machine of tools/qemu-run.sh, but with 1 GiB ----
log=$dir/serial.log
rm -f "$log"
[ -n "$samples" ] && append="$append -- $samples"
timeout -k 5 "$timeout" qemu-system-x86_64 -M q35 -m 1G -smp "$smp" "${mode[@]}" \
    -no-reboot -display none -serial "file:$log" -monitor none \
    -kernel "$kernel" -initrd "$dir/initramfs.cpio.gz" -append "$append" \
    </dev/null >"$dir/qemu.log" 2>&1
status=$?
[ $status = 124 ] && fail "the guest did not finish within ${timeout}s; see $log"
[ $status = 0 ] || fail "QEMU failed (status $status); see $dir/qemu.log"
tr -d '\r' < "$log" > "$log.clean"
grep -q '^# linux\.done' "$log.clean" ||
    fail "the guest stopped before its last figure: $(grep -m1 -E '^# linux\.error|Kernel panic' "$log.clean" || echo "see $log")"
grep -E '^(bench linux\.|# linux\.info )' "$log.clean"
