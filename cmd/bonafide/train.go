package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bonafide-dev/bonafide/evaluation"
	"github.com/bonafide-dev/bonafide/models"
)

func runTrain(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("train", e)
	var cf corpusFlags
	cf.register(fs)
	cf.seg.register(fs)
	out := fs.String("out", "", "weights file to write, e.g. models/weights/fusion-v4.json (the binary embeds the highest version at its next build)")
	var opt models.TrainOptions
	fs.IntVar(&opt.Folds, "folds", 5, "cross-validation folds, by source")
	fs.Int64Var(&opt.Seed, "seed", 1, "fold assignment seed")
	fs.Float64Var(&opt.L2, "l2", 1, "L2 penalty on the standardised weights")
	fs.Float64Var(&opt.TargetFPR, "fpr", 0.02, "target false-positive rate of the verdict manipulated")
	fs.Float64Var(&opt.SuspiciousFPR, "fpr-suspicious", 0.10, "target false-positive rate of suspicious or worse")
	fs.Float64Var(&opt.InconclusiveFPR, "fpr-inconclusive", 0.25, "target false-positive rate of anything but genuine")
	fs.IntVar(&opt.MinMeasured, "min-measured", 10, "least labelled items a signal must be measured on to become a feature")
	fs.BoolVar(&opt.UseConfidence, "use-confidence", false, "shrink scores towards their centre by their confidence (off: confidence grows with clip length, which must not leak into the model)")
	fs.BoolVar(&opt.MissingIndicators, "missing-indicators", false, "learn a weight (<= 0) for each signal's not-measured indicator (off: a missing signal is imputed at its score's centre, see --centre-on-genuine)")
	fs.BoolVar(&opt.CentreOnGenuine, "centre-on-genuine", true, "standardise scores around the genuine items' median, so a missing signal counts as a typical genuine reading (false: around the mean of all items, the recipe of fusion-v9 and older)")
	signals := fs.String("signals", "", "comma-separated signals to use as features (default: every signal measured on --min-measured items)")
	values := fs.String("values", "", "comma-separated raw measurements to add as features, as signal:measurement")
	asJSON := fs.Bool("json", false, "print the cross-validated result as JSON")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide train --manifest FILE --out models/weights/fusion-vN.json [flags]\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usageErr("unexpected arguments %v", fs.Args())
	}
	if *out == "" || !strings.HasSuffix(*out, ".json") {
		return usageErr("--out FILE.json is required")
	}
	if opt.Folds < 2 {
		return usageErr("--folds must be at least 2")
	}
	for _, r := range []float64{opt.TargetFPR, opt.SuspiciousFPR, opt.InconclusiveFPR} {
		if r <= 0 || r >= 1 {
			return usageErr("false-positive targets must be in (0, 1)")
		}
	}
	if *signals != "" {
		for _, v := range strings.Split(*signals, ",") {
			opt.Signals = append(opt.Signals, strings.TrimSpace(v))
		}
	}
	if *values != "" {
		for _, v := range strings.Split(*values, ",") {
			if !strings.Contains(v, ":") {
				return usageErr("--values entries are signal:measurement, got %q", v)
			}
			opt.Values = append(opt.Values, strings.TrimSpace(v))
		}
	}
	c, err := cf.collect(ctx, e)
	if err != nil {
		return err
	}
	// Cross-validated figures of this recipe, never train-on-test.
	scored, errs := evaluation.CrossValidated(c.records, c.train, c.trainOnMain, c.groups, opt)
	res := evaluation.Evaluate(scored, c.failed)
	res.AUCIntervals = evaluation.BootstrapAUC(scored, c.groups, bootstrapResamples, uint64(opt.Seed))
	res.Manifest, res.ManifestSHA256, res.Settings = c.manifest.Path, c.manifest.SHA256, c.settings
	res.Mode, res.Model = fmt.Sprintf("cv-%d", opt.Folds), "trained per fold"+c.trainedOnNote()
	res.Warnings = c.warnings
	for _, err := range errs {
		res.Warnings = append(res.Warnings, err.Error())
	}
	// The shipped model: the same recipe on every item; with --segment,
	// live thresholds chosen on the segments of the manifest's items.
	recs := c.trainingRecords()
	samples := evaluation.Samples(recs, c.groups)
	evaluation.AttachSegments(samples, recs, c.segRecords)
	m, err := models.Train(samples, opt)
	if err != nil {
		return err
	}
	if cf.seg.duration > 0 && m.LiveThresholds == nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("no live thresholds: fewer than %d genuine items have a segment", models.MinLiveGenuine))
	}
	if !m.Informative() {
		if err := res.WriteText(e.stdout); err != nil {
			return err
		}
		return fmt.Errorf("%w: no signal separates genuine from manipulated items on this corpus; not writing %s", models.ErrNoTrainingData, *out)
	}
	m.Name = strings.TrimSuffix(filepath.Base(*out), ".json")
	m.Trained = time.Now().UTC().Format(time.RFC3339)
	m.Manifest = c.manifest.SHA256
	if len(c.train) > 0 {
		m.TrainedOn = c.trainSHA
		if !c.trainOnMain {
			m.Manifest = c.trainSHA[0]
		}
	}
	m.CV = &models.CVMetrics{Folds: opt.Folds, Seed: opt.Seed, Groups: map[string]models.CVGroup{}}
	for name, r := range map[string]evaluation.Row{"overall": res.Overall, "video": res.Video, "audio": res.Audio, "av": res.AV} {
		m.CV.Groups[name] = models.CVGroup{N: r.N, AUC: jsonSafe(r.AUC), EER: jsonSafe(r.EER),
			FPRAtManipulated: jsonSafe(r.FPRAtManipulated), RecallAtManipulated: jsonSafe(r.RecallAtManipulated),
			FPRAtInconclusive: jsonSafe(r.FPRAtInconclusive), RecallAtInconclusive: jsonSafe(r.RecallAtInconclusive)}
	}
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	if _, err := models.ParseLogisticModel(data); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	if *asJSON {
		if err := res.WriteJSON(e.stdout); err != nil {
			return err
		}
	} else if err := res.WriteText(e.stdout); err != nil {
		return err
	}
	live := ""
	if t := m.LiveThresholds; t != nil {
		live = fmt.Sprintf(", live genuine≥%d inconclusive≥%d suspicious≥%d", t.Genuine, t.Inconclusive, t.Suspicious)
	}
	fmt.Fprintf(e.stderr, "wrote %s (%d sub-models, thresholds genuine≥%d inconclusive≥%d suspicious≥%d%s); rebuild the binary to embed it\n",
		*out, len(m.SubModels), m.Thresholds.Genuine, m.Thresholds.Inconclusive, m.Thresholds.Suspicious, live)
	return nil
}

// jsonSafe maps an undefined metric to nil (JSON null).
func jsonSafe(n evaluation.Num) *float64 {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	v = math.Round(v*1e4) / 1e4
	return &v
}
