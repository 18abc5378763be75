#!/usr/bin/env bash
# Makes a "call-like" copy of a corpus: every item re-encoded as a video
# call would carry it into OUT. PROFILE picks the codecs:
#   webrtc (default): VP8 at 600 kbit/s, at most 640 px wide, 25 fps; Opus
#                     at 32 kbit/s, mono, 48 kHz (a browser call);
#   recording:        H.264 at 400 kbit/s, at most 854 px wide, 15 fps; AAC
#                     at 48 kbit/s, mono, 32 kHz (a meeting tool's cloud
#                     recording of a weak connection);
#   lowband:          H.264 at 250 kbit/s, at most 640×360, 15 fps; Opus at
#                     16 kbit/s, mono, from 16 kHz (wideband: nothing above
#                     8 kHz), like a meeting bot's 360p feed and 16-kHz audio;
#   vp9:              VP9 at 300 kbit/s, at most 640 px wide, 25 fps; Opus at
#                     24 kbit/s (a browser call that negotiated VP9);
#   hevc:             H.265 at 250 kbit/s, at most 854 px wide, 25 fps; AAC at
#                     64 kbit/s, 44.1 kHz (a phone's screen recording);
#   av1:              AV1 (SVT-AV1) at 250 kbit/s, at most 640 px wide, 25
#                     fps; Opus at 24 kbit/s;
#   meetbot:          H.264 at 150 kbit/s, at most 640×360, 2 fps; Opus at 16
#                     kbit/s from 16 kHz (what hosted meeting bots deliver);
# OUT/manifest.csv lists the copies under the same labels, kinds and
# sources. `bonafide eval --manifest
# OUT/manifest.csv` then measures how the model holds up under a call codec
# (docs/evaluation.md). The copy is derived from the corpus: keep it outside
# the repository, like the corpus.
#
#   [PROFILE=recording|lowband|vp9|hevc|av1|meetbot] scripts/callcodec.sh [CORPUS_DIR] OUT
set -euo pipefail
if [ $# -eq 1 ]; then CORPUS=${BONAFIDE_CORPUS:-../shared/corpus}; OUT=$1
elif [ $# -eq 2 ]; then CORPUS=$1; OUT=$2
else echo "usage: $0 [CORPUS_DIR] OUT" >&2; exit 64; fi
mkdir -p "$OUT"
has() { [ -n "$(ffprobe -v error -select_streams "$1" -show_entries stream=index -of csv=p=0 "$2")" ]; }
tail -n +2 "$CORPUS/manifest.csv" | cut -d, -f1 | while read -r path; do
  src=$CORPUS/$path
  dst=$OUT/${path%.*}.mkv
  [ -s "$dst" ] && continue
  mkdir -p "$(dirname "$dst")"
  args=()
  case ${PROFILE:-webrtc} in
  webrtc)
    if has v "$src"; then args+=(-map 0:v:0 -vf "scale=w='min(640,iw)':h=-2,fps=25" -c:v libvpx -deadline realtime -cpu-used 8 -b:v 600k); fi
    if has a "$src"; then args+=(-map 0:a:0 -c:a libopus -b:a 32k -ar 48000 -ac 1); fi ;;
  recording)
    if has v "$src"; then args+=(-map 0:v:0 -vf "scale=w='min(854,iw)':h=-2,fps=15" -c:v libx264 -preset veryfast -b:v 400k -maxrate 500k -bufsize 800k -pix_fmt yuv420p); fi
    if has a "$src"; then args+=(-map 0:a:0 -c:a aac -b:a 48k -ar 32000 -ac 1); fi ;;
  lowband)
    if has v "$src"; then args+=(-map 0:v:0 -vf "scale=w='min(640,iw)':h='min(360,ih)':force_original_aspect_ratio=decrease:force_divisible_by=2,fps=15" -c:v libx264 -preset veryfast -b:v 250k -maxrate 300k -bufsize 500k -pix_fmt yuv420p); fi
    if has a "$src"; then args+=(-map 0:a:0 -af aresample=16000 -c:a libopus -b:a 16k -ac 1); fi ;;
  vp9)
    if has v "$src"; then args+=(-map 0:v:0 -vf "scale=w='min(640,iw)':h=-2,fps=25" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1 -b:v 300k); fi
    if has a "$src"; then args+=(-map 0:a:0 -c:a libopus -b:a 24k -ar 48000 -ac 1); fi ;;
  hevc)
    if has v "$src"; then args+=(-map 0:v:0 -vf "scale=w='min(854,iw)':h=-2,fps=25" -c:v libx265 -preset veryfast -b:v 250k -x265-params log-level=error -pix_fmt yuv420p); fi
    if has a "$src"; then args+=(-map 0:a:0 -c:a aac -b:a 64k -ar 44100 -ac 1); fi ;;
  av1)
    if has v "$src"; then args+=(-map 0:v:0 -vf "scale=w='min(640,iw)':h=-2,fps=25" -c:v libsvtav1 -preset 10 -b:v 250k -pix_fmt yuv420p); fi
    if has a "$src"; then args+=(-map 0:a:0 -c:a libopus -b:a 24k -ar 48000 -ac 1); fi ;;
  meetbot)
    if has v "$src"; then args+=(-map 0:v:0 -vf "scale=w='min(640,iw)':h='min(360,ih)':force_original_aspect_ratio=decrease:force_divisible_by=2,fps=2" -c:v libx264 -preset veryfast -b:v 150k -pix_fmt yuv420p); fi
    if has a "$src"; then args+=(-map 0:a:0 -af aresample=16000 -c:a libopus -b:a 16k -ac 1); fi ;;
  *) echo "unknown PROFILE ${PROFILE}" >&2; exit 64 ;;
  esac
  ffmpeg -nostdin -v error -y -i "$src" "${args[@]}" "$dst.tmp.mkv"
  mv "$dst.tmp.mkv" "$dst"
done
{ head -1 "$CORPUS/manifest.csv"; tail -n +2 "$CORPUS/manifest.csv" | sed 's/^\([^,]*\)\.[A-Za-z0-9]*,/\1.mkv,/'; } > "$OUT/manifest.csv"
echo "$(($(wc -l < "$OUT/manifest.csv") - 1)) items in $OUT/manifest.csv"
