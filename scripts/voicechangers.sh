#!/usr/bin/env bash
# Makes voice manipulations the dev corpus does not have, for measuring the
# voice model on kinds it was never trained on (docs/evaluation.md, "Voice
# changers and speech engines the corpus lacks"). From every genuine
# audio-only item of the corpus it makes, into OUT/audio/:
#   changer-rubberband-formant  rubberband -p ±4 -F: pitch shifted, formants
#                               kept (a voice disguise that keeps the timbre);
#   changer-rubberband          rubberband -p ±4: pitch and formants shifted;
#   changer-soundstretch        soundstretch -pitch=±3 (SoundTouch, WSOLA);
#   changer-praat-gender        Praat's "Change gender" (PSOLA): a voice
#                               whose median pitch is under 165 Hz goes to
#                               210 Hz with formants ×1.15, others to 110 Hz
#                               with formants ×0.87;
# (the sign alternates from item to item), and speech from two engines the
# corpus has not used, reading ten interview answers:
#   tts-festival-hts            Festival, the CMU SLT HTS voice (statistical
#                               parametric synthesis through a vocoder, 32 kHz);
#   tts-festival-diphone        Festival, the KAL diphone voice (16 kHz).
# Every output, the genuine copies included, goes through the same final
# step (3 dB of headroom, 48 kHz, 16-bit FLAC, peak normalised to -3 dB),
# so no level or format tells the classes apart. OUT/manifest.csv lists
# the genuine copies and the manipulations (the corpus's columns; a changed
# voice keeps its original's source, so cross-validation by source keeps it
# with its original); OUT/manipulated.csv lists the manipulations only, for
# `--train-on` next to the corpus, which already holds the genuine
# originals. Chain a codec with scripts/codecsweep.sh OUT OUT-CODEC CODEC
# or PROFILE=… scripts/callcodec.sh OUT OUT-PROFILE. Every output is the
# same from run to run except Praat's, whose "Change gender" differs in its
# samples each time (so the feature cache analyses those 35 again). The copies
# are derived from the corpus: keep them outside the repository.
#
# Needs: apt-get install festival festvox-us-slt-hts festvox-kallpc16k
#        rubberband-cli soundstretch praat sox
#
#   scripts/voicechangers.sh CORPUS_DIR OUT
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 CORPUS_DIR OUT" >&2; exit 64; fi
CORPUS=$1; OUT=$2
for t in text2wave rubberband soundstretch praat sox; do
  command -v $t >/dev/null || { echo "$0: $t not found (see the header for the packages)" >&2; exit 69; }
done
mkdir -p "$OUT/audio" "$OUT/work"
W=$OUT/work
finish() { # finish IN.wav OUT.flac: the step every item goes through
  sox -R "$1" -b 16 --comment '' "$2.tmp.flac" remix - gain -3 rate -v 48000 norm -3
  mv "$2.tmp.flac" "$2"
}
cat > "$W/gender.praat" <<'EOF'
form args
  sentence infile
  sentence outfile
endform
s = Read from file: infile$
p = To Pitch: 0, 75, 600
f0 = Get quantile: 0, 0, 0.5, "Hertz"
selectObject: s
if f0 = undefined or f0 < 165
  r = Change gender: 75, 600, 1.15, 210, 1, 1
else
  r = Change gender: 75, 600, 0.87, 110, 1, 1
endif
Scale peak: 0.9
Save as WAV file: outfile$
EOF

echo "path,split,modality,label,video_label,audio_label,kind,source,license,duration_s" > "$W/manifest.csv"
python3 - "$CORPUS/manifest.csv" > "$W/genuine.tsv" <<'PY'
import csv, sys
for x in csv.DictReader(open(sys.argv[1], newline='')):
    if x['modality'] == 'audio' and x['label'] == 'genuine':
        print('\t'.join([x['path'], x['source'].replace('\t', ' '), x['license'].replace('\t', ' ')]))
PY
row() { # row PATH KIND LABEL SOURCE LICENSE
  python3 - "$@" >> "$W/manifest.csv" <<'PY'
import csv, os, subprocess, sys
p, kind, label, source, lic = sys.argv[1:]
out = os.environ['OUT']
d = subprocess.run(['soxi', '-D', os.path.join(out, p)], capture_output=True, text=True, check=True).stdout.strip()
csv.writer(sys.stdout, lineterminator='\n').writerow(
    [p, 'dev', 'audio', label, 'none', label, kind, source, lic, '%.3f' % float(d)])
PY
}
export OUT
n=0
while IFS=$'\t' read -r path source license; do
  n=$((n + 1))
  base=$(basename "${path%.*}")
  sox -R "$CORPUS/$path" -c 1 "$W/in.wav"
  finish "$W/in.wav" "$OUT/audio/$base.flac"
  row "audio/$base.flac" genuine genuine "$source" "$license"
  sign=1; [ $((n % 2)) -eq 0 ] && sign=-1
  for kind in rubberband-formant rubberband soundstretch praat-gender; do
    dst=audio/${base}_$kind.flac
    # cmd is the command as the manifest's source records it.
    case $kind in
      rubberband-formant)
        cmd="rubberband -q -p $((4 * sign)) -F"; $cmd "$W/in.wav" "$W/out.wav" >/dev/null 2>&1 ;;
      rubberband)
        cmd="rubberband -q -p $((4 * sign))"; $cmd "$W/in.wav" "$W/out.wav" >/dev/null 2>&1 ;;
      soundstretch)
        cmd="soundstretch -pitch=$((3 * sign))"; soundstretch "$W/in.wav" "$W/out.wav" -pitch=$((3 * sign)) >/dev/null 2>&1 ;;
      praat-gender)
        cmd="praat --run gender.praat"; praat --run "$W/gender.praat" "$W/in.wav" "$W/out.wav" ;;
    esac
    finish "$W/out.wav" "$OUT/$dst"
    row "$dst" "changer-$kind" manipulated "generated: $cmd; input: $source" "$license"
  done
done < "$W/genuine.tsv"

texts=(
  "I have been working as a backend engineer for about six years, mostly in Go and Python, and I led the migration of our payment services to Kubernetes."
  "In my last role I was responsible for the data pipeline. We moved from nightly batch jobs to streaming, which cut our reporting delay from a day to a few minutes."
  "My strongest skill is debugging production issues. I like to start from the metrics, narrow it down with logs, and then reproduce the problem locally."
  "I am currently based in Dallas, Texas, and I can work in any time zone you need. I am available to start in two weeks."
  "The hardest project I worked on was a real time bidding system. We had a budget of ten milliseconds per request, so every allocation mattered."
  "I usually write tests first for anything that touches money or permissions. For user interface code I prefer a few end to end tests over many small ones."
  "At my previous company I mentored three junior developers and ran our weekly code review sessions."
  "I would describe myself as calm under pressure. When the site went down on a Friday night, I coordinated the incident and wrote the postmortem."
  "I studied computer science at the state university and then worked at a startup that built tools for logistics companies."
  "Yes, I am comfortable with on call duty. In my current team we rotate every four weeks and I have handled several major outages."
)
i=0
for t in "${texts[@]}"; do
  printf '%s\n' "$t" > "$W/text$i.txt"
  for v in cmu_us_slt_arctic_hts:hts kal_diphone:diphone; do
    voice=${v%%:*}; kind=tts-festival-${v##*:}
    dst=audio/festival_${v##*:}_$i.flac
    text2wave -eval "(voice_$voice)" "$W/text$i.txt" -o "$W/out.wav"
    finish "$W/out.wav" "$OUT/$dst"
    row "$dst" "$kind" manipulated "generated: text2wave -voice $voice -f text$i.txt; input: text: \"$t\"" "generated (Festival, free software)"
  done
  i=$((i + 1))
done
mv "$W/manifest.csv" "$OUT/manifest.csv"
awk -F, 'NR == 1 || $4 == "manipulated"' "$OUT/manifest.csv" > "$OUT/manipulated.csv"
rm -rf "$W"
echo "$(($(wc -l < "$OUT/manifest.csv") - 1)) items in $OUT/manifest.csv"
