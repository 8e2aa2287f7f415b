#!/bin/sh
# Rewrites README.md's parameter table (between the "params:begin" and "params:end" markers)
# from `pcbdiff params --markdown`, the one table the stages declare. tests/cli/test-params.c
# fails when the README and the table differ.
set -eu
BIN=${1:-build/pcbdiff}
README=${README:-README.md}
table=$(mktemp)
trap 'rm -f "$table" "$README.tmp"' EXIT
"$BIN" params --markdown >"$table"
awk -v table="$table" '
    /<!-- params:begin -->/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
    /<!-- params:end -->/ { skip = 0 }
    !skip { print }
' "$README" >"$README.tmp"
mv "$README.tmp" "$README"
