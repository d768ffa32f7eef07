#!/bin/sh
# Prints the base address of the Debian archive this machine's apt uses
# (the one serving Debian 12's own suite), for the fetchers of pinned
# files from its pool (tools/lwip-fetch.sh, tools/qemu-fetch.sh,
# tools/bearssl-vendor.sh): the project names no mirror of its own, so a
# machine fetches from the archive it already installs packages from.
# Exit status 1, printing nothing, when apt names none.
apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
    awk '$2 == "bookworm" { sub("/+$", "", $1); print $1; found = 1; exit }
         END { exit !found }' && exit 0
# No index downloaded yet (apt-get update never ran): the sources files.
cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^deb[ \t]/ && $0 ~ / bookworm( |$)/ {
             for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { u = $i; break }
             if (u != "") { sub("/+$", "", u); print u; found = 1; exit } }
         /^URIs:/ { uri = $2 }
         /^Suites:/ && $0 ~ / bookworm( |$)/ && uri != "" && uri !~ /security/ {
             sub("/+$", "", uri); print uri; found = 1; exit }
         END { exit !found }'
