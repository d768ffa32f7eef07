#!/bin/sh
# Usage: musl-subset.sh MEMBERS-FILE LIBC.A OUT.A
# Builds OUT.A from exactly the members of musl's LIBC.A named in
# MEMBERS-FILE (lib/libc/musl-members.txt), so a native program can link
# nothing else from musl.  Fails if a named member is missing.
set -e
list=$1 libc=$2 out=$3
dir=$out.d
rm -rf "$dir" "$out"
mkdir -p "$dir"
members=$(sed 's/#.*//' "$list" | tr ' \t' '\n\n' | sed -n 's/^\(..*\)$/\1.lo/p')
libc=$(cd "$(dirname "$libc")" && pwd)/$(basename "$libc")
# shellcheck disable=SC2086
(cd "$dir" && ar x "$libc" $members)
for m in $members; do
    [ -f "$dir/$m" ] || { echo "musl-subset: $m is not in $libc" >&2; exit 1; }
done
# shellcheck disable=SC2086
(cd "$dir" && ar rcs "$(basename "$out")" $members && mv "$(basename "$out")" ..)
rm -rf "$dir"
