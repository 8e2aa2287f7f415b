#!/bin/sh
# A screenshot of a review page in headless Chromium (the README's samples/review-page.jpg):
#     make demo && scripts/review-shot.sh [PAGE [OUT.jpg|OUT.png]]     (SIZE=1366,768 for another size)
# The format follows OUT's extension.
set -eu
PAGE=${1:-out/demo/implant-bmc.html}
OUT=${2:-samples/review-page.jpg}
SIZE=${SIZE:-1920,1080}
case $OUT in /*) ;; *) OUT="$PWD/$OUT" ;; esac
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size="$SIZE" \
    --screenshot="$OUT" "file://$(realpath "$PAGE")" 2>/dev/null
ls -l "$OUT"
