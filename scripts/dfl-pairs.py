#!/usr/bin/env python3
"""Compare each DeepFaceLive swap with its own source (docs/evaluation.md).

The dev corpus cuts every DeepFaceLive demo capture into its left half (the
original stream, kind genuine-dfl-source) and its right half (the real-time
swap, faceswap-deepfacelive): the same person, motion, capture and encode,
with and without the swap. Comparing the halves pair by pair takes the
people and the capture out of the comparison, which the unpaired AUC cannot.

Usage (from the repository root, after `bonafide eval` has filled the
feature cache; DETECTORS is the `detectors=` value eval prints on its
"analysis:" line):

    go run ./cmd/bonafide eval --manifest ../shared/corpus/manifest.csv \
        --cv 5 --seed 1 --train-on $T --json --quiet > /tmp/cv.json
    python3 scripts/dfl-pairs.py ../shared/corpus/manifest.csv \
        "fps=10 width=640 detectors=DETECTORS" /tmp/cv.json

It prints, per measured value, in how many pairs the swap's value is above
and below its source's (ties left out), most consistent first, and in how
many pairs the cross-validated model's video score ranks the swap above
its source. Standard library only.
"""
import csv
import hashlib
import json
import os
import re
import sys

CACHE = os.path.join(".cache", "bonafide-eval")


def capture(row):
    m = re.search(r"input: .*?doc/celebs/(.+?)\.mp4", row["source"])
    return m.group(1) if m else None


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    manifest, settings, cv = sys.argv[1:]
    rows = [r for r in csv.DictReader(open(manifest))
            if r["kind"] in ("genuine-dfl-source", "faceswap-deepfacelive") and capture(r)]
    by_sha = {}
    for name in os.listdir(CACHE):
        with open(os.path.join(CACHE, name)) as f:
            d = json.load(f)
        if d.get("settings") == settings:
            by_sha[d["content_sha256"]] = d["features"]
    pairs = {}
    for r in rows:
        with open(os.path.join(os.path.dirname(manifest), r["path"]), "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        feats = by_sha.get(sha)
        if feats is None:
            sys.exit(f"{r['path']}: not in the cache under {settings!r}; run bonafide eval first")
        values = {}
        for s in feats["signals"]:
            if not s["Measured"]:
                continue
            values[s["Name"] + " score"] = s["Score"]
            for k, v in (s.get("Values") or {}).items():
                values[f"{s['Name']} {k}"] = v
        pairs.setdefault(capture(r), {})[r["label"]] = (r["path"], values)
    pairs = {k: p for k, p in pairs.items() if len(p) == 2}

    diffs = {}
    for p in pairs.values():
        gen, man = p["genuine"][1], p["manipulated"][1]
        for k in gen.keys() & man.keys():
            diffs.setdefault(k, []).append(man[k] - gen[k])
    table = []
    for k, d in diffs.items():
        up, down = sum(x > 0 for x in d), sum(x < 0 for x in d)
        if up + down >= 8:
            table.append((max(up, down) / (up + down), k, up, down))
    print(f"{len(pairs)} pairs; values measured on both halves of at least 8 pairs, ties left out")
    print(f"{'value':55s} swap above  below")
    for share, k, up, down in sorted(table, reverse=True):
        print(f"{k:55s} {up:10d} {down:6d}")

    with open(cv) as f:
        scores = {it["path"]: it["video"] for it in json.load(f)["item_scores"]}
    above = below = 0
    for p in pairs.values():
        g, m = scores.get(p["genuine"][0]), scores.get(p["manipulated"][0])
        if g is None or m is None:
            continue
        above += m > g
        below += m < g
    print(f"\ncross-validated video score: swap above its source in {above} pairs, below in {below}")


if __name__ == "__main__":
    main()
