#!/bin/sh
# make bench: per-stage wall time, Mpx/s and peak RSS of `pcbdiff inspect` on generated pairs.
# Median of RUNS runs after one warm-up. Pairs: a 24 MP pair from the project's own generator
# (always), and the acceptance bench's perfcase.py pairs when ../shared/bench is present.
set -eu
BIN=${1:-build/pcbdiff}
SYNTH=${SYNTH:-build/tools/synthboard}
RUNS=${RUNS:-5}
WORK=${BENCH_DIR:-/tmp/pcbdiff-bench}
SHARED=${SHARED:-../shared}
mkdir -p "$WORK"

bench_pair() { # name reference photo
    name=$1 ref=$2 photo=$3
    echo "== $name: $(basename "$ref") + $(basename "$photo")"
    "$BIN" inspect "$ref" "$photo" -q --json "$WORK/warmup.json" >/dev/null 2>&1 || true
    i=1
    while [ "$i" -le "$RUNS" ]; do
        /usr/bin/time -f '%M' -o "$WORK/rss.$i" "$BIN" inspect "$ref" "$photo" -q \
            --json "$WORK/run.$i.json" --overlay "$WORK/overlay.$i.jpg" >/dev/null 2>&1 || true
        i=$((i + 1))
    done
    python3 - "$WORK" "$RUNS" <<'PY'
import json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
reps = [json.load(open(os.path.join(work, f"run.{i}.json"))) for i in range(1, runs + 1)]
rss = [int(open(os.path.join(work, f"rss.{i}")).read().split()[-1]) for i in range(1, runs + 1)]
r0 = reps[0]
if r0.get("verdict") == "error":
    print("   error:", r0.get("error", {}).get("message"))
    sys.exit(0)
mpx = (r0["inputs"]["reference"]["width"] * r0["inputs"]["reference"]["height"] +
       r0["inputs"]["photo"]["width"] * r0["inputs"]["photo"]["height"]) / 1e6
stages = [k for k in r0["timing_ms"] if k != "total"]
print(f"   inputs: {mpx:.1f} Mpx together; verdict {r0['verdict']}, {len(r0['findings'])} findings")
for k in stages + ["total"]:
    v = statistics.median(r["timing_ms"].get(k, 0) for r in reps)
    print(f"   {k:12s} {v:9.1f} ms")
tot = statistics.median(r["timing_ms"]["total"] for r in reps)
dec = statistics.median(r["timing_ms"].get("decode", 0) for r in reps)
print(f"   throughput   {mpx / (tot / 1000):9.1f} Mpx/s end to end (both inputs)")
print(f"   decode floor {dec:9.1f} ms  -> total / decode = {tot / dec:.1f}x" if dec else "")
print(f"   peak RSS     {statistics.median(rss) / 1024:9.0f} MB")
PY
}

if [ ! -f "$WORK/synth24/reference.png" ]; then
    echo "generating a 24 MP synthetic pair in $WORK/synth24 ..."
    "$SYNTH" pair --out "$WORK/synth24" --megapixels 24 --seed 1 >/dev/null
fi
bench_pair "synthetic 24 MP (project generator)" "$WORK/synth24/reference.png" "$WORK/synth24/photo.jpg"

if [ -x "$SHARED/bench/perfcase.py" ]; then
    for mp in 24 100; do
        [ "$mp" = 100 ] && [ "${BENCH_100:-1}" = 0 ] && continue
        if [ ! -f "$WORK/p$mp/photo.jpg" ]; then
            echo "generating the bench's ${mp} MP case in $WORK/p$mp (perfcase.py) ..."
            "$SHARED/bench/perfcase.py" --out "$WORK/p$mp" --megapixels "$mp" --seed 1 >/dev/null
        fi
        bench_pair "bench perfcase ${mp} MP" "$WORK/p$mp/reference.png" "$WORK/p$mp/photo.jpg"
    done
else
    echo "(../shared/bench not found: skipping the acceptance-bench perfcase pairs)"
fi
