#!/bin/sh
# Real pairs of one board model from ../shared/datasets (never copied into the project; the MSI
# pair motherboard <-> montage_motherboard shows two variants of the board): for each pair,
# pcbdiff's exit code, its first error line or its registration, and its findings larger than
# 50000 px (README, "Real same-board photos and large changes").
#   scripts/research/realpairs.sh [PCBDIFF [DATASETS]]
set -eu
BIN=${1:-build/pcbdiff}
D=${2:-../shared/datasets}/dasharo_board_photos/docs
A=$D/transparent-validation/ASRock-SPC741D8/images
S=$D/transparent-validation/sonoff/images
M=$D/transparent-validation/msi-z690/images
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ -d "$A" ] || { echo "realpairs: no $A (the shared datasets)" >&2; exit 2; }
while read -r ref photo; do
    rc=0
    "$BIN" inspect "$ref" "$photo" --json "$OUT/r.json" -q >/dev/null 2>"$OUT/err" || rc=$?
    printf '%s -> %s: exit %s  ' "$(basename "$ref")" "$(basename "$photo")" "$rc"
    if [ -s "$OUT/r.json" ] && [ "$rc" -ne 3 ]; then
        python3 - "$OUT/r.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["registration"]
big = [(f["kind"], [int(v) for v in f["bbox"]]) for f in d["findings"]
       if f["bbox"][2] * f["bbox"][3] > 50000]
print("rms %.2f px, light %.1fx, %d findings, large: %s"
      % (r["rms_px"], d["light"]["noise_over_own"], len(d["findings"]), big))
PY
    else
        head -n 1 "$OUT/err" | cut -c 1-160
    fi
    rm -f "$OUT/r.json"
done <<PAIRS
$A/M2-standoff.jpg $A/installed-ssd.jpg
$A/installed-ssd.jpg $A/M2-standoff.jpg
$A/installed-CPU.jpg $A/thermalpaste.jpg
$A/thermalpaste.jpg $A/installed-CPU.jpg
$A/installed-ssd.jpg $A/flash_location.jpg
$A/flash_location.jpg $A/installed-ssd.jpg
$D/images/kgpe_2.jpg $D/images/kgpe_3.jpg
$S/sonoff_without_header.jpg $S/sonoff_with_header.jpg
$S/sonoff_with_header.jpg $S/sonoff_without_header.jpg
$M/motherboard.jpg $M/msi_z690_montage_fan.jpg
$M/motherboard.jpg $M/msi_z690_montage_motherboard.jpg
$M/msi_z690_montage_motherboard.jpg $M/motherboard.jpg
PAIRS
