# Sourced (bash) by every script that starts QEMU: picks the QEMU to run.
# The pinned one that tools/qemu-fetch.sh unpacked under the build tree
# (QEMU 10.0: several CPUs under icount) when it is there, else Debian's
# qemu-system-x86_64 from the PATH.  QEMU=system forces Debian's;
# QEMU_DIR names another unpacked tree.  Sets:
#   qemu          the command and the options that go with the binary (an array)
#   qemu_version  e.g. 10.0.2
#   icount_cpu    the -cpu model under icount: QEMU 10.0 stops with "Bad
#                 icount read" when the guest reads an x2APIC register (an
#                 rdmsr) under icount, so there the guest gets the xAPIC
#                 (MMIO) only; QEMU 7.2 keeps -cpu max
#   icount_smp    1 if this QEMU runs several CPUs under icount (8.1 and later)
qemu_dir=${BUILD:-build}/qemu
case $qemu_dir in /*) ;; *) qemu_dir=$(dirname "${BASH_SOURCE[0]}")/../$qemu_dir ;; esac
qemu_dir=${QEMU_DIR:-$qemu_dir}
# qemu-fetch.sh leaves .unpacked-VERSION only once the binary has run.
if [ "${QEMU:-}" != system ] && compgen -G "$qemu_dir/.unpacked-*" >/dev/null; then
    # Its firmware and modules first, never Debian 12's (QEMU loads only
    # modules of its own build and says so for each); no audio back end to probe.
    qemu=(env "QEMU_MODULE_DIR=$qemu_dir/usr/lib/x86_64-linux-gnu/qemu"
          "$qemu_dir/usr/bin/qemu-system-x86_64"
          -L "$qemu_dir/usr/share/qemu" -L "$qemu_dir/usr/share/seabios"
          -L "$qemu_dir/usr/lib/ipxe/qemu" -audio none)
else
    qemu=(qemu-system-x86_64)
fi
qemu_version=$("${qemu[@]}" --version 2>/dev/null | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
icount_cpu=max icount_smp=0
if [ -n "$qemu_version" ] && [ "$(printf '%s\n8.1\n' "$qemu_version" | sort -V | head -1)" = 8.1 ]; then
    icount_cpu=max,-x2apic icount_smp=1
fi
