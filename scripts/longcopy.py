#!/usr/bin/env python3
"""Make long-recording copies of a corpus's videos (docs/evaluation.md,
"Long recordings").

The dev corpus's videos last 2-34 s; an interview lasts half an hour. To
see whether a verdict depends on how long the same behaviour was watched,
every video item is played forwards then backwards (a "ping-pong": no cut
where it restarts, and blinks, motion and lighting stay as they were) and
written twice, video only, at most 640 px wide:

    OUT/short/<name>.mkv   the ping-pong once (twice the clip's length)
    OUT/long/<name>.mkv    the same encode repeated to LENGTH seconds

with a manifest in each folder that labels the video stream as the corpus
does (audio dropped, so `label` is the video label and a manipulation of
the sound only becomes kind "genuine-video"). Sound cannot be played
backwards, so every item with a sound track (an `audio_label`) is also
copied whole, every stream as it is, and repeated to LENGTH seconds:

    OUT/loop/<path>.mkv    the item looped (a cut at each restart), with
                           the corpus's labels

Loops repeat themselves, which lip sync's chance level cannot cope with,
so the genuine videos with a genuine voice are also joined end to end, in
the manifest's order of their paths, every third one in the same film
(640×360, 25 fps, 48-kHz mono; each clip keeps its own sync):

    OUT/montage/genuine_<i>.mkv   three montages of about a minute each

Compare the copies with the same model:

    python3 scripts/longcopy.py ../shared/corpus /tmp/long 180
    go run ./cmd/bonafide eval --manifest /tmp/long/short/manifest.csv --items
    go run ./cmd/bonafide eval --manifest /tmp/long/long/manifest.csv --items
    go run ./cmd/bonafide eval --manifest ../shared/corpus/manifest.csv --items
    go run ./cmd/bonafide eval --manifest /tmp/long/loop/manifest.csv --items
    go run ./cmd/bonafide eval --manifest /tmp/long/montage/manifest.csv --items

The copies are derived from the corpus: keep them outside the repository.
Standard library and ffmpeg only.
"""
import csv
import os
import subprocess
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: longcopy.py CORPUS_DIR OUT [LENGTH_SECONDS]")
    corpus, out = sys.argv[1], sys.argv[2]
    length = float(sys.argv[3]) if len(sys.argv) == 4 else 180.0
    with open(os.path.join(corpus, "manifest.csv"), newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        everything = list(reader)
    rows = [r for r in everything if r["modality"] in ("video", "av")]
    copies = {"short": [], "long": [], "loop": []}
    for r in everything:
        if r["audio_label"] == "none":
            continue
        loop = os.path.join(out, "loop", os.path.splitext(r["path"])[0] + ".mkv")
        os.makedirs(os.path.dirname(loop), exist_ok=True)
        if stale(loop, length):
            run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1",
                 "-i", os.path.join(corpus, r["path"]), "-t", "%g" % length,
                 "-map", "0", "-c", "copy", loop + ".tmp.mkv"])
            os.replace(loop + ".tmp.mkv", loop)
        c = dict(r)
        c["path"] = os.path.relpath(loop, os.path.join(out, "loop"))
        c["duration_s"] = probe(loop)
        copies["loop"].append(c)
    for r in rows:
        name = os.path.splitext(os.path.basename(r["path"]))[0]
        src = os.path.join(corpus, r["path"])
        short = os.path.join(out, "short", "video", name + ".mkv")
        long_ = os.path.join(out, "long", "video", name + ".mkv")
        for p in (short, long_):
            os.makedirs(os.path.dirname(p), exist_ok=True)
        if not os.path.exists(short):
            run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src,
                 "-filter_complex",
                 "[0:v:0]scale=w='min(640,iw)':h=-2,split[f][b];[b]reverse[r];[f][r]concat=n=2:v=1:a=0[v]",
                 "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
                 "-pix_fmt", "yuv420p", short + ".tmp.mkv"])
            os.replace(short + ".tmp.mkv", short)
        if stale(long_, length):
            run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1",
                 "-i", short, "-t", "%g" % length, "-c", "copy", long_ + ".tmp.mkv"])
            os.replace(long_ + ".tmp.mkv", long_)
        for which, path in (("short", short), ("long", long_)):
            c = dict(r)
            c["path"] = os.path.relpath(path, os.path.join(out, which))
            c["modality"] = "video"
            c["label"] = r["video_label"]
            c["audio_label"] = "none"
            if r["video_label"] == "genuine" and not r["kind"].startswith("genuine"):
                c["kind"] = "genuine-video"
            c["duration_s"] = probe(path)
            copies[which].append(c)
    copies["montage"] = montages(corpus, out, everything)
    for which, items in copies.items():
        with open(os.path.join(out, which, "manifest.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(items)
        print("%d items in %s" % (len(items), os.path.join(out, which, "manifest.csv")))


def montages(corpus, out, everything):
    """Joins the genuine videos with a genuine voice into three montages."""
    rows = sorted((r for r in everything if r["modality"] == "video" and
                   r["video_label"] == "genuine" and r["audio_label"] == "genuine"),
                  key=lambda r: r["path"])
    items = []
    for i in range(3):
        group = rows[i::3]
        dst = os.path.join(out, "montage", "video", "genuine_%d.mkv" % i)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            args, graph = [], []
            for j, r in enumerate(group):
                args += ["-i", os.path.join(corpus, r["path"])]
                graph.append("[%d:v:0]scale=640:360:force_original_aspect_ratio=decrease,"
                             "pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25,format=yuv420p[v%d];"
                             "[%d:a:0]aresample=48000,aformat=channel_layouts=mono[a%d]" % (j, j, j, j))
            graph.append("".join("[v%d][a%d]" % (j, j) for j in range(len(group))) +
                         "concat=n=%d:v=1:a=1[v][a]" % len(group))
            run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + args +
                ["-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]",
                 "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-c:a", "flac",
                 dst + ".tmp.mkv"])
            os.replace(dst + ".tmp.mkv", dst)
        c = dict(group[0])
        c.update(path=os.path.relpath(dst, os.path.join(out, "montage")), kind="genuine-montage",
                 source="montage of " + " ".join(r["path"] for r in group),
                 duration_s=probe(dst))
        items.append(c)
    return items


def stale(path, length):
    """Whether path must be made (again): missing, or made for another
    LENGTH (every corpus item is shorter than a loop)."""
    return not os.path.exists(path) or abs(float(probe(path)) - length) > 1


def run(cmd):
    subprocess.run(cmd, check=True)


def probe(path):
    return subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        check=True, capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
