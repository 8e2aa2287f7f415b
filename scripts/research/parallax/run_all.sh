#!/bin/sh
# Reproduce every figure of REPORT.md (Debian python3; ~15 min on one core).
set -e
cd "$(dirname "$0")"
mkdir -p cache
P=/usr/bin/python3
$P exp1_parallax.py          # section 1 table, estimator A (writes cache/*.flow.npy, exp1.json / exp1.log)
$P exp1b_fitvariants.py      # section 1, robustness of A to sample selection
$P exp1c_Hmodel.py           # section 1, estimator B (pose from H)
$P model.py                  # section 1, final model choice (cache/*.model2.json, model.json)
$P exp3b_repr.py             # section 2, choice of normalisation scale
for KW in '{"smax_override":0.0,"band":false}' '{}' '{"coherent":0.2}' '{"bandsrc":"flow"}' \
          '{"coherent":0.2,"bandsrc":"raised+match"}' '{"coherent":0.2,"bandsrc":"raised+match","lrcheck":false}' \
          '{"coherent":0.2,"bandsrc":"raised+match","onesided":false}' '{"coherent":0.2,"bandsrc":"raised+match","cone_deg":10.0}' \
          '{"coherent":0.2,"bandsrc":"raised+match","iso_px":3}'; do
  $P exp4_scores.py 12 20 3 "$KW" > /dev/null
done
$P exp4_scores.py 12 20 3 '{"coherent":0.2,"bandsrc":"raised+match","win":5}' > /dev/null
$P exp4_scores.py 12 20 3 '{"coherent":0.2,"bandsrc":"raised+match","band_dil":false,"win":5}' > /dev/null
for KT in 2 4.5; do $P exp4_scores.py 12 20 $KT '{"coherent":0.2,"bandsrc":"raised+match"}' > /dev/null; done
for f in exp4_12.0_20.0_*.json; do echo "== $f"; $P summarize.py "$f" 30 60 90 120; done
$P final_table.py
$P implants.py
