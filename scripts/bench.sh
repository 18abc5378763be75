#!/usr/bin/env bash
# Speed and memory benchmark (docs/benchmark.md): `bonafide bench` times
# analyze against an ffmpeg decode-only run of the same file, in the same run.
#  1. the 720p FF++ clip 634 (c23, H.264, no audio): the 2x decode target;
#  2. a 720p talking head with speech (the DFDC real clip scaled to 720p):
#     the cost of the voice and lip-sync analysis (10 % target).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
CORPUS=${BONAFIDE_CORPUS:-../shared/corpus}
RUNS=${RUNS:-5}
go build -o bonafide ./cmd/bonafide
pick() { grep -F "$1" "$CORPUS/manifest.csv" | grep ",genuine," | head -1 | cut -d, -f1; }
ffpp=$(pick 'c23/videos/634.mp4"')
talk=$(pick 'DeepfakeDetection@be94e6c6e28315abe11cb0c409eb393efe98f51d:real.mp4')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -hide_banner -loglevel error -y -i "$CORPUS/$talk" -vf scale=-2:720 \
  -c:v libx264 -preset medium -crf 20 -pix_fmt yuv420p -c:a copy "$tmp/talk720.mp4"
echo "== 720p, picture only (FF++ 634)"
./bonafide bench --runs "$RUNS" "$CORPUS/$ffpp"
echo
echo "== 720p talking head with speech (DFDC real, scaled to 720p)"
./bonafide bench --runs "$RUNS" "$tmp/talk720.mp4"
