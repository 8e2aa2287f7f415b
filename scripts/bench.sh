#!/bin/sh
# make bench: per-stage wall time, end-to-end wall time, peak RSS and Mpx/s of `pcbdiff inspect`
# (JSON and overlay written) on big pairs, median of RUNS runs after one warm-up; beside it the
# decode-only floor of the two inputs and the textbook peer (../shared/bench/baseline.py) timed
# on the same pair in the same run.
# Pairs: the acceptance bench's perfcase.py 24 MP and 100 MP cases (reference.jpg + photo.jpg),
# when ../shared/bench is present (else skipped with a message; the tests never need it), and
# a 24 MP pair from the project's own generator (SYNTH=1).
# Environment: RUNS (5), BENCH_100 (1: also the 100 MP pair), PEER_RUNS (3), BENCH_DIR,
# BASELINE (another pcbdiff binary, e.g. the previous commit's: run alternately with this one,
# run for run, and compared stage by stage: the machine's noise hits both alike).
# Then scripts/bench-batch.sh: pcbdiff batch against a parallel loop of pcbdiff inspect
# (BENCH_BATCH=0 skips it; BATCH_PHOTOS, BATCH_24, RUNS_BATCH).
set -eu
BIN=${1:-build/pcbdiff}
BASELINE=${BASELINE:-}
DECODET=${DECODET:-build/tools/decodetime}
SYNTHBOARD=${SYNTHBOARD:-build/tools/synthboard}
RUNS=${RUNS:-5}
PEER_RUNS=${PEER_RUNS:-3}
WORK=${BENCH_DIR:-/tmp/pcbdiff-bench}
SHARED=${SHARED:-../shared}
PY=/usr/bin/python3
mkdir -p "$WORK"

# wall seconds and peak RSS (KB) of one command, into $WORK/$2.time
timed() { # tag cmd...
    tag=$1
    shift
    /usr/bin/time -f '%e %M' -o "$WORK/$tag.time" "$@" >/dev/null 2>"$WORK/$tag.err" || true
}

bench_pair() { # name reference photo [px_per_mm]
    name=$1 ref=$2 photo=$3 pxmm=${4:-0}
    echo "== $name: $ref + $photo"
    "$DECODET" "$ref" "$photo" >"$WORK/decode.txt"
    timed warmup "$BIN" inspect "$ref" "$photo" -q --json "$WORK/warmup.json"
    i=1
    while [ "$i" -le "$RUNS" ]; do
        timed "run.$i" "$BIN" inspect "$ref" "$photo" -q --json "$WORK/run.$i.json" \
            --overlay "$WORK/overlay.$i.jpg"
        if [ -n "$BASELINE" ]; then
            timed "base.$i" "$BASELINE" inspect "$ref" "$photo" -q --json "$WORK/base.$i.json" \
                --overlay "$WORK/base-overlay.$i.jpg"
        fi
        i=$((i + 1))
    done
    i=1
    while [ "$i" -le "$PEER_RUNS" ]; do
        if [ -f "$SHARED/bench/baseline.py" ]; then
            timed "peer.$i" "$PY" "$SHARED/bench/baseline.py" inspect "$ref" "$photo" \
                --json "$WORK/peer.$i.json" --px-per-mm "$pxmm"
        fi
        i=$((i + 1))
    done
    "$PY" - "$WORK" "$RUNS" "$PEER_RUNS" "$(dirname "$ref")" "$SHARED" "$BASELINE" <<'PY'
import json, os, statistics as st, subprocess, sys
work, runs, peer_runs, case, shared = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
baseline = sys.argv[6]
reps = [json.load(open(os.path.join(work, f"run.{i}.json"))) for i in range(1, runs + 1)]
def tail(p): return open(p).read().strip().splitlines()[-1].split()
times = [tail(os.path.join(work, f"run.{i}.time")) for i in range(1, runs + 1)]
wall = st.median(float(t[0]) * 1000 for t in times)
rss = st.median(int(t[1]) for t in times) / 1024
r0 = reps[0]
if r0.get("verdict") == "error":
    print("   error:", r0.get("error", {}).get("message"))
    sys.exit(0)
mpx = (r0["inputs"]["reference"]["width"] * r0["inputs"]["reference"]["height"] +
       r0["inputs"]["photo"]["width"] * r0["inputs"]["photo"]["height"]) / 1e6
print(f"   inputs: {mpx:.1f} Mpx together; verdict {r0['verdict']}, {len(r0['findings'])} findings")
stages = [k for k in r0["timing_ms"] if k != "total"]
for k in stages:
    print(f"   {k:14s} {st.median(r['timing_ms'].get(k, 0) for r in reps):8.1f} ms")
total = st.median(r["timing_ms"]["total"] for r in reps)
print(f"   {'pipeline':14s} {total:8.1f} ms  (decode .. findings)")
print(f"   {'end to end':14s} {wall:8.1f} ms  (process start to exit: JSON and overlay written)")
dec = {l.split()[0]: float(l.split()[1]) for l in open(os.path.join(work, "decode.txt"))}
floor = dec["total"]
print(f"   {'decode floor':14s} {floor:8.1f} ms  (both inputs, decode only, one thread)"
      f"  -> end to end / floor = {wall / floor:.1f}x")
print(f"   {'throughput':14s} {mpx / (wall / 1000):8.1f} Mpx/s end to end")
print(f"   {'peak RSS':14s} {rss:8.0f} MB")
if baseline and all(os.path.exists(os.path.join(work, f"base.{i}.json")) for i in range(1, runs + 1)):
    base = [json.load(open(os.path.join(work, f"base.{i}.json"))) for i in range(1, runs + 1)]
    btimes = [tail(os.path.join(work, f"base.{i}.time")) for i in range(1, runs + 1)]
    bwall = st.median(float(t[0]) * 1000 for t in btimes)
    print(f"   side by side with BASELINE={baseline} (alternating runs, medians):")
    print(f"   {'stage':14s} {'this':>8s} {'baseline':>9s} {'ratio':>6s}")
    for k in stages + ["total"]:
        a = st.median(r["timing_ms"].get(k, 0) for r in reps)
        b = st.median(r["timing_ms"].get(k, 0) for r in base)
        print(f"   {k:14s} {a:8.1f} {b:9.1f} {a / b if b else 0:6.2f}")
    print(f"   {'end to end':14s} {wall:8.1f} {bwall:9.1f} {wall / bwall:6.2f}")
    print(f"   {'peak RSS MB':14s} {rss:8.0f} {st.median(int(t[1]) for t in btimes) / 1024:9.0f}")
peer = [tail(os.path.join(work, f"peer.{i}.time")) for i in range(1, peer_runs + 1)
        if os.path.exists(os.path.join(work, f"peer.{i}.time"))]
if peer:
    pw = st.median(float(t[0]) * 1000 for t in peer)
    print(f"   {'textbook peer':14s} {pw:8.1f} ms  (baseline.py, median of {len(peer)}; peak RSS "
          f"{st.median(int(t[1]) for t in peer) / 1024:.0f} MB) -> pcbdiff is {pw / wall:.2f}x as fast")
truth = os.path.join(case, "truth.json")
score = os.path.join(shared, "bench", "score.py")
if os.path.exists(truth) and os.path.exists(score):
    for tag, rep in (("pcbdiff", f"run.1.json"), ("peer", "peer.1.json")):
        p = os.path.join(work, rep)
        if os.path.exists(p):
            out = subprocess.run(["/usr/bin/python3", score, case, p], capture_output=True, text=True).stdout
            try:
                s = json.loads(out.strip().splitlines()[-1])
                print(f"   {'score ' + tag:14s} detected {s['detected']}/{s['truth_changes']}, "
                      f"{s['false_positives']} false positives, registration "
                      f"{s['registration_error_px']['median'] if s.get('registration_error_px') else '-'} px")
            except (ValueError, IndexError, KeyError, TypeError):
                pass
PY
}

if [ -f "$SHARED/bench/perfcase.py" ]; then
    for mp in 24 100; do
        [ "$mp" = 100 ] && [ "${BENCH_100:-1}" = 0 ] && continue
        if [ ! -f "$WORK/p$mp/photo.jpg" ]; then
            echo "generating the bench's ${mp} MP case in $WORK/p$mp (perfcase.py; ~2 GB RAM at 24 MP," \
                "~8 GB at 100 MP) ..."
            "$PY" "$SHARED/bench/perfcase.py" --out "$WORK/p$mp" --megapixels "$mp" --seed 1 \
                --datasets "$SHARED/datasets" >/dev/null
        fi
        pxmm=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['px_per_mm'])" \
            "$WORK/p$mp/truth.json")
        bench_pair "bench perfcase ${mp} MP" "$WORK/p$mp/reference.jpg" "$WORK/p$mp/photo.jpg" "$pxmm"
    done
else
    echo "($SHARED/bench not found: skipping the acceptance bench's perfcase pairs)"
fi

if [ "${SYNTH:-0}" = 1 ]; then
    if [ ! -f "$WORK/synth24/reference.png" ]; then
        echo "generating a 24 MP synthetic pair in $WORK/synth24 ..."
        "$SYNTHBOARD" pair --out "$WORK/synth24" --megapixels 24 --seed 1 >/dev/null
    fi
    bench_pair "synthetic 24 MP (project generator)" "$WORK/synth24/reference.png" \
        "$WORK/synth24/photo.jpg"
fi

# pcbdiff batch against a parallel loop of single inspections (BENCH_BATCH=0 skips it)
if [ "${BENCH_BATCH:-1}" = 1 ]; then
    BENCH_DIR=$WORK SYNTHBOARD=$SYNTHBOARD "$(dirname "$0")/bench-batch.sh" "$BIN"
fi

# pcbdiff serve against pcbdiff inspect per photo, side by side: a load of concurrent clients
# with a broker restart, and one 24 MP photo (scripts/bench-serve.py; SERVE=0 skips it)
if [ "${SERVE:-1}" = 1 ]; then
    SYNTHBOARD="$SYNTHBOARD" BENCH_DIR="$WORK" "$PY" scripts/bench-serve.py "$BIN"
fi
