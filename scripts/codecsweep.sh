#!/usr/bin/env bash
# Makes audio-only copies of a corpus's soundtracks through voice codecs a
# call or a phone bridge may use, one copy per codec, into OUT/<codec>/
# with its own manifest.csv (same sources, labels from audio_label; the
# audio-visual kinds whose sound is itself genuine, av-delay-250ms and
# av-dubbed, are left out). `bonafide eval --manifest OUT/<codec>/manifest.csv
# --cv 5 --train-on …` then measures the voice model on a codec it was never
# trained on (docs/evaluation.md, "Voice codecs it was never trained on").
# The copies are derived from the corpus: keep them outside the repository.
#
#   scripts/codecsweep.sh CORPUS_DIR OUT [CODEC ...]
#
# CODEC: opus12voip (Opus 12 kbit/s VoIP from 16 kHz), opus24, opus64 (48
# kHz), aac24 (24 kHz), aac96 (44.1 kHz), mp3_32 (22.05 kHz), g722 (16 kHz),
# g711 (μ-law, 8 kHz), gsm (8 kHz, decoded back to PCM), speex (16 kHz,
# 16 kbit/s); and three narrowband channels heard inside a 48-kHz
# recording (a phone dial-in mixed into a meeting, a headset in its 8-kHz
# call mode sending through the browser), upsampled back to 48 kHz PCM:
# g711_48k, gsm_48k, opusnb_48k (Opus NB, 12 kbit/s); and denoise_48k, a
# strong noise suppressor (ffmpeg's afftdn, 30 dB) as a call app's noise
# suppression would apply it, kept at 48 kHz PCM; opus8 (Opus at 8 kbit/s,
# 48 kHz: what a browser call falls to on a congested network, narrowband
# at that rate). Default: all of them.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 CORPUS_DIR OUT [CODEC ...]" >&2; exit 64; fi
CORPUS=$1; OUT=$2; shift 2
codecs=("$@")
[ ${#codecs[@]} -gt 0 ] || codecs=(opus12voip opus24 opus64 aac24 aac96 mp3_32 g722 g711 gsm speex g711_48k gsm_48k opusnb_48k denoise_48k opus8)
for codec in "${codecs[@]}"; do
  d=$OUT/$codec
  mkdir -p "$d/audio"
  python3 - "$CORPUS/manifest.csv" "$d/manifest.csv" > "$d/paths.txt" <<'PY'
import csv, sys
src, dst = sys.argv[1:]
rows = list(csv.DictReader(open(src, newline='')))
w = csv.DictWriter(open(dst, 'w', newline=''), fieldnames=list(rows[0].keys()))
w.writeheader()
for x in rows:
    if x['audio_label'] == 'none' or x['kind'] in ('av-delay-250ms', 'av-dubbed'):
        continue
    base = x['path'].rsplit('/', 1)[-1].rsplit('.', 1)[0]
    y = dict(x, path='audio/' + base + '.mka', modality='audio', video_label='none', label=x['audio_label'])
    if x['audio_label'] != 'manipulated':
        y['kind'] = 'genuine'
    w.writerow(y)
    print(x['path'])
PY
  while read -r p; do
    dst=$d/audio/$(basename "${p%.*}").mka
    [ -s "$dst" ] && continue
    in=(-nostdin -v error -y -i "$CORPUS/$p" -vn -ac 1)
    case $codec in
      opus12voip) ffmpeg "${in[@]}" -af aresample=16000 -c:a libopus -b:a 12k -application voip "$dst.tmp.mka" ;;
      opus24) ffmpeg "${in[@]}" -ar 48000 -c:a libopus -b:a 24k "$dst.tmp.mka" ;;
      opus64) ffmpeg "${in[@]}" -ar 48000 -c:a libopus -b:a 64k "$dst.tmp.mka" ;;
      aac24) ffmpeg "${in[@]}" -ar 24000 -c:a aac -b:a 24k "$dst.tmp.mka" ;;
      aac96) ffmpeg "${in[@]}" -ar 44100 -c:a aac -b:a 96k "$dst.tmp.mka" ;;
      mp3_32) ffmpeg "${in[@]}" -ar 22050 -c:a libmp3lame -b:a 32k "$dst.tmp.mka" ;;
      g722) ffmpeg "${in[@]}" -ar 16000 -c:a g722 "$dst.tmp.mka" ;;
      g711) ffmpeg "${in[@]}" -ar 8000 -c:a pcm_mulaw "$dst.tmp.mka" ;;
      gsm) ffmpeg "${in[@]}" -ar 8000 -c:a libgsm -f gsm - |
             ffmpeg -nostdin -v error -y -f gsm -i - -c:a pcm_s16le "$dst.tmp.mka" ;;
      speex) ffmpeg "${in[@]}" -ar 16000 -c:a libspeex -b:a 16k "$dst.tmp.mka" ;;
      g711_48k) ffmpeg "${in[@]}" -ar 8000 -c:a pcm_mulaw -f wav - |
             ffmpeg -nostdin -v error -y -f wav -i - -ar 48000 -c:a pcm_s16le "$dst.tmp.mka" ;;
      gsm_48k) ffmpeg "${in[@]}" -ar 8000 -c:a libgsm -f gsm - |
             ffmpeg -nostdin -v error -y -f gsm -i - -ar 48000 -c:a pcm_s16le "$dst.tmp.mka" ;;
      opusnb_48k) ffmpeg "${in[@]}" -ar 8000 -c:a libopus -b:a 12k -f ogg - |
             ffmpeg -nostdin -v error -y -f ogg -i - -ar 48000 -c:a pcm_s16le "$dst.tmp.mka" ;;
      opus8) ffmpeg "${in[@]}" -ar 48000 -c:a libopus -b:a 8k "$dst.tmp.mka" ;;
      denoise_48k) ffmpeg "${in[@]}" -af afftdn=nr=30:nf=-40 -ar 48000 -c:a pcm_s16le "$dst.tmp.mka" ;;
      *) echo "unknown codec $codec" >&2; exit 64 ;;
    esac
    mv "$dst.tmp.mka" "$dst"
  done < "$d/paths.txt"
  rm "$d/paths.txt"
  echo "$codec: $(($(wc -l < "$d/manifest.csv") - 1)) items in $d/manifest.csv"
done
