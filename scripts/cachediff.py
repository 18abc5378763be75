#!/usr/bin/env python3
"""Compare one signal between two detector versions in the eval cache
(docs/evaluation.md, "Dev corpus figures").

`bonafide eval` keeps every item's findings in its cache folder, keyed by
the file's content and the analysis settings, which include the detector
set's fingerprint (a hash of detectors/, media/ and analysis/). After a
detector change has been measured with both versions (the old one from a
git worktree with `--cache` pointing at the same folder), this prints, for
the items of the given manifests that both versions measured, how many
genuine and how many manipulated items the signal scored at or above 0.5
and 0.7 with each version, and every item whose score moved by more than
--min-change, with the new version's measurements.

    scripts/cachediff.py [--cache DIR] [--signal av.lipsync]
        [--settings "fps=10 width=640"] --old src-… --new src-… MANIFEST...

--old and --new are the `detectors=` values that `bonafide eval` prints
on its "analysis:" line. Only entries whose settings are exactly
"<settings> detectors=<fingerprint>" count, so the 8-s live segments
(`--segment`) are left out. Labels are the manifest's per-stream labels
of the signal's modality (video_label for video signals, audio_label for
audio; `label` for av signals, whose manipulations, such as a delayed
voice, are of the pair), falling back to `label`.
"""
import argparse
import csv
import glob
import hashlib
import json
import os
import sys


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_cache(folder, settings, signal):
    """Returns {(content_sha256, fingerprint): finding} for signal."""
    out = {}
    for path in glob.glob(os.path.join(folder, "*.json")):
        with open(path) as f:
            entry = json.load(f)
        s = entry.get("settings", "")
        head, sep, fingerprint = s.rpartition(" detectors=")
        if not sep or head != settings:
            continue
        for finding in entry["features"]["signals"]:
            if finding["Name"] == signal:
                out[(entry["content_sha256"], fingerprint)] = finding
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=".cache/bonafide-eval")
    ap.add_argument("--signal", default="av.lipsync")
    ap.add_argument("--settings", default="fps=10 width=640")
    ap.add_argument("--old", required=True, help="detector fingerprint before (src-…)")
    ap.add_argument("--new", required=True, help="detector fingerprint after (src-…)")
    ap.add_argument("--min-change", type=float, default=0.1)
    ap.add_argument("manifests", nargs="+")
    args = ap.parse_args()

    cache = load_cache(args.cache, args.settings, args.signal)
    modality = args.signal.split(".")[0]
    label_col = {"video": "video_label", "av": "label", "audio": "audio_label"}[modality]
    rows = []
    for manifest in args.manifests:
        base = os.path.dirname(os.path.abspath(manifest))
        with open(manifest, newline="") as f:
            for item in csv.DictReader(f):
                path = os.path.join(base, item["path"])
                if not os.path.exists(path):
                    continue
                h = sha256(path)
                old, new = cache.get((h, args.old)), cache.get((h, args.new))
                if not old or not new or not old["Measured"] or not new["Measured"]:
                    continue
                label = item.get(label_col) or item["label"]
                if label not in ("genuine", "manipulated"):
                    label = item["label"]
                rows.append((manifest, item["path"], label, item.get("kind", ""), old, new))
    if not rows:
        sys.exit("no item measured by both versions: check --old, --new, --settings and --cache")

    print(f"{args.signal}: {len(rows)} items measured by both versions")
    for label in ("genuine", "manipulated"):
        n = sum(1 for r in rows if r[2] == label)
        for th in (0.5, 0.7):
            o = sum(1 for r in rows if r[2] == label and r[4]["Score"] >= th)
            w = sum(1 for r in rows if r[2] == label and r[5]["Score"] >= th)
            print(f"  {label:11s} n={n:3d}  score >= {th}: {o:3d} -> {w:3d}")
    print(f"items whose score moved by more than {args.min_change}:")
    for manifest, path, label, kind, old, new in rows:
        if abs(new["Score"] - old["Score"]) > args.min_change:
            vals = " ".join(f"{k}={v}" for k, v in sorted((new.get("Values") or {}).items()))
            print(f"  {manifest}: {path} {label} {kind}: {old['Score']:.2f} -> {new['Score']:.2f}  {vals}")


if __name__ == "__main__":
    main()
