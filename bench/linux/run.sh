#!/bin/bash
# Boots Debian's stock Linux kernel in QEMU with ipcbench as /init and prints
# the guest's figures (`bench linux.NAME ...` and `# linux.info ...` lines).
#
#   bench/linux/run.sh [--accel icount|kvm|tcg|auto] [--smp N] [--samples N]
#                      [--timeout SECONDS]
#
# ACCEL, SMP and BUILD come from the environment too (as in make bench).
# KERNEL=/path/to/bzImage skips the download.  The kernel, the ipcbench build,
# the initramfs and the serial log live in $BUILD/linux-guest/.  The file-system
# figures run on a fresh ext2 image ($BUILD/linux-guest/fs.img) attached as a
# virtio-blk disk; the guest loads the modules it needs from the initramfs.
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
# The QEMU and -cpu of tools/qemu-run.sh (the pinned QEMU when unpacked).
. tools/qemu-pick.sh
append="console=ttyS0 quiet panic=-1"
case $accel in
    icount) mode=(-accel tcg -cpu "$icount_cpu" -icount shift=0,align=off,sleep=off)
            append="$append pith_unit=insns" ;;
    tcg) mode=(-accel tcg -cpu max) ;;
    kvm) mode=(-enable-kvm -cpu host) ;;
    *) fail "unknown accel '$accel' (icount, kvm, tcg, auto)" ;;
esac

# QEMU before 8.1 gives the whole icount time slice to the first vCPU, and
# Linux hangs bringing up the second: there, one CPU (no *_xcpu figures).
[ -n "$qemu_version" ] || fail "qemu-system-x86_64 not found"
if [ "$accel" = icount ] && [ "$smp" -gt 1 ] && [ "$icount_smp" != 1 ]; then
    echo "# linux guest: QEMU $qemu_version cannot run icount with $smp CPUs; using 1" >&2
    smp=1
fi

# ---- the kernel: Debian's current stock amd64 image, fetched once ----
# From the package: boot/vmlinuz-*, boot/config-* and the few modules the
# file-system figures load (lib/modules/VERSION/...).  A kernel kept from
# before the modules were wanted fetches the package again.
kernel=${KERNEL:-$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)}
fs_off=""   # why there are no file-system figures, if there are none
# The modules, dependencies first: CONFIG symbol, module name.  A symbol that
# is =y is built in (nothing to load); =m needs the module from the package.
fs_modules="VIRTIO:virtio_ring VIRTIO:virtio VIRTIO_PCI_LIB_LEGACY:virtio_pci_legacy_dev
VIRTIO_PCI_LIB:virtio_pci_modern_dev VIRTIO_PCI:virtio_pci VIRTIO_BLK:virtio_blk
CRC16:crc16 FS_MBCACHE:mbcache CRYPTO_CRC32C:crc32c_generic JBD2:jbd2 EXT4_FS:ext4"
fetch_kernel() {   # $1 = "all" (vmlinuz too) or "modules"; on failure, the reason on stdout
    if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
        echo "cannot fetch the Linux kernel: apt-get and dpkg-deb are needed (or set KERNEL=bzImage)"
        return 1
    fi
    # linux-image-amd64 is the metapackage; it depends on the versioned image.
    find_pkg() {
        apt-cache depends linux-image-amd64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1
    }
    local pkg; pkg=$(find_pkg)
    if [ -z "$pkg" ]; then
        apt-get update -qq >"$dir/apt.log" 2>&1
        pkg=$(find_pkg)
    fi
    if [ -z "$pkg" ]; then
        echo "cannot fetch the Linux kernel: apt knows no linux-image-amd64 (no Debian apt sources, or apt-get update failed: see $dir/apt.log)"
        return 1
    fi
    # A kept vmlinuz of another version than apt's current one: modules must match it.
    if [ "$1" = modules ] && [ "$pkg" != "linux-image-${kernel##*/vmlinuz-}" ]; then
        echo "the kept kernel ${kernel##*/} is not apt's current $pkg (remove $dir/boot to fetch that)"
        return 1
    fi
    echo "# linux guest: downloading $pkg (once, into $dir)" >&2
    rm -f "$dir"/*.deb
    if ! (cd "$dir" && apt-get download "$pkg") >"$dir/apt.log" 2>&1; then
        echo "cannot fetch the Linux kernel: apt-get download $pkg failed (no network?); see $dir/apt.log"
        return 1
    fi
    # tar complains of a pattern nothing matches (a module built in): the checks below decide.
    local want=(./boot/config-*) m
    [ "$1" = all ] && want+=(./boot/vmlinuz-*)
    for m in $fs_modules ext2; do want+=("./lib/modules/*/${m#*:}.ko*"); done
    dpkg-deb --fsys-tarfile "$dir"/"$pkg"_*.deb | tar -xf - -C "$dir" --wildcards "${want[@]}" 2>"$dir/tar.log"
    rm -f "$dir"/*.deb
    ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1 || { echo "cannot extract vmlinuz from the $pkg package"; return 1; }
}
if [ -z "$kernel" ]; then
    why=$(fetch_kernel all) || fail "$why"
    kernel=$(ls "$dir"/boot/vmlinuz-* | sort -V | tail -1)
elif [ -z "${KERNEL:-}" ] && [ ! -e "$dir/boot/config-${kernel##*/vmlinuz-}" ]; then
    fs_off=$(fetch_kernel modules) || fs_off="no kernel modules: $fs_off"
fi
[ -r "$kernel" ] || fail "kernel image $kernel is not readable"

# ---- the modules the ext2 volume needs, in load order (modules/order) ----
# Chosen from the kernel's config: built-in parts are skipped; compressed
# modules stay compressed when the kernel unpacks them itself
# (CONFIG_MODULE_DECOMPRESS, finit_module's MODULE_INIT_COMPRESSED_FILE),
# else they are unpacked here.  Config and modules are looked for as in an
# unpacked package: DIR/config-VERSION beside DIR/vmlinuz-VERSION and
# DIR/../lib/modules/VERSION/.  None there (KERNEL=...): no modules, the
# guest tries the disk as it is.
root=$dir/initramfs
rm -rf "$root" && mkdir -p "$root/modules" || fail "cannot create $root"
kver=${kernel##*/vmlinuz-}
kdir=$(dirname "$kernel")
config=$kdir/config-$kver
moddir=$kdir/../lib/modules/$kver
if [ -z "$fs_off" ] && [ -r "$config" ]; then
    cfg() { sed -n "s/^CONFIG_$1=//p" "$config"; }
    list=$fs_modules
    # A kernel with its own ext2 driver uses that; else ext4 must serve ext2.
    case $(cfg EXT2_FS) in
        y|m) list=$(echo $list | tr ' ' '\n' | grep -E '^VIRTIO|^FS_MBCACHE'; echo EXT2_FS:ext2) ;;
        *) case $(cfg EXT4_FS)$(cfg EXT4_USE_FOR_EXT2) in
               yy|my) ;;
               *) fs_off="the kernel has no ext2 driver (CONFIG_EXT2_FS, or CONFIG_EXT4_FS with CONFIG_EXT4_USE_FOR_EXT2)" ;;
           esac ;;
    esac
    for s in VIRTIO_PCI VIRTIO_BLK; do
        [ -n "$(cfg $s)" ] || fs_off=${fs_off:-"the kernel has no CONFIG_$s"}
    done
    decompress=$(cfg MODULE_DECOMPRESS)
    for pair in $list; do
        [ -z "$fs_off" ] || break
        sym=${pair%%:*} mod=${pair#*:}
        [ "$(cfg "$sym")" = m ] || continue
        ko=$(find "$moddir" -name "$mod.ko*" 2>/dev/null | head -1)
        if [ -z "$ko" ]; then
            fs_off="$mod.ko (CONFIG_$sym=m) is not in $moddir"
            break
        fi
        base=${ko##*/}
        case $base in
            *.ko) cp "$ko" "$root/modules/" || { fs_off="cannot copy $ko"; break; } ;;
            *) if [ "$decompress" = y ]; then
                   cp "$ko" "$root/modules/" || { fs_off="cannot copy $ko"; break; }
               else
                   case $base in
                       *.xz) tool="xz -dc" ;;
                       *.zst) tool="zstd -dc" ;;
                       *.gz) tool="gzip -dc" ;;
                       *) fs_off="$base: unknown compression"; break ;;
                   esac
                   base=$mod.ko
                   $tool "$ko" > "$root/modules/$base" 2>/dev/null ||
                       { fs_off="cannot unpack ${ko##*/} with $tool"; break; }
               fi ;;
        esac
        echo "$base" >> "$root/modules/order"
    done
fi

# ---- the disk: a fresh ext2 image, as Pith's file server gets ----
img=$dir/fs.img
disk=()
if [ -z "$fs_off" ]; then
    mke2fs=$(PATH=$PATH:/usr/sbin:/sbin command -v mke2fs)
    rm -f "$img"
    if [ -z "$mke2fs" ]; then
        fs_off="mke2fs is needed for the disk image (apt-get install e2fsprogs)"
    elif ! { truncate -s 32M "$img" && "$mke2fs" -q -F -t ext2 -b 1024 "$img"; } >"$dir/mke2fs.log" 2>&1; then
        fs_off="mke2fs failed; see $dir/mke2fs.log"
    else
        disk=(-drive "file=$img,if=none,id=disk0,format=raw,cache=unsafe"
              -device virtio-blk-pci,drive=disk0,disable-legacy=on)
        append="$append pith_fs=1"
    fi
fi

# ---- ipcbench as /init of a gzip'd cpio archive ----
bin=$dir/ipcbench
if [ ! -x "$bin" ] || [ bench/linux/ipcbench.c -nt "$bin" ]; then
    # musl makes a static binary of a few tens of KiB; glibc's -static works too.
    cc=gcc; command -v musl-gcc >/dev/null && cc=musl-gcc
    $cc -O2 -static -Wall -o "$bin" bench/linux/ipcbench.c 2>"$dir/cc.log" ||
        fail "cannot build ipcbench with $cc -static; see $dir/cc.log"
fi
# bench/posix/posixbench.c as /posixbench: the program Pith's POSIX personality runs too.
pbin=$dir/posixbench
cc=gcc; command -v musl-gcc >/dev/null && cc=musl-gcc
if [ ! -x "$pbin" ] || [ bench/posix/posixbench.c -nt "$pbin" ]; then
    $cc -O2 -static -Wall -o "$pbin" bench/posix/posixbench.c 2>>"$dir/cc.log" ||
        fail "cannot build posixbench with $cc -static; see $dir/cc.log"
fi
cp "$pbin" "$root/posixbench" || fail "cannot copy posixbench into $root"
command -v cpio >/dev/null || fail "cpio is needed to make the initramfs (apt-get install cpio)"
cp "$bin" "$root/init" || fail "cannot copy ipcbench into $root"
(cd "$root" && find . -mindepth 1 | sed 's|^\./||' | sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 > "$dir/initramfs.cpio.gz" ||
    fail "cannot make the initramfs"

# ---- boot: the machine of tools/qemu-run.sh, but with 1 GiB ----
log=$dir/serial.log
rm -f "$log"
[ -n "$samples" ] && append="$append -- $samples"
timeout -k 5 "$timeout" "${qemu[@]}" -M q35 -m 1G -smp "$smp" "${mode[@]}" \
    -no-reboot -display none -serial "file:$log" -monitor none \
    -kernel "$kernel" -initrd "$dir/initramfs.cpio.gz" -append "$append" ${disk[@]+"${disk[@]}"} \
    </dev/null >"$dir/qemu.log" 2>&1
status=$?
[ $status = 124 ] && fail "the guest did not finish within ${timeout}s; see $log"
[ $status = 0 ] || fail "QEMU failed (status $status); see $dir/qemu.log"
tr -d '\r' < "$log" > "$log.clean"
grep -q '^# linux\.done' "$log.clean" ||
    fail "the guest stopped before its last figure: $(grep -m1 -E '^# linux\.error|Kernel panic' "$log.clean" || echo "see $log")"
grep -E '^(bench linux\.|# linux\.info |# linux\.fs unavailable: )' "$log.clean"
[ -z "$fs_off" ] || echo "# linux.fs unavailable: $fs_off"
