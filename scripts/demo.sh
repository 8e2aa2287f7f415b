#!/bin/sh
# make demo: pcbdiff inspects the bundled demo board photo with a planted implant.
set -u
BIN=${1:-build/pcbdiff}
OUT=out/demo
mkdir -p "$OUT"
echo "== pcbdiff inspect --board reference-boards/demo samples/implant-bmc.jpg"
"$BIN" inspect --board reference-boards/demo samples/implant-bmc.jpg \
    --json "$OUT/implant-bmc.json" --overlay "$OUT/implant-bmc.png" --html "$OUT/implant-bmc.html"
rc=$?
echo "== exit status $rc (0 pass, 1 findings, 2 trouble, 3 not registered)"
echo "== report: $OUT/implant-bmc.json   overlay: $OUT/implant-bmc.png"
echo "== review page: $OUT/implant-bmc.html (open it in a browser; images in $OUT/implant-bmc.html.d/)"
if [ "$rc" -ne 1 ]; then
    echo "pcbdiff demo: expected the planted chip to be reported (exit 1), got $rc" >&2
    exit 1
fi
exit 0
