#!/bin/sh
# Usage: mkiso.sh OUT.iso "KERNEL ARGS" pith.bin [MODULE]...
# A GRUB (BIOS) rescue image: boots Pith through GRUB's Multiboot loader,
# with the console on COM1 as well as the screen.
set -e
out=$1 args=$2 kernel=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub" "$dir/boot/modules"
cp "$kernel" "$dir/boot/pith.bin"
mods=""
for m in "$@"; do
    cp "$m" "$dir/boot/modules/"
    mods="$mods    module /boot/modules/$(basename "$m") $(basename "$m")
"
done
timeout=3
[ -n "$args" ] && timeout=0
cat > "$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=$timeout
menuentry "Pith" {
    multiboot /boot/pith.bin $args
$mods    boot
}
CFG
grub-mkrescue -o "$out" "$dir" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
echo "  ISO     $out"
