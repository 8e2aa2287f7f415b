#!/usr/bin/python3
"""Run pcbdiff on the DeepPCB test set and score it, class-agnostic, with DeepPCB's rule.

    scripts/deeppcb.py [--dataset DIR] [--pcbdiff BIN] [--out DIR] [--jobs N] [--limit N]
                       [--force] [--timeout S] [-- PCBDIFF-ARGS...]

Any option this script does not know (e.g. --px-per-mm 48, --sensitivity 2), and everything
after `--`, is passed to `pcbdiff inspect` unchanged.

Input: DIR/test.txt, one pair a line, `PATH/<n>.jpg PATH_not/<n>.txt`, relative to
DIR/PCBData. The template `<n>_temp.jpg` is the reference, the test image `<n>_test.jpg` is
the photo. Ground truth: one defect a line, `x1 y1 x2 y2 type` (space- or comma-separated),
(x1, y1) top-left, (x2, y2) bottom-right, type 1..6 = open, short, mousebite, spur, copper,
pin-hole.

Output, under --out (default out/deeppcb):
  reports/<n>.json         the pcbdiff report (resume: a pair whose report and status exist,
  reports/<n>.status.json  run with the same pass-through arguments, is not run again
                           unless --force); status = exit code, wall seconds, arguments,
                           first stderr line
  results/<n>.txt          the findings in DeepPCB's result format, `x1,y1,x2,y2,conf,type`,
                           integers, conf = the finding's score, type = 1 for every box
                           (class-agnostic); res.zip holds them flat, like a submission
  failures.jsonl           one line per pair with an error, a missed GT box or a false
                           detection (boxes with their best IoU against the other side)
  summary.json             the final line, also printed on stdout

Box conversion: pcbdiff's bbox [x, y, w, h] is in reference pixels with an exclusive far
edge (x..x+w); DeepPCB's boxes are corners of the same pixel grid, so x1 = floor(x),
y1 = floor(y), x2 = ceil(x + w), y2 = ceil(y + h), each grown by --pad px (default 0),
clipped to the image. DeepPCB's boxes are drawn loosely around a defect: a tight box
around the changed pixels reaches IoU > 0.33 for only about 59% of them, a box 6 px
larger for all of them; --pad states that convention explicitly.

Scoring rule. It follows evaluation/script.py of tangsanli5201/DeepPCB (an ICDAR 2015
"rrc" script with IOU_CONSTRAINT 0.33, CONFIDENCES on), read, not copied, minus the class
check:
  * IoU of two boxes = intersection / union of their areas, area = (x2 - x1) * (y2 - y1)
    on the integer corners (the script builds polygons from int() corners and uses their
    areas, so no +1).
  * The detections of a pair are sorted by confidence, highest first (ties keep report
    order; the script's numpy argsort does not promise an order for ties).
  * Greedy one-to-one matching: for each GT box in file order, the first detection in that
    sorted list that is not yet matched and has IoU > 0.33 (strictly) is matched to it.
    A GT box is matched at most once, a detection at most once. Note that the outer loop
    runs over the GT boxes, not over the detections: it is "greedy by confidence" within
    each GT box, not a global highest-confidence-first assignment.
  * The official script then counts a match as correct only if the class label is equal;
    here every match counts (class-agnostic), since pcbdiff does not name DeepPCB classes.
  * Totals over all pairs: precision = TP / all detections, recall = TP / all GT boxes,
    F1 = their harmonic mean (the script's "hmean"). AP as in the script: all detections
    of the set sorted by confidence, the precision at each TP summed, divided by the GT
    count. A pair that errored (exit 2, 3, crash, timeout) counts as no detections, as a
    missing result file does in the official script.

Exit status: 0 done; 1 no pair finished (every run errored); 2 usage error, dataset or
pcbdiff missing.
"""

import argparse
import concurrent.futures
import hashlib
import json
import math
import os
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IOU_MIN = 0.33
PAD = 0  # px added on every side of a pcbdiff box (--pad)
TYPES = {1: "open", 2: "short", 3: "mousebite", 4: "spur", 5: "copper", 6: "pin-hole"}


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Run pcbdiff on DeepPCB pairs and score class-agnostic P/R at IoU > 0.33.",
        epilog="Unknown options and everything after -- go to `pcbdiff inspect`.",
        allow_abbrev=False)
    ap.add_argument("--dataset", default=os.path.join(ROOT, "..", "shared", "datasets",
                                                      "deeppcb_test"),
                    help="DeepPCB test set folder with test.txt and PCBData/")
    ap.add_argument("--pcbdiff", default=os.path.join(ROOT, "build", "pcbdiff"),
                    help="pcbdiff binary (default build/pcbdiff)")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "deeppcb"),
                    help="work folder for reports, results and the summary")
    ap.add_argument("--jobs", type=int, default=2, help="pairs run in parallel (default 2)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N pairs of test.txt")
    ap.add_argument("--force", action="store_true", help="run pairs again even if reported")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per pair (120)")
    ap.add_argument("--pad", type=int, default=0,
                    help="grow each pcbdiff box by N px per side: DeepPCB draws its boxes loosely "
                         "around a defect, pcbdiff tightly around the changed pixels (default 0)")
    if "--" in argv:
        i = argv.index("--")
        args, extra = ap.parse_known_args(argv[:i])
        extra += argv[i + 1:]
    else:
        args, extra = ap.parse_known_args(argv)
    for bad in ("--json", "-j", "--board", "-b"):
        if bad in extra or any(e.startswith(bad + "=") for e in extra):
            ap.error(f"{bad} is set by this script")
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    args.extra = extra
    return args


def read_pairs(dataset):
    """[(id, template, test, gt_path)] from test.txt, in file order."""
    pairs = []
    with open(os.path.join(dataset, "test.txt"), encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise ValueError(f"test.txt:{ln}: expected 2 fields, got {len(parts)}")
            img, gt = parts
            stem = os.path.splitext(img)[0]
            pid = os.path.basename(stem)
            base = os.path.join(dataset, "PCBData", stem)
            pairs.append((pid, base + "_temp.jpg", base + "_test.jpg",
                          os.path.join(dataset, "PCBData", gt)))
    return pairs


def read_gt(path):
    boxes = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            v = line.replace(",", " ").split()
            if len(v) >= 5:
                boxes.append(tuple(int(float(t)) for t in v[:5]))
    return boxes


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_pair(pair, args, bin_sha, rep_dir):
    pid, ref, photo, _ = pair
    report = os.path.join(rep_dir, pid + ".json")
    status_path = os.path.join(rep_dir, pid + ".status.json")
    if not args.force:
        st = load_json(status_path)
        if st is not None and st.get("args") == args.extra and os.path.exists(report):
            st["skipped"] = True
            return pid, st
    cmd = [args.pcbdiff, "inspect", ref, photo, "--json", report, "-q"] + args.extra
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=args.timeout)
        rc, err = p.returncode, p.stderr.decode("utf-8", "replace").strip()
    except subprocess.TimeoutExpired:
        rc, err = "timeout", f"timed out after {args.timeout:g} s"
    secs = time.monotonic() - t0
    st = {"rc": rc, "seconds": round(secs, 4), "args": args.extra, "pcbdiff_sha256": bin_sha,
          "stderr": err.splitlines()[0] if err else ""}
    atomic_write(status_path, json.dumps(st) + "\n")
    st["skipped"] = False
    return pid, st


def detections(report):
    """[(x1, y1, x2, y2, conf)] from a pcbdiff report, in report order."""
    if not isinstance(report, dict) or report.get("verdict") not in ("pass", "fail"):
        return []
    ref = (report.get("inputs") or {}).get("reference") or {}
    W, H = ref.get("width") or 640, ref.get("height") or 640
    out = []
    for f in report.get("findings") or []:
        b = f.get("bbox")
        if not (isinstance(b, list) and len(b) == 4 and b[2] > 0 and b[3] > 0):
            continue
        x1 = max(0, min(W, math.floor(b[0]) - PAD))
        y1 = max(0, min(H, math.floor(b[1]) - PAD))
        x2 = max(0, min(W, math.ceil(b[0] + b[2]) + PAD))
        y2 = max(0, min(H, math.ceil(b[1] + b[3]) + PAD))
        if x2 > x1 and y2 > y1:
            out.append((x1, y1, x2, y2, float(f.get("score", 0.0))))
    return out


def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(gt, dets):
    """DeepPCB's greedy rule (see the docstring). dets must be sorted by confidence.
    Returns (gt_matched flags, det_matched flags)."""
    gm, dm = [False] * len(gt), [False] * len(dets)
    for g, gb in enumerate(gt):
        for d, db in enumerate(dets):
            if not dm[d] and iou(gb, db) > IOU_MIN:
                gm[g] = dm[d] = True
                break
    return gm, dm


def main(argv):
    global PAD
    args = parse_args(argv)
    PAD = max(0, args.pad)
    if not os.path.isfile(os.path.join(args.dataset, "test.txt")):
        print(f"deeppcb: {args.dataset}: no test.txt (DeepPCB test set missing)", file=sys.stderr)
        return 2
    if not (os.path.isfile(args.pcbdiff) and os.access(args.pcbdiff, os.X_OK)):
        print(f"deeppcb: {args.pcbdiff}: not an executable (build it: make all)", file=sys.stderr)
        return 2
    try:
        pairs = read_pairs(args.dataset)
    except (OSError, ValueError) as e:
        print(f"deeppcb: {e}", file=sys.stderr)
        return 2
    if args.limit > 0:
        pairs = pairs[:args.limit]
    missing = [p for p in pairs if not all(os.path.isfile(x) for x in p[1:])]
    if missing:
        print(f"deeppcb: {len(missing)} pairs have missing files, e.g. {missing[0][1]}",
              file=sys.stderr)
        return 2
    if not pairs:
        print("deeppcb: test.txt lists no pair", file=sys.stderr)
        return 2

    rep_dir = os.path.join(args.out, "reports")
    res_dir = os.path.join(args.out, "results")
    os.makedirs(rep_dir, exist_ok=True)
    os.makedirs(res_dir, exist_ok=True)
    bin_sha = sha256(args.pcbdiff)

    # 1. run
    status = {}
    tty = sys.stderr.isatty()
    t0 = time.monotonic()
    n, errs, skipped = len(pairs), 0, 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(run_pair, p, args, bin_sha, rep_dir) for p in pairs]
        for i, fut in enumerate(concurrent.futures.as_completed(futs), 1):
            pid, st = fut.result()
            status[pid] = st
            errs += st["rc"] not in (0, 1)
            skipped += st["skipped"]
            if tty or i == n or i % 25 == 0:
                el = time.monotonic() - t0
                eta = el / max(1, i - skipped) * (n - i) if i > skipped else 0
                line = (f"[{i:4d}/{n}] {pid} exit {st['rc']}  errors {errs}  reused {skipped}"
                        f"  {el:5.0f} s, ~{eta:.0f} s left")
                print(("\r" + line + "   ") if tty else line, end="" if tty and i < n else "\n",
                      file=sys.stderr, flush=True)

    # 2. convert and score
    tot_gt = tot_det = tp = 0
    by_type = {t: [0, 0] for t in TYPES}  # type: [gt, matched]
    all_conf = []  # (conf, matched) over the set, for AP
    err_codes = {}
    secs, shas = [], set()
    failures = []
    zip_tmp = os.path.join(args.out, "res.zip.tmp")
    with zipfile.ZipFile(zip_tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for pid, _, _, gt_path in pairs:
            st = status[pid]
            secs.append(st["seconds"])
            shas.add(st.get("pcbdiff_sha256"))
            ok = st["rc"] in (0, 1)
            if not ok:
                err_codes[str(st["rc"])] = err_codes.get(str(st["rc"]), 0) + 1
            dets = detections(load_json(os.path.join(rep_dir, pid + ".json"))) if ok else []
            dets.sort(key=lambda d: -d[4])  # stable: ties keep report order
            text = "".join(f"{d[0]},{d[1]},{d[2]},{d[3]},{d[4]:.4f},1\n" for d in dets)
            atomic_write(os.path.join(res_dir, pid + ".txt"), text)
            zf.writestr(pid + ".txt", text)
            gt = read_gt(gt_path)
            gm, dm = match(gt, dets)
            tot_gt += len(gt)
            tot_det += len(dets)
            tp += sum(gm)
            for g, m in zip(gt, gm):
                if g[4] in by_type:
                    by_type[g[4]][0] += 1
                    by_type[g[4]][1] += m
            all_conf += [(d[4], m) for d, m in zip(dets, dm)]
            if not ok or not all(gm) or not all(dm):
                failures.append({
                    "pair": pid, "exit": st["rc"], "error": st["stderr"] if not ok else "",
                    "gt": len(gt), "det": len(dets), "tp": sum(gm),
                    "missed": [list(g) + [round(max([iou(g, d) for d in dets] or [0]), 3)]
                               for g, m in zip(gt, gm) if not m],
                    "false": [list(d) + [round(max([iou(d, g) for g in gt] or [0]), 3)]
                              for d, m in zip(dets, dm) if not m]})
    os.replace(zip_tmp, os.path.join(args.out, "res.zip"))
    atomic_write(os.path.join(args.out, "failures.jsonl"),
                 "".join(json.dumps(f) + "\n" for f in failures))

    all_conf.sort(key=lambda c: -c[0])
    ap_sum, hits = 0.0, 0
    for k, (_, m) in enumerate(all_conf, 1):
        if m:
            hits += 1
            ap_sum += hits / k
    prec = tp / tot_det if tot_det else 0.0
    rec = tp / tot_gt if tot_gt else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    ran = sum(1 for s in status.values() if s["rc"] in (0, 1))
    summary = {
        "pairs": len(pairs), "ran": ran, "errored": len(pairs) - ran, "errors_by_exit": err_codes,
        "gt": tot_gt, "det": tot_det, "tp": tp, "precision": round(prec, 4),
        "recall": round(rec, 4), "f1": round(f1, 4),
        "ap": round(ap_sum / tot_gt, 4) if tot_gt else 0.0, "iou_gt": IOU_MIN,
        "recall_by_type": {TYPES[t]: round(v[1] / v[0], 4) if v[0] else None
                           for t, v in by_type.items()},
        "sec_per_pair": round(sum(secs) / len(secs), 3), "args": args.extra, "pad": PAD,
    }
    if len(shas) > 1:
        print("deeppcb: warning: reports come from different pcbdiff binaries (--force to redo)",
              file=sys.stderr)
    line = json.dumps(summary)
    atomic_write(os.path.join(args.out, "summary.json"), line + "\n")
    print(line)
    return 0 if ran > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
