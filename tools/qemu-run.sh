#!/bin/bash
# The one QEMU runner every target uses.
#
#   qemu-run.sh [--accel auto|tcg|icount|kvm] [--smp N] [--mem MiB]
#               [--kernel pith.bin [--append "ARGS"] [--module FILE]... | --iso FILE]
#               [--debugcon FILE] [--serial FILE | --serial-pipe BASE] [--timeout SECONDS]
#               [--interactive] [--gdb] [--disk IMG] [--net NETDEV [--mac MAC]]
#
# Modes (--accel, or ACCEL in the environment):
#   tcg     plain emulation; the default wherever KVM is not real
#   icount  emulation with -icount shift=0,align=off,sleep=off: the guest TSC
#           advances one tick per executed instruction (benchmarks); several
#           CPUs only with QEMU 8.1 or later (the pinned one, below)
#   kvm     hardware virtualisation, -cpu host; "auto" picks it only when
#           /proc/cpuinfo shows vmx or svm and /dev/kvm opens
# --disk IMG attaches a raw image as a modern-only virtio-blk PCI device
# (servers/blk, docs/blk.md).  --net NETDEV adds a modern-only virtio-net
# device on QEMU's -netdev NETDEV (e.g. socket,listen=:PORT; docs/network.md).  The machine is always q35.  The kernel's debug console (port 0xE9) goes to
# --debugcon; isa-debug-exit lets the kernel end QEMU.  Exit status:
#   0 the kernel reported success (isa-debug-exit value 0x10)
#   1 the kernel reported failure (panic, failed test: any other value)
#   2 QEMU itself failed or was stopped
#   124 the timeout expired
# The QEMU is the pinned one (tools/qemu-fetch.sh, unpacked under build/)
# when it is there, else Debian's; QEMU=system forces Debian's
# (tools/qemu-pick.sh).
set -u
. "$(dirname "$0")/qemu-pick.sh"

accel=${ACCEL:-auto}
smp=1 mem=256 kernel="" iso="" append="" debugcon="" serial="" serial_pipe="" timeout=0
interactive=0 gdb=0 disk="" net="" mac=""
modules=()

while [ $# -gt 0 ]; do
    case $1 in
        --accel) accel=$2; shift ;;
        --smp) smp=$2; shift ;;
        --mem) mem=$2; shift ;;
        --kernel) kernel=$2; shift ;;
        --iso) iso=$2; shift ;;
        --append) append=$2; shift ;;
        --module) modules+=("$2"); shift ;;
        --debugcon) debugcon=$2; shift ;;
        --serial) serial=$2; shift ;;
        --serial-pipe) serial_pipe=$2; shift ;;
        --timeout) timeout=$2; shift ;;
        --interactive) interactive=1 ;;
        --gdb) gdb=1 ;;
        --disk) disk=$2; shift ;;
        --net) net=$2; shift ;;
        --mac) mac=$2; shift ;;
        *) echo "qemu-run.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done

# Some machines offer a /dev/kvm that is itself emulated (no vmx/svm in the
# CPU flags) and far slower than plain TCG: never pick that one.
kvm_is_real() {
    grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null || return 1
    { exec 3<>/dev/kvm; } 2>/dev/null || return 1
    exec 3>&-
}

if [ "$accel" = auto ]; then
    if kvm_is_real; then accel=kvm; else accel=tcg; fi
fi

# QEMU_MACHINE: another machine line (the tests' q35,hpet=off boots the PIT's calibration).
args=(-M "${QEMU_MACHINE:-q35}" -m "$mem" -smp "$smp" -no-reboot -display none
      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
case $accel in
    tcg) args+=(-accel tcg -cpu max) ;;
    icount) args+=(-accel tcg -cpu "$icount_cpu" -icount shift=0,align=off,sleep=off)
            append="$append clock=icount" ;;
    kvm) args+=(-enable-kvm -cpu host) ;;
    *) echo "qemu-run.sh: unknown accel '$accel' (tcg, icount, kvm, auto)" >&2; exit 2 ;;
esac

if [ -n "$iso" ]; then
    args+=(-cdrom "$iso" -boot d)
else
    [ -n "$kernel" ] || { echo "qemu-run.sh: give --kernel or --iso" >&2; exit 2; }
    args+=(-kernel "$kernel")
    [ -n "$append" ] && args+=(-append "${append# }")
    if [ ${#modules[@]} -gt 0 ]; then
        # QEMU separates modules with commas; a comma inside a name is written ",,".
        initrd=""
        for m in "${modules[@]}"; do initrd="$initrd${initrd:+,}${m//,/,,}"; done
        args+=(-initrd "$initrd")
    fi
fi

if [ -n "$disk" ]; then
    [ -f "$disk" ] || { echo "qemu-run.sh: no disk image '$disk'" >&2; exit 2; }
    args+=(-drive "file=${disk//,/,,},if=none,id=disk0,format=raw,cache=unsafe"
           -device virtio-blk-pci,drive=disk0,disable-legacy=on)
fi

if [ -n "$net" ]; then
    args+=(-netdev "$net,id=net0" -device "virtio-net-pci,netdev=net0,disable-legacy=on${mac:+,mac=$mac}")
fi

if [ -n "$debugcon" ]; then args+=(-debugcon "file:$debugcon"); else args+=(-debugcon null); fi
if [ $interactive = 1 ]; then
    args+=(-serial mon:stdio)
elif [ -n "$serial_pipe" ]; then
    args+=(-serial "pipe:$serial_pipe")
elif [ -n "$serial" ]; then
    args+=(-serial "file:$serial")
else
    args+=(-serial stdio)
fi
[ $gdb = 1 ] && args+=(-s -S)

if [ $interactive = 1 ]; then
    echo "qemu-run: QEMU $qemu_version, mode $accel, $smp CPU(s), $mem MiB; quit with Ctrl-A x" >&2
fi

if [ $interactive = 1 ]; then
    # In the foreground: QEMU owns the terminal until the user quits.
    "${qemu[@]}" "${args[@]}"
    status=$?
else
    # In the background, so a signal to this script reaches QEMU too.
    if [ "$timeout" != 0 ]; then
        timeout -k 5 "$timeout" "${qemu[@]}" "${args[@]}" </dev/null &
    else
        "${qemu[@]}" "${args[@]}" </dev/null &
    fi
    qpid=$!
    trap 'kill $qpid 2>/dev/null; wait $qpid 2>/dev/null; exit 2' TERM INT HUP
    wait $qpid
    status=$?
fi
case $status in
    33) exit 0 ;;                       # (0x10 << 1) | 1: the kernel said success
    124) echo "qemu-run: timed out after ${timeout}s" >&2; exit 124 ;;
    0) [ $interactive = 1 ] && exit 0   # the user quit
       echo "qemu-run: QEMU ended without a verdict from the kernel" >&2; exit 2 ;;
    *) if [ $((status & 1)) = 1 ] && [ $status -ge 3 ] && [ $status -le 511 ]; then
           echo "qemu-run: kernel reported failure (exit code $(( (status - 1) / 2 )))" >&2; exit 1
       fi
       echo "qemu-run: QEMU failed with status $status" >&2; exit 2 ;;
esac
