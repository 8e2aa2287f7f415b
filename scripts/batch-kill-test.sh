#!/bin/sh
# The batch's crash test at scale (issue 14): a generated archive (PHOTOS photos of two boards,
# corrupt files, photos of another board listed under the wrong board), inspected once without
# interruption, then again killed with kill -9 KILLS times at random moments and restarted each
# time; the database must verify after every kill, and at the end hold exactly one row per
# photo with the same verdicts as the uninterrupted run.
#   scripts/batch-kill-test.sh build/pcbdiff [WORKDIR]
# Environment: PHOTOS (200), KILLS (20), JOBS (the cores).
set -eu
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SB=$(dirname "$BIN")/tools/synthboard
W=${2:-/tmp/pcbdiff-killtest}
PHOTOS=${PHOTOS:-200}
KILLS=${KILLS:-20}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$W"
cd "$W"
if [ ! -f manifest.csv ]; then
    mkdir -p boards/a boards/b photos
    "$SB" board --out boards/a/golden.png --width-mm 80 --height-mm 60 --px-per-mm 6 --seed 11 \
        --profile boards/a/board.ini >/dev/null
    "$SB" board --out boards/b/golden.png --width-mm 80 --height-mm 60 --px-per-mm 6 --seed 12 \
        --profile boards/b/board.ini >/dev/null
    echo "photo,board,unit" >m.tmp
    i=1
    while [ "$i" -le "$PHOTOS" ]; do
        b=a s=11
        [ $((i % 2)) = 0 ] && b=b s=12
        extra=""
        [ $((i % 7)) = 0 ] && extra=--implant
        # shellcheck disable=SC2086
        "$SB" photo --golden boards/$b/golden.png --board-seed $s --px-per-mm 6 --seed "$i" \
            --out photos/p$i.jpg $extra >/dev/null
        if [ $((i % 29)) = 0 ]; then # a photo of b listed as a (the other board)
            echo "photos/p$i.jpg,a,U$i" >>m.tmp
        else
            echo "photos/p$i.jpg,$b,U$i" >>m.tmp
        fi
        i=$((i + 1))
    done
    for c in 3 8 13 21 34 55; do # truncated copies
        head -c $((c * 500)) photos/p$c.jpg >photos/cut$c.jpg
        echo "photos/cut$c.jpg,a,C$c" >>m.tmp
    done
    echo "not a photo" >photos/notes.png
    echo "photos/notes.png,b,N1" >>m.tmp
    echo "photos/missing.jpg,a,M1" >>m.tmp
    mv m.tmp manifest.csv
fi
rows=$(($(wc -l <manifest.csv) - 1))
export_rows() {
    "$BIN" db export --jsonl "$1" | python3 -c '
import json, sys
keys = ("photo_path", "photo_sha256", "board", "unit_id", "verdict", "n_findings", "exit_code",
        "reason", "findings")
print("\n".join(sorted(json.dumps([json.loads(l)[k] for k in keys]) for l in sys.stdin)))'
}
rm -f killed.sqlite*
if [ ! -f ref.time ] || [ ! -f ref.sqlite ]; then # the uninterrupted run (kept for re-runs)
    rm -f ref.sqlite*
    start=$(date +%s.%N)
    "$BIN" batch --boards boards --db ref.sqlite --jobs "$JOBS" manifest.csv -q || true
    echo "$(date +%s.%N) - $start" | bc >ref.time
fi
t=$(cat ref.time)
echo "uninterrupted: $rows manifest rows in ${t}s"
# the kill moments: KILL_MAX (0.6) seconds at most after each start, at random (start-up,
# boards being prepared, photos being read, inspected, written); a kill that comes after its
# run finished does not count, and a new run is started and killed instead
KILL_MAX=${KILL_MAX:-0.6}
landed=0
tries=0
while [ "$landed" -lt "$KILLS" ] && [ "$tries" -lt $((KILLS * 3)) ]; do
    tries=$((tries + 1))
    "$BIN" batch --boards boards --db killed.sqlite --jobs "$JOBS" manifest.csv -q &
    pid=$!
    sleep "$(python3 -c "import random; print(round(random.uniform(0.05, $KILL_MAX), 3))")"
    if kill -9 "$pid" 2>/dev/null; then
        landed=$((landed + 1))
        when="kill $landed"
    else
        when="(run $tries finished before its kill)"
    fi
    wait "$pid" 2>/dev/null || true
    if [ -f killed.sqlite ]; then
        n=$("$BIN" db verify killed.sqlite 2>&1) || { echo "$when: $n"; exit 1; }
        echo "$when: $n"
    else
        echo "$when: before the database was made"
    fi
done
echo "$landed kills landed while the batch ran"
"$BIN" batch --boards boards --db killed.sqlite --jobs "$JOBS" manifest.csv || true
"$BIN" db verify killed.sqlite
export_rows ref.sqlite >ref.rows
export_rows killed.sqlite >killed.rows
echo "rows: uninterrupted $(wc -l <ref.rows), killed and resumed $(wc -l <killed.rows), manifest $rows"
if cmp -s ref.rows killed.rows && [ "$(wc -l <ref.rows)" = "$rows" ]; then
    echo "PASS: one row per photo, the same verdicts as the uninterrupted run"
else
    diff ref.rows killed.rows | head
    echo "FAIL"
    exit 1
fi
