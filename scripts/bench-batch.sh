#!/bin/sh
# make bench, batch part: photos per second of `pcbdiff batch` on a generated two-board archive
# against a parallel loop of single `pcbdiff inspect` runs (xargs -P, the same core count,
# each writing its JSON report), in the same run, alternating, median of RUNS_BATCH runs; peak
# RSS of the batch process and of the largest single inspection; the two agree on every
# verdict (checked).
#   scripts/bench-batch.sh build/pcbdiff
# Environment: BATCH_PHOTOS (100 photos of ~3 MP), BATCH_24 (1: also 16 photos at ~24 MP),
# RUNS_BATCH (3), JOBS (the cores), BENCH_DIR.
set -eu
BIN=$(cd "$(dirname "${1:-build/pcbdiff}")" && pwd)/$(basename "${1:-build/pcbdiff}")
SYNTHBOARD=${SYNTHBOARD:-$(dirname "$BIN")/tools/synthboard}
WORK=${BENCH_DIR:-/tmp/pcbdiff-bench}/batch
RUNS=${RUNS_BATCH:-3}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$WORK"

# archive NAME PHOTOS PX_PER_MM SCALE: two boards, PHOTOS photos alternating between them, every
# fifth with an implant; a manifest (photo,board) and the loop's list (board photo report)
archive() {
    name=$1 n=$2 ppm=$3 scale=$4
    d=$WORK/$name
    if [ ! -f "$d/manifest.csv" ]; then
        echo "generating $name: $n photos of 2 boards in $d ..."
        mkdir -p "$d/boards/b1" "$d/boards/b2" "$d/photos"
        for b in 1 2; do
            "$SYNTHBOARD" board --out "$d/boards/b$b/golden.png" --px-per-mm "$ppm" \
                --seed $((20 + b)) --profile "$d/boards/b$b/board.ini" >/dev/null
        done
        echo "photo,board" >"$d/manifest.tmp"
        i=1
        while [ "$i" -le "$n" ]; do
            b=$((i % 2 + 1))
            extra=""
            [ $((i % 5)) = 0 ] && extra=--implant
            # shellcheck disable=SC2086
            "$SYNTHBOARD" photo --golden "$d/boards/b$b/golden.png" --board-seed $((20 + b)) \
                --px-per-mm "$ppm" --scale "$scale" --seed "$i" --out "$d/photos/p$i.jpg" \
                $extra >/dev/null
            echo "photos/p$i.jpg,b$b" >>"$d/manifest.tmp"
            i=$((i + 1))
        done
        mv "$d/manifest.tmp" "$d/manifest.csv"
    fi
    tail -n +2 "$d/manifest.csv" | while IFS=, read -r p b; do
        echo "$d/boards/$b $d/$p $d/loop/$(basename "$p" .jpg).json"
    done >"$d/loop.list"
}

timed() { # tag cmd...: wall seconds, peak RSS (KB), user and system CPU seconds into $WORK/tag.time
    tag=$1
    shift
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/$tag.time" "$@" >/dev/null 2>"$WORK/$tag.err" || true
}

bench() {
    name=$1
    d=$WORK/$name
    n=$(($(wc -l <"$d/manifest.csv") - 1))
    mp=$(python3 -c 'import struct,sys
f=open(sys.argv[1],"rb").read(); i=2
while i < len(f):
    m=f[i+1]; l=struct.unpack(">H",f[i+2:i+4])[0]
    if m in (0xC0,0xC1,0xC2):
        h,w=struct.unpack(">HH",f[i+5:i+9]); print(f"{w*h/1e6:.1f}"); break
    i+=2+l' "$d/photos/p1.jpg")
    echo "== batch: $n photos of 2 boards (~$mp MP each), $JOBS cores, median of $RUNS runs"
    r=1
    while [ "$r" -le "$RUNS" ]; do
        rm -rf "$d/loop" "$d/results.sqlite"*
        mkdir -p "$d/loop"
        timed "loop.$r" xargs -P "$JOBS" -L 1 sh -c \
            '"$0" inspect --board "$1" "$2" -q --json "$3"; exit 0' "$BIN" <"$d/loop.list"
        (cd "$d" && timed "batch.$r" "$BIN" batch --boards boards --db results.sqlite -q \
            --jobs "$JOBS" manifest.csv)
        r=$((r + 1))
    done
    "$BIN" db export --jsonl "$d/results.sqlite" >"$WORK/export.jsonl"
    python3 - "$WORK" "$RUNS" "$n" "$d" <<'PY'
import json, os, statistics as st, sys
work, runs, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def t(tag):
    w, m, u, sy = open(os.path.join(work, tag + ".time")).read().split()[-4:]
    return float(w), int(m) / 1024, float(u) + float(sy)
loop = [t(f"loop.{r}") for r in range(1, runs + 1)]
batch = [t(f"batch.{r}") for r in range(1, runs + 1)]
lw, bw = st.median(x[0] for x in loop), st.median(x[0] for x in batch)
lc, bc = st.median(x[2] for x in loop), st.median(x[2] for x in batch)
print(f"   {'loop (xargs -P)':22s} {lw:7.1f} s  {n / lw:6.2f} photos/s  {lc / n:5.2f} CPU s/photo  "
      f"peak RSS {st.median(x[1] for x in loop):5.0f} MB (the largest single inspect)")
print(f"   {'pcbdiff batch':22s} {bw:7.1f} s  {n / bw:6.2f} photos/s  {bc / n:5.2f} CPU s/photo  "
      f"peak RSS {st.median(x[1] for x in batch):5.0f} MB (the whole batch process)")
pairs = [l[0] / b[0] for l, b in zip(loop, batch)]
print(f"   {'batch / loop':22s} {lw / bw:7.2f}x photos/s (medians; run by run "
      + " ".join(f"{p:.2f}" for p in pairs) + f", median {st.median(pairs):.2f}x); "
      f"{lc / bc:.2f}x less CPU per photo")
print(f"   {'':22s} (wall s: loop " + " ".join(f"{x[0]:.1f}" for x in loop) + ", batch "
      + " ".join(f"{x[0]:.1f}" for x in batch) + ")")
verdict = {"pass": "pass", "fail": "fail", "incomplete": "fail"}
rows = {json.loads(l)["photo_path"]: json.loads(l) for l in open(os.path.join(work, "export.jsonl"))}
same = 0
for p, row in rows.items():
    rep = os.path.join(d, "loop", os.path.basename(p)[:-4] + ".json")
    v = json.load(open(rep)).get("verdict") if os.path.exists(rep) else "error"
    same += verdict.get(v, v) == row["verdict"] or (v == "error" and row["verdict"] in ("error", "unregistered"))
print(f"   {'same verdicts':22s} {same}/{len(rows)} photos")
PY
}

archive a3 "${BATCH_PHOTOS:-100}" 12 0.9
bench a3
if [ "${BATCH_24:-0}" = 1 ]; then
    archive a24 16 32 1.05
    bench a24
fi
