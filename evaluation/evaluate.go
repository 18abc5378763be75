package evaluation

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/bonafide-dev/bonafide/models"
)

// Scored is a record with the model's output for it.
type Scored struct {
	Record
	Output models.Output
}

// ScoreAll scores every record with one model.
func ScoreAll(recs []Record, s models.Scorer) []Scored {
	out := make([]Scored, len(recs))
	for i, r := range recs {
		out[i] = Scored{Record: r, Output: s.Score(r.Input())}
	}
	return out
}

// Samples turns records into training samples, with each record's group
// taken from groups (by manifest path, as returned by GroupsByPath).
func Samples(recs []Record, groups map[string]int) []models.Sample {
	out := make([]models.Sample, len(recs))
	for i, r := range recs {
		out[i] = models.Sample{
			Input:   r.Input(),
			Group:   groups[r.Item.Rel],
			Overall: toLabel(r.Item.Label),
			Video:   toLabel(r.Item.VideoLabel),
			Audio:   toLabel(r.Item.AudioLabel),
		}
	}
	return out
}

// GroupsByPath groups every manifest item (see Groups) and returns the
// group id by manifest path, and the number of groups.
func GroupsByPath(items []Item, people SamePeople) (map[string]int, int) {
	ids := Groups(items, people)
	out := map[string]int{}
	n := 0
	for i, it := range items {
		out[it.Rel] = ids[i]
		n = max(n, ids[i]+1)
	}
	return out, n
}

// CrossValidated scores every record out of fold: the training procedure
// runs on the other folds (by source group) and scores the held-out one.
// The training part of a fold is recs of the other folds, plus extra of
// the other folds (records only trained on, never scored, e.g. the same
// sources in other encodings); with trainOnRecs false, it is extra alone.
// groups must cover recs and extra (GroupsByPath over both).
func CrossValidated(recs, extra []Record, trainOnRecs bool, groups map[string]int, opt models.TrainOptions) ([]Scored, []error) {
	return crossValidate(recs, trainOnRecs, extra, groups, opt)
}

// CrossValidatedOn scores every record of score out of fold, like
// CrossValidated, but trains only on train (never scored) of the other
// folds. It measures a model trained on one view of the items (whole
// recordings) on another view of the same items (one live segment each);
// groups must cover both (the views of an item share its path). The
// training records get their items' live segments from score
// (AttachSegments), so each fold's model chooses its live thresholds on
// the segments of its own training items.
func CrossValidatedOn(score, train []Record, groups map[string]int, opt models.TrainOptions) ([]Scored, []error) {
	return crossValidate(score, false, train, groups, opt)
}

// AttachSegments sets the Segment of each sample (made from recs, in
// order) whose item has a live segment among segs.
func AttachSegments(samples []models.Sample, recs, segs []Record) {
	byPath := map[string]models.Input{}
	for _, r := range segs {
		if r.Live {
			byPath[r.Item.Rel] = r.Input()
		}
	}
	for i, r := range recs {
		if in, ok := byPath[r.Item.Rel]; ok {
			samples[i].Segment = &in
		}
	}
}

func crossValidate(score []Record, trainOnScore bool, train []Record, groups map[string]int, opt models.TrainOptions) ([]Scored, []error) {
	samples := Samples(score, groups)
	for i := range samples {
		samples[i].NoTrain = !trainOnScore
	}
	extra := Samples(train, groups)
	AttachSegments(extra, train, score)
	for _, s := range extra {
		s.NoScore = true
		samples = append(samples, s)
	}
	outs, errs := models.CrossValidate(samples, opt)
	sc := make([]Scored, len(score))
	for i, r := range score {
		sc[i] = Scored{Record: r, Output: outs[i]}
	}
	return sc, errs
}

// Num is a metric: JSON null when undefined (NaN), else rounded to 4
// decimals.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Num(v)
	return nil
}

// Row is the figures of one group of items. The rates "at manipulated" count
// items whose verdict is manipulated; "at suspicious", suspicious or worse;
// "at inconclusive", anything but genuine.
type Row struct {
	N           int `json:"n"`
	Genuine     int `json:"n_genuine"`
	Manipulated int `json:"n_manipulated"`
	// Unscored items had nothing measurable: they count with probability
	// 0.5 in AUC and EER and with an inconclusive verdict.
	Unscored             int `json:"n_unscored"`
	AUC                  Num `json:"auc"`
	EER                  Num `json:"eer"`
	FPRAtManipulated     Num `json:"fpr_at_manipulated"`
	RecallAtManipulated  Num `json:"recall_at_manipulated"`
	FPRAtSuspicious      Num `json:"fpr_at_suspicious"`
	RecallAtSuspicious   Num `json:"recall_at_suspicious"`
	FPRAtInconclusive    Num `json:"fpr_at_inconclusive"`
	RecallAtInconclusive Num `json:"recall_at_inconclusive"`
}

// SignalRow is one signal's own discriminative power: the AUC of its score
// on the items where it was measured, against the label of its stream.
type SignalRow struct {
	Modality string `json:"modality"`
	Measured int    `json:"measured"`
	Missing  int    `json:"missing"`
	AUC      Num    `json:"auc"`
}

// Result is the outcome of an evaluation.
type Result struct {
	Manifest       string `json:"manifest"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Model          string `json:"model"`
	// Mode is "model" (the given model scores every item) or "cv-K"
	// (K-fold cross-validation of the training procedure, by source).
	Mode string `json:"mode"`
	// Settings are the analysis settings and detector version the features
	// were computed with (the cache key besides the file content).
	Settings string `json:"settings,omitempty"`
	// Segment, when set, says that each item was scored on one stretch
	// analysed as a live segment (eval --segment), and how.
	Segment  string   `json:"segment,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Items    int      `json:"items"`
	Cached   int      `json:"cached"`

	Overall Row                  `json:"overall"`
	Video   Row                  `json:"video"`
	Audio   Row                  `json:"audio"`
	AV      Row                  `json:"av"`
	Kinds   map[string]Row       `json:"kinds"`
	Signals map[string]SignalRow `json:"signals"`
	Failed  []Failure            `json:"failed"`
	// Repeats holds the spread of the headline figures when the
	// cross-validation was repeated with other fold seeds (eval --repeat).
	Repeats *Repeats `json:"repeats,omitempty"`
	// AUCIntervals are 95 % intervals of the headline AUCs from resampling
	// the source groups (BootstrapAUC).
	AUCIntervals *AUCIntervals `json:"auc_intervals,omitempty"`
	// UnseenKinds holds each manipulated kind's row when its family was
	// never trained on (eval --unseen-kinds, see UnseenKinds).
	UnseenKinds map[string]Row `json:"unseen_kinds,omitempty"`
	// Scores is every analysed item's outcome, in manifest order; the text
	// output lists it only when asked (eval --items).
	Scores []ItemScore `json:"item_scores"`
}

// ItemScore is one analysed item's outcome: the interview probability of
// manipulation and verdict, and each modality's score (null when the
// modality was not measured).
type ItemScore struct {
	Path        string         `json:"path"`
	Kind        string         `json:"kind"`
	Label       string         `json:"label"`
	VideoLabel  string         `json:"video_label"`
	AudioLabel  string         `json:"audio_label"`
	Probability Num            `json:"probability"`
	Verdict     models.Verdict `json:"verdict"`
	Video       Num            `json:"video"`
	Audio       Num            `json:"audio"`
	AV          Num            `json:"av"`
}

func itemScore(s Scored) ItemScore {
	mod := func(m string) Num {
		if ms, ok := s.Output.Modalities[m]; ok && ms.Measured {
			return Num(ms.Score)
		}
		return Num(math.NaN())
	}
	return ItemScore{
		Path: s.Item.Rel, Kind: s.Item.Kind, Label: s.Item.Label, VideoLabel: s.Item.VideoLabel, AudioLabel: s.Item.AudioLabel,
		Probability: Num(s.Output.Probability), Verdict: s.Output.Verdict,
		Video: mod(models.ModVideo), Audio: mod(models.ModAudio), AV: mod(models.ModAV),
	}
}

// entry is one item as a row sees it.
type entry struct {
	p        float64 // NaN when unscored
	verdict  models.Verdict
	positive bool
}

func makeRow(es []entry) Row {
	r := Row{N: len(es)}
	scores := make([]float64, len(es))
	pos := make([]bool, len(es))
	atM, atS, atI := make([]bool, len(es)), make([]bool, len(es)), make([]bool, len(es))
	for i, e := range es {
		pos[i] = e.positive
		if e.positive {
			r.Manipulated++
		} else {
			r.Genuine++
		}
		scores[i] = e.p
		v := e.verdict
		if math.IsNaN(e.p) {
			r.Unscored++
			scores[i], v = 0.5, models.Inconclusive
		}
		atM[i] = v == models.Manipulated
		atS[i] = atM[i] || v == models.Suspicious
		atI[i] = v != models.Genuine
	}
	r.AUC, r.EER = Num(AUC(scores, pos)), Num(EER(scores, pos))
	f, rc := Rates(atM, pos)
	r.FPRAtManipulated, r.RecallAtManipulated = Num(f), Num(rc)
	f, rc = Rates(atS, pos)
	r.FPRAtSuspicious, r.RecallAtSuspicious = Num(f), Num(rc)
	f, rc = Rates(atI, pos)
	r.FPRAtInconclusive, r.RecallAtInconclusive = Num(f), Num(rc)
	return r
}

// headlineEntries are the items of the overall, video, audio and av rows.
type headlineEntries struct{ all, video, audio, av []entry }

// add puts s into the rows it belongs to: every item overall, the items
// with a video (audio) stream in the video (audio) row with that stream's
// modality score and label, the items with both streams in the av row.
func (h *headlineEntries) add(s Scored) {
	h.all = append(h.all, overallEntry(s))
	if s.Item.VideoLabel != None {
		h.video = append(h.video, modalityEntry(s, models.ModVideo, s.Item.VideoLabel))
	}
	if s.Item.AudioLabel != None {
		h.audio = append(h.audio, modalityEntry(s, models.ModAudio, s.Item.AudioLabel))
	}
	if s.Item.VideoLabel != None && s.Item.AudioLabel != None {
		h.av = append(h.av, overallEntry(s))
	}
}

// addAll appends o's rows to h's.
func (h *headlineEntries) addAll(o *headlineEntries) {
	h.all = append(h.all, o.all...)
	h.video = append(h.video, o.video...)
	h.audio = append(h.audio, o.audio...)
	h.av = append(h.av, o.av...)
}

func overallEntry(s Scored) entry {
	return entry{p: s.Output.Probability, verdict: s.Output.Verdict, positive: s.Item.Label == Manipulated}
}

func modalityEntry(s Scored, mod string, label string) entry {
	ms, ok := s.Output.Modalities[mod]
	e := entry{p: math.NaN(), verdict: models.Inconclusive, positive: label == Manipulated}
	if ok && ms.Measured {
		e.p, e.verdict = ms.Score, ms.Verdict
	}
	return e
}

// Evaluate computes the figures. The video and audio rows score each
// stream's modality score against its stream label (items that have the
// stream); the av row scores the interview probability of items with both
// streams against the item label; overall scores every item's interview
// probability and verdict. A kind's row holds its items against every
// genuine item of the same file modality.
func Evaluate(scored []Scored, failed []Failure) *Result {
	res := &Result{Items: len(scored) + len(failed), Kinds: map[string]Row{}, Signals: map[string]SignalRow{}, Failed: failed,
		Scores: make([]ItemScore, 0, len(scored))}
	if res.Failed == nil {
		res.Failed = []Failure{}
	}
	var rows headlineEntries
	kinds := map[string][]int{}
	genuineOf := map[string][]int{}
	for i, s := range scored {
		if s.Cached {
			res.Cached++
		}
		rows.add(s)
		res.Scores = append(res.Scores, itemScore(s))
		kinds[s.Item.Kind] = append(kinds[s.Item.Kind], i)
		if s.Item.Label == Genuine {
			genuineOf[s.Item.Modality] = append(genuineOf[s.Item.Modality], i)
		}
	}
	res.Overall, res.Video, res.Audio, res.AV = makeRow(rows.all), makeRow(rows.video), makeRow(rows.audio), makeRow(rows.av)
	for kind, idx := range kinds {
		var es []entry
		manipulated := false
		for _, i := range idx {
			es = append(es, overallEntry(scored[i]))
			manipulated = manipulated || scored[i].Item.Label == Manipulated
		}
		if manipulated {
			mod := scored[idx[0]].Item.Modality
			for _, i := range genuineOf[mod] {
				if scored[i].Item.Kind != kind {
					es = append(es, overallEntry(scored[i]))
				}
			}
		}
		res.Kinds[kind] = makeRow(es)
	}
	// Per-signal AUC against the label of the signal's stream.
	type sigAcc struct {
		mod     string
		scores  []float64
		pos     []bool
		missing int
	}
	sigs := map[string]*sigAcc{}
	for _, s := range scored {
		for _, sig := range s.Features.Signals {
			label := streamLabel(s.Item, sig.Modality)
			if label == None || label == "" {
				continue
			}
			a := sigs[sig.Name]
			if a == nil {
				a = &sigAcc{mod: sig.Modality}
				sigs[sig.Name] = a
			}
			if !sig.Measured {
				a.missing++
				continue
			}
			a.scores = append(a.scores, sig.Score)
			a.pos = append(a.pos, label == Manipulated)
		}
	}
	for name, a := range sigs {
		res.Signals[name] = SignalRow{Modality: a.mod, Measured: len(a.scores), Missing: a.missing, AUC: Num(AUC(a.scores, a.pos))}
	}
	return res
}

// streamLabel is the label a signal of modality mod is judged against.
func streamLabel(it Item, mod string) string {
	switch mod {
	case models.ModVideo:
		return it.VideoLabel
	case models.ModAudio:
		return it.AudioLabel
	case models.ModAV:
		// Audio-visual signals judge whether the soundtrack belongs to
		// the face as filmed (see models.Sample.LabelFor).
		if it.VideoLabel == None || it.AudioLabel == None {
			return None
		}
		return it.AudioLabel
	}
	return ""
}

// WriteJSON writes the result as one indented JSON object.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the result as plain-text tables, without the per-item
// list.
func (r *Result) WriteText(w io.Writer) error { return r.writeText(w, false) }

// WriteTextItems writes the result as plain-text tables followed by every
// item's outcome: manipulated items from the most genuine-looking, then
// genuine items from the most manipulated-looking, so the misses and the
// false alarms come first.
func (r *Result) WriteTextItems(w io.Writer) error { return r.writeText(w, true) }

func (r *Result) writeText(w io.Writer, items bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "bonafide eval: %s (sha256 %.12s)\n", r.Manifest, r.ManifestSHA256)
	fmt.Fprintf(&b, "model %s, mode %s; %d items, %d analysed (%d from cache), %d failed\n",
		r.Model, r.Mode, r.Items, r.Items-len(r.Failed), r.Cached, len(r.Failed))
	if r.Settings != "" {
		fmt.Fprintf(&b, "analysis: %s\n", r.Settings)
	}
	if r.Segment != "" {
		fmt.Fprintf(&b, "scored: %s\n", r.Segment)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", warn)
	}
	b.WriteString("\nRates at each verdict threshold: FPR = genuine items flagged, rec = manipulated items flagged;\n")
	b.WriteString("@man = verdict manipulated, @sus = suspicious or worse, @inc = anything but genuine.\n\n")
	header := fmt.Sprintf("%-26s %4s %4s %4s %4s %6s %6s %7s %7s %7s %7s %7s %7s\n",
		"group", "n", "gen", "man", "uns", "AUC", "EER", "FPR@man", "rec@man", "FPR@sus", "rec@sus", "FPR@inc", "rec@inc")
	b.WriteString(header)
	row := func(name string, x Row) {
		fmt.Fprintf(&b, "%-26s %4d %4d %4d %4d %6s %6s %7s %7s %7s %7s %7s %7s\n", name, x.N, x.Genuine, x.Manipulated, x.Unscored,
			fnum(x.AUC), fnum(x.EER), fnum(x.FPRAtManipulated), fnum(x.RecallAtManipulated),
			fnum(x.FPRAtSuspicious), fnum(x.RecallAtSuspicious), fnum(x.FPRAtInconclusive), fnum(x.RecallAtInconclusive))
	}
	row("overall", r.Overall)
	row("video (video stream)", r.Video)
	row("audio (audio stream)", r.Audio)
	row("av (both streams)", r.AV)
	if ci := r.AUCIntervals; ci != nil {
		span := func(i Interval) string { return fnum(i.Low) + "–" + fnum(i.High) }
		fmt.Fprintf(&b, "95 %% intervals of the AUC, resampling source groups (%d resamples): overall %s, video %s, audio %s, av %s\n",
			ci.Resamples, span(ci.Overall), span(ci.Video), span(ci.Audio), span(ci.AV))
	}
	if r.Repeats != nil {
		writeRepeats(&b, r.Repeats)
	}
	b.WriteString("\nPer kind (its items vs all genuine items of the same file modality):\n")
	b.WriteString(header)
	kinds := make([]string, 0, len(r.Kinds))
	for k := range r.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		row(k, r.Kinds[k])
	}
	if len(r.UnseenKinds) > 0 {
		writeUnseen(&b, r.Kinds, r.UnseenKinds)
	}
	b.WriteString("\nPer signal (score AUC on items where measured, against its stream's label):\n")
	fmt.Fprintf(&b, "%-26s %-6s %8s %8s %6s\n", "signal", "mod", "measured", "missing", "AUC")
	names := make([]string, 0, len(r.Signals))
	for n := range r.Signals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.Signals[n]
		fmt.Fprintf(&b, "%-26s %-6s %8d %8d %6s\n", n, s.Modality, s.Measured, s.Missing, fnum(s.AUC))
	}
	if len(names) == 0 {
		b.WriteString("  (no scoring signal)\n")
	}
	if items {
		writeItems(&b, r.Scores)
	}
	fmt.Fprintf(&b, "\nFailed: %d\n", len(r.Failed))
	for _, f := range r.Failed {
		fmt.Fprintf(&b, "  %s (%s, %s): %s\n", f.Path, f.Kind, f.Label, f.Error)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fnum(n Num) string {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func writeItems(b *strings.Builder, scores []ItemScore) {
	sorted := append([]ItemScore(nil), scores...)
	p := func(x ItemScore) float64 {
		if v := float64(x.Probability); !math.IsNaN(v) {
			return v
		}
		return 0.5
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		mi, mj := sorted[i].Label == Manipulated, sorted[j].Label == Manipulated
		if mi != mj {
			return mi
		}
		if mi {
			return p(sorted[i]) < p(sorted[j])
		}
		return p(sorted[i]) > p(sorted[j])
	})
	b.WriteString("\nItems (manipulated from the most genuine-looking, then genuine from the most manipulated-looking;\n")
	b.WriteString("p = probability of manipulation, then each modality's score, - = not measured):\n")
	fmt.Fprintf(b, "%-28s %-26s %-11s %6s %-12s %6s %6s %6s\n", "path", "kind", "label", "p", "verdict", "video", "audio", "av")
	for _, x := range sorted {
		fmt.Fprintf(b, "%-28s %-26s %-11s %6s %-12s %6s %6s %6s\n", x.Path, x.Kind, x.Label,
			fnum(x.Probability), x.Verdict, fnum(x.Video), fnum(x.Audio), fnum(x.AV))
	}
}

// writeUnseen prints each kind's AUC and recall when its family trained
// the folds (seen) and when it did not (unseen).
func writeUnseen(b *strings.Builder, seen, unseen map[string]Row) {
	b.WriteString("\nUnseen manipulations: each family (a kind without its compression level or variant) left out of\n")
	b.WriteString("every training set, its items scored against all genuine items of the same file modality:\n")
	fmt.Fprintf(b, "%-26s %-22s %4s %7s %7s %7s %7s\n", "kind", "family", "n", "AUC", "AUC", "rec@man", "rec@sus")
	fmt.Fprintf(b, "%-26s %-22s %4s %7s %7s %7s %7s\n", "", "", "", "seen", "unseen", "unseen", "unseen")
	kinds := make([]string, 0, len(unseen))
	for k := range unseen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var n, sumSeen, sumUnseen float64
	for _, k := range kinds {
		u := unseen[k]
		fmt.Fprintf(b, "%-26s %-22s %4d %7s %7s %7s %7s\n", k, Family(k), u.Manipulated, fnum(seen[k].AUC), fnum(u.AUC),
			fnum(u.RecallAtManipulated), fnum(u.RecallAtSuspicious))
		if a, c := float64(seen[k].AUC), float64(u.AUC); !math.IsNaN(a) && !math.IsNaN(c) {
			w := float64(u.Manipulated)
			n, sumSeen, sumUnseen = n+w, sumSeen+w*a, sumUnseen+w*c
		}
	}
	if n > 0 {
		fmt.Fprintf(b, "mean kind AUC, weighted by items: seen %.3f, unseen %.3f\n", sumSeen/n, sumUnseen/n)
	}
}
