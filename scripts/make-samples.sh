#!/usr/bin/env bash
# Regenerates the demo reference board (reference-boards/demo/) and the sample photos (samples/)
# with the project's own generator:  scripts/make-samples.sh build/tools/synthboard
# Everything is seeded: the same synthboard gives byte-identical files.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 SYNTHBOARD_BINARY" >&2
    exit 2
fi
sb=$1
root=$(cd "$(dirname "$0")/.." && pwd)
demo=$root/reference-boards/demo
samples=$root/samples
board_seed=7
mkdir -p "$demo" "$samples"

"$sb" board --out "$demo/golden.png" --width-mm 150 --height-mm 100 --px-per-mm 8 \
    --seed "$board_seed" --profile "$demo/board.ini"

table=""
# photo NAME VERDICT DESCRIPTION [synthboard photo options...]
photo() {
    local name=$1 verdict=$2 what=$3
    shift 3
    local log changes
    log=$("$sb" photo --golden "$demo/golden.png" --board-seed "$board_seed" --px-per-mm 8 \
        --out "$samples/$name.jpg" --truth "$samples/$name.truth.json" "$@")
    echo "$log"
    changes=$(echo "$log" | sed -n 's/^  change: //p' | sed 's/$/<br>/' | tr -d '\n' | sed 's/<br>$//')
    [ -n "$changes" ] || changes="none"
    table+="| \`$name.jpg\` | $what | \`$*\` | $changes | **$verdict** |"$'\n'
}

photo clean-rotated pass "the untouched board, turned 21°, tilted, lens distortion, warmer light" \
    --seed 101 --scale 1.4 --rotate-deg 21 --tilt-deg 2 --k1 0.01 --light 0.15 --noise 1.5 \
    --blur 0.6 --quality 88
photo clean-harsh-light pass "the untouched board, turned -95°, 4° tilt, strong lens and light change, more noise" \
    --seed 105 --scale 1.5 --rotate-deg -95 --tilt-deg 4 --k1 -0.015 --light 0.3 --noise 3 \
    --blur 0.8 --quality 85
photo implant-bmc fail "a 1 x 2 mm six-pin chip on a spare footprint by the BMC; turned, perspective, light, noise" \
    --seed 102 --scale 1.45 --rotate-deg -12 --tilt-deg 3 --k1 -0.008 --light 0.2 --noise 2 \
    --blur 0.6 --quality 88 --implant
photo implant-upside-down fail "the same kind of implant, board upside down (178°) and smaller (0.8x)" \
    --seed 107 --scale 0.8 --rotate-deg 178 --tilt-deg 2 --k1 0.006 --light 0.15 --noise 1.8 \
    --blur 0.5 --quality 90 --implant
photo removed-passive fail "one 0603/0805 passive taken off, its pads left bare" \
    --seed 104 --scale 1.3 --rotate-deg 6 --tilt-deg 1.5 --k1 0 --light 0.12 --noise 1.5 \
    --blur 0.5 --quality 88 --remove

cat >"$demo/README.md" <<EOF
# demo reference board

A synthetic server board drawn by \`synthboard\` (\`tests/tools/synthboard/\`), seed $board_seed:
150 x 100 mm at 8 px/mm, so \`golden.png\` is 1200 x 800 pixels. Regenerate it (and \`samples/\`) with
\`make samples\` or \`scripts/make-samples.sh build/tools/synthboard\`; do not edit these files by hand.

What is on it: green solder mask with traces, pours and vias under it; silkscreen designators and
outlines; the BMC (U1, a 14 x 14 mm QFP) with its decoupling; the SPI flash (an SOIC-8, on its right);
a lidded BGA with its VRM (inductors, polymer capacitors); more ICs, crystals, about 300 passives
(0402/0603/0805), two headers, a fan connector, a serial-number sticker, mounting holes, fiducials.

Between the BMC and the flash sit four **spare footprints** (bare pads, no part): U90 and U92 (six
pads, where a 1 x 2 mm implant fits), R91 (0402) and C93 (0603).

\`board.ini\`:

- \`[zone BMC]\` covers the BMC, its decoupling and the spare footprints; sensitivity 1.5.
- \`[zone SPI flash]\` covers the flash; sensitivity 1.25.
- \`[ignore]\` covers the serial-number sticker.
EOF

cat >"$samples/README.md" <<EOF
# samples

Photos of the demo board (\`reference-boards/demo\`, board seed $board_seed), rendered by \`synthboard photo\`
(\`tests/tools/synthboard/\`). They are synthetic re-photographs, not real photos: the board is drawn again
at the photo's resolution, then seen through a camera: homography (rotation, scale, tilt), radial lens
distortion, a table around the board, gain/gamma/white balance, a light gradient or a vignette, blur,
sensor noise, JPEG. Regenerate with \`make samples\` (\`scripts/make-samples.sh\`).

Each \`NAME.jpg\` has a \`NAME.truth.json\`: reference and photo sizes, \`px_per_mm\` of the golden,
\`homography_photo_to_reference\` (exact when k1 = 0, else the least-squares best fit over a 30 x 30 grid of
board points, with its residual), the lens model, 10 x 10 \`check_points\` (reference x, y -> photo x, y),
and \`changes\`: \`kind\` (added / removed), \`bbox\` [x, y, w, h] in golden pixels, \`area_mm2\`. The format is
the bench's (\`../shared/bench/gen.py\`), so \`score.py\` reads it. Boxes are in golden pixels (8 px/mm): the
implant is about 8 x 16 px.

Expected verdicts are for \`pcbdiff inspect reference-boards/demo samples/NAME.jpg\` (with the board profile):
pass = exit 0, fail = exit 1 with a finding over the change's box.

| photo | what it shows | synthboard options | truth changes (bbox in golden px) | verdict |
| --- | --- | --- | --- | --- |
$table
\`review-page.jpg\` is not a photo: the demo's review page (\`make demo\`, then
\`scripts/review-shot.sh\`) at 1920x1080 in headless Chromium, shown in the top README.
EOF

du -ch "$demo"/* "$samples"/* | tail -n 1
