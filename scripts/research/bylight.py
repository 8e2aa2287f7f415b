#!/usr/bin/python3
"""Scores a rendered suite's reports split by the inspection camera's light: the golden's
(the ring light) and any other. Issue 13 asks for recall and false findings per clean case
"reported separately for same-light and other-light cases"; suite.py scores a suite as a whole.

    scripts/research/bylight.py --bench ../shared/bench SUITE TAG [SUITE TAG ...]

SUITE is a directory made by ../shared/render/make_suite.py (or ../shared/render-dev), TAG
the --tag its reports were written under by `suite.py run` (CASE/TAG.json). Prints one JSON
line per suite and light. Exit 2 on bad arguments, a missing suite or report, or a case
without a capture light in its truth."""
import argparse
import json
import os
import sys

GOLDEN_LIGHT = "ring"  # the render toolkit's name for the golden's light


def fail(msg):
    print(f"bylight: {msg}", file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=os.path.join(os.path.dirname(__file__), "../../../shared/bench"),
                    help="the bench directory holding score.py (default ../shared/bench)")
    ap.add_argument("pairs", nargs="+", metavar="SUITE TAG")
    a = ap.parse_args()
    if len(a.pairs) % 2:
        fail("give SUITE TAG pairs")
    if not os.path.isfile(os.path.join(a.bench, "score.py")):
        fail(f"no score.py in {a.bench} (--bench)")
    sys.path.insert(0, a.bench)
    import score  # noqa: E402  (the bench's own scorer, as suite.py uses it)

    for suite, tag in zip(a.pairs[::2], a.pairs[1::2]):
        try:
            cases = json.load(open(os.path.join(suite, "suite.json")))["cases"]
        except (OSError, ValueError, KeyError) as e:
            fail(f"{suite}: not a suite ({e})")
        halves = {}
        for c in cases:
            d = os.path.join(suite, c["name"])
            report = os.path.join(d, f"{tag}.json")
            if not os.path.isfile(report):
                fail(f"{report}: no report (run suite.py run --tag {tag} first)")
            truth = json.load(open(os.path.join(d, "truth.json")))
            light = truth.get("capture", {}).get("insp_light")
            if light is None:
                fail(f"{d}: its truth names no capture light (not a rendered case)")
            h = halves.setdefault("golden" if light == GOLDEN_LIGHT else "other",
                                  {"cases": 0, "truth_changes": 0, "detected": 0, "clean": 0,
                                   "dirty": 0, "fp_clean": 0, "fp_dirty": 0, "lights": set()})
            r = score.score(d, report)
            h["cases"] += 1
            h["truth_changes"] += r["truth_changes"]
            h["detected"] += r["detected"]
            h["lights"].add(light)
            k = "clean" if c["clean"] else "dirty"
            h[k] += 1
            h["fp_" + k] += r["false_positives"]
        for name in ("golden", "other"):
            if name not in halves:
                continue
            h = halves[name]
            print(json.dumps({
                "suite": suite, "light": name, "lights": sorted(h["lights"]), "cases": h["cases"],
                "truth_changes": h["truth_changes"], "detected": h["detected"],
                "recall": round(h["detected"] / h["truth_changes"], 4) if h["truth_changes"] else None,
                "false_positives_per_case": {
                    "clean": round(h["fp_clean"] / h["clean"], 4) if h["clean"] else None,
                    "dirty": round(h["fp_dirty"] / h["dirty"], 4) if h["dirty"] else None}}))


if __name__ == "__main__":
    main()
