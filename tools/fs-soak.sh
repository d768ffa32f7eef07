#!/bin/bash
# make fs-soak RUNS=10 KILLS=10: the file-system kill scenario of make test
# (tests/system/fs.sh, fs_kills) RUNS times, each a fresh disk and KILLS
# kills of the file server (and one of the disk driver every fifth) under
# a writer.  A run is clean when the writer went on after every kill,
# e2fsck -fy repaired the image to one e2fsck -fn finds clean, and every
# file the writer saw synced was there, whole.  Prints each run's verdict
# and "N of RUNS runs clean (K kills)".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-10}
FS_KILLS=${KILLS:-10}
LOGS=$BUILD/fs-soak
mkdir -p "$LOGS"
clean=0
for run in $(seq 1 "$RUNS"); do
    failed=0
    result() {
        [ "$1" = PASS ] || { failed=1; echo "  run $run: FAIL $2${3:+: $3}"; }
    }
    FS_SCENARIOS=fs_kills . tests/system/fs.sh > "$LOGS/run$run.out" 2>&1
    cp "$LOGS/fs-kills.debugcon" "$LOGS/run$run.debugcon" 2>/dev/null
    if [ $failed = 0 ]; then
        clean=$((clean + 1))
        echo "run $run: clean ($(grep -o '[0-9]* files synced' "$LOGS/run$run.out"))"
    else
        echo "run $run: not clean (see $LOGS/run$run.out)"
    fi
done
echo "$clean of $RUNS runs clean ($((RUNS * FS_KILLS)) kills of the file server)"
[ "$clean" = "$RUNS" ]
