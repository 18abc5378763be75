package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/evaluation"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// corpusFlags are the flags shared by eval and train: which manifest, how
// to analyse it and where to cache the features.
type corpusFlags struct {
	manifest string
	workers  int
	cache    string
	noCache  bool
	people   string
	quiet    bool
	detVer   string
	trainOn  string
	af       analysisFlags
	seg      segmentFlags // registered by eval and train only
	// segmentsOnly skips analysing the whole recordings: eval --segment
	// without --cv scores the segments and trains nothing.
	segmentsOnly bool
}

// segmentFlags make eval score what one live segment sees instead of the
// whole recording.
type segmentFlags struct {
	duration, start time.Duration
	fps             float64
	voiceOnly       bool
}

func (s *segmentFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.duration, "segment", 0, "eval: score each item on one stretch of this length, analysed as the live bot does (at --segment-fps), with the model's live thresholds; the model, or each fold's model with --cv, is still trained on whole recordings (0: score whole recordings). train: choose the live thresholds on such segments")
	fs.DurationVar(&s.start, "segment-start", 0, "with --segment: where the stretch begins in each item")
	fs.Float64Var(&s.fps, "segment-fps", 8, "with --segment: analysis frame rate of the stretch (the live default)")
	fs.BoolVar(&s.voiceOnly, "segment-voice-only", false, "with --segment: analyse the 16-kHz voice only, as serve --live-full-band=false does")
}

// check validates the flags.
func (s *segmentFlags) check() error {
	switch {
	case s.duration < 0 || s.start < 0:
		return usageErr("--segment and --segment-start must not be negative")
	case s.duration == 0 && s.start > 0:
		return usageErr("--segment-start needs --segment")
	case s.duration > 0 && (s.fps <= 0 || s.fps > 60):
		return usageErr("--segment-fps must be in (0, 60]")
	}
	return nil
}

// config is base restricted to the segment, as the live path analyses it
// (base itself without --segment). The flags must have passed check.
func (s *segmentFlags) config(base analysis.Config) analysis.Config {
	if s.duration == 0 {
		return base
	}
	cfg := base
	cfg.Video.FPS = s.fps
	cfg.Start, cfg.Duration, cfg.NoFullBand = s.start, s.duration, s.voiceOnly
	return cfg
}

// band names the audio a segment analyses.
func (s *segmentFlags) band() string {
	if s.voiceOnly {
		return "voice-only"
	}
	return "full-band"
}

// describe says what a segment run scores.
func (s *segmentFlags) describe() string {
	return fmt.Sprintf("one live segment per item: %v from %v, at %g fps, %s audio; trained on whole recordings", s.duration, s.start, s.fps, s.band())
}

func (c *corpusFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.manifest, "manifest", "", "corpus manifest (CSV: path relative to its folder, label, video_label, audio_label, kind, source, …)")
	fs.IntVar(&c.workers, "workers", 2, "items analysed in parallel")
	fs.StringVar(&c.cache, "cache", filepath.Join(".cache", "bonafide-eval"), "per-item feature cache folder")
	fs.BoolVar(&c.noCache, "no-cache", false, "analyse every item again and store nothing")
	fs.StringVar(&c.people, "people", "", "file listing origins that show the same person, for grouping folds (default: the dev corpus list built in)")
	fs.BoolVar(&c.quiet, "quiet", false, "no per-item progress on stderr")
	fs.StringVar(&c.trainOn, "train-on", "", "comma-separated manifests to train on instead of --manifest (list it too to keep it); their items are grouped with --manifest's by source, trained on and never scored")
	fs.StringVar(&c.detVer, "detector-version", "", "cache key of the detector set (default: a hash of detectors/, media/ and analysis/ when run inside the source tree); set it only to reuse features you know are current")
	c.af.register(fs)
}

// collected is a manifest with its analysed items.
type collected struct {
	manifest *evaluation.Manifest
	records  []evaluation.Record
	failed   []evaluation.Failure
	groups   map[string]int
	// train are the records of the --train-on manifests other than the
	// main one; trainOnMain says whether the main manifest trains too.
	train       []evaluation.Record
	trainOnMain bool
	trainSHA    []string
	warnings    []string
	settings    string // the cache key's settings, "" without a cache
	// With --segment, segRecords and segFailed are the items analysed as
	// one live segment each (scored), and segSettings their cache key.
	segRecords  []evaluation.Record
	segFailed   []evaluation.Failure
	segSettings string
}

// collect reads the manifest and analyses (or loads from the cache) every
// item.
func (c *corpusFlags) collect(ctx context.Context, e *env) (*collected, error) {
	if c.manifest == "" {
		return nil, usageErr("--manifest is required")
	}
	if c.workers < 1 || c.workers > 64 {
		return nil, usageErr("--workers must be in [1, 64]")
	}
	m, err := evaluation.ReadManifest(c.manifest)
	if err != nil {
		return nil, err
	}
	if len(m.Items) == 0 {
		return nil, fmt.Errorf("%w: %s lists no item", evaluation.ErrNoItems, c.manifest)
	}
	people := evaluation.DefaultSamePeople()
	if c.people != "" {
		data, err := os.ReadFile(c.people)
		if err != nil {
			return nil, err
		}
		if people, err = evaluation.ParseSamePeople(string(data)); err != nil {
			return nil, err
		}
	}
	if err := c.seg.check(); err != nil {
		return nil, err
	}
	cfg, release, err := c.af.config(e)
	if err != nil {
		return nil, err
	}
	defer release()
	out := &collected{manifest: m}
	var fp string
	if !c.noCache {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if fp, err = evaluation.Fingerprint(wd); err != nil {
			return nil, err
		}
		if c.detVer != "" {
			fp = c.detVer
		}
		if fp == "unknown" {
			out.warnings = append(out.warnings, "detector version unknown (not run from the source tree, no VCS stamp): cached features may be stale; use --no-cache after changing a detector")
		}
		out.settings = fmt.Sprintf("fps=%g width=%d detectors=%s", c.af.fps, c.af.width, fp)
	}
	col := c.collector(e, cfg, out.settings)
	if !c.segmentsOnly {
		if out.records, out.failed, err = col.Collect(ctx, m.Items); err != nil {
			return nil, err
		}
	}
	if c.seg.duration > 0 {
		if !c.noCache {
			out.segSettings = fmt.Sprintf("fps=%g width=%d start=%v duration=%v %s detectors=%s", c.seg.fps, c.af.width, c.seg.start, c.seg.duration, c.seg.band(), fp)
		}
		out.segRecords, out.segFailed, err = c.collector(e, c.seg.config(cfg), out.segSettings).Collect(ctx, m.Items)
		if err != nil {
			return nil, err
		}
		if len(out.segRecords) == 0 {
			return nil, fmt.Errorf("%w: all %d items failed as segments", evaluation.ErrNoItems, len(m.Items))
		}
		for i := range out.segRecords {
			out.segRecords[i].Live = true
		}
	} else if len(out.records) == 0 {
		return nil, fmt.Errorf("%w: all %d items failed", evaluation.ErrNoItems, len(m.Items))
	}
	extra, err := c.collectTraining(ctx, col, m, out)
	if err != nil {
		return nil, err
	}
	out.groups, _ = evaluation.GroupsByPath(append(append([]evaluation.Item(nil), m.Items...), extra...), people)
	return out, nil
}

// collector analyses items with cfg, through the cache under settings
// (none when settings is empty), reporting progress unless --quiet.
func (c *corpusFlags) collector(e *env, cfg analysis.Config, settings string) *evaluation.Collector {
	col := &evaluation.Collector{
		Analyze: func(ctx context.Context, path string) (*report.Report, error) {
			return analysis.Analyze(ctx, path, cfg)
		},
		Workers: c.workers,
		Logger:  e.logger,
	}
	if settings != "" {
		col.Cache = &evaluation.Cache{Dir: c.cache, Settings: settings}
	}
	if !c.quiet {
		col.Progress = func(done, total int, it evaluation.Item, cached bool, err error) {
			status := "analysed"
			switch {
			case err != nil:
				status = "FAILED: " + err.Error()
			case cached:
				status = "cached"
			}
			fmt.Fprintf(e.stderr, "[%d/%d] %s %s\n", done, total, it.Rel, status)
		}
	}
	return col
}

// collectTraining analyses the --train-on manifests other than m into
// out.train, sets out.trainOnMain and out.trainSHA, and returns their items
// (to be grouped with m's). Without --train-on, m alone trains.
func (c *corpusFlags) collectTraining(ctx context.Context, col *evaluation.Collector, m *evaluation.Manifest, out *collected) ([]evaluation.Item, error) {
	out.trainOnMain = c.trainOn == ""
	if c.trainOn == "" {
		return nil, nil
	}
	mainAbs, err := filepath.Abs(c.manifest)
	if err != nil {
		return nil, err
	}
	var items []evaluation.Item
	for k, p := range strings.Split(c.trainOn, ",") {
		p = strings.TrimSpace(p)
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if abs == mainAbs {
			out.trainOnMain = true
			out.trainSHA = append(out.trainSHA, m.SHA256)
			continue
		}
		tm, err := evaluation.ReadManifest(p)
		if err != nil {
			return nil, err
		}
		// Distinct paths for grouping (two copies of a corpus share their
		// relative paths); the items are grouped with m's by their sources.
		for i := range tm.Items {
			tm.Items[i].Rel = fmt.Sprintf("train%d:%s", k, tm.Items[i].Rel)
		}
		recs, failed, err := col.Collect(ctx, tm.Items)
		if err != nil {
			return nil, err
		}
		if len(failed) > 0 {
			out.warnings = append(out.warnings, fmt.Sprintf("%d of the %d items of %s could not be analysed and do not train", len(failed), len(tm.Items), p))
		}
		out.train = append(out.train, recs...)
		out.trainSHA = append(out.trainSHA, tm.SHA256)
		items = append(items, tm.Items...)
	}
	return items, nil
}

// trainingRecords are the records the shipped model is trained on.
func (c *collected) trainingRecords() []evaluation.Record {
	if !c.trainOnMain {
		return c.train
	}
	return append(append([]evaluation.Record(nil), c.records...), c.train...)
}

func runEval(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("eval", e)
	var cf corpusFlags
	cf.register(fs)
	cf.seg.register(fs)
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	cv := fs.Int("cv", 0, "cross-validate the training procedure with this many folds by source (0: score every item with the model)")
	seed := fs.Int64("seed", 1, "fold assignment seed for --cv")
	repeat := fs.Int("repeat", 1, "with --cv: repeat the cross-validation with this many fold seeds (seed, seed+1, …) and print the spread of the headline figures")
	modelFile := fs.String("model", "", "fusion weights JSON to evaluate (default: the model built into the binary)")
	unseen := fs.Bool("unseen-kinds", false, "with --cv: also cross-validate once per manipulation family with that family never trained on, and print each kind's figures unseen")
	items := fs.Bool("items", false, "also list every item's probability, verdict and modality scores, misses and false alarms first (--json always has them)")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide eval --manifest FILE [--json] [--items] [--workers N] [--cv K] [flags]\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usageErr("unexpected arguments %v", fs.Args())
	}
	if *cv == 1 || *cv < 0 {
		return usageErr("--cv must be 0 or at least 2")
	}
	if *repeat < 1 || (*repeat > 1 && *cv < 2) {
		return usageErr("--repeat needs --cv and must be at least 1")
	}
	if *unseen && (*cv < 2 || cf.seg.duration > 0) {
		return usageErr("--unseen-kinds needs --cv and whole recordings (no --segment)")
	}
	if cf.trainOn != "" && *cv < 2 {
		return usageErr("--train-on needs --cv: without it eval scores with a finished model")
	}
	scorer, err := loadScorer(*modelFile)
	if err != nil {
		return err
	}
	cf.segmentsOnly = cf.seg.duration > 0 && *cv < 2
	c, err := cf.collect(ctx, e)
	if err != nil {
		return err
	}
	// What is scored: the items as analysed whole, or (--segment) as one
	// live segment each; training always uses the whole recordings.
	scoredRecs, failed := c.records, c.failed
	if cf.seg.duration > 0 {
		scoredRecs, failed = c.segRecords, c.segFailed
		if len(c.failed) > 0 {
			c.warnings = append(c.warnings, fmt.Sprintf("%d items could not be analysed whole and do not train", len(c.failed)))
		}
	}
	crossValidate := func(opt models.TrainOptions) ([]evaluation.Scored, []error) {
		if cf.seg.duration > 0 {
			var train []evaluation.Record
			if c.trainOnMain {
				train = c.records
			}
			return evaluation.CrossValidatedOn(scoredRecs, append(append([]evaluation.Record(nil), train...), c.train...), c.groups, opt)
		}
		return evaluation.CrossValidated(c.records, c.train, c.trainOnMain, c.groups, opt)
	}
	var res *evaluation.Result
	if *cv >= 2 {
		opt := models.TrainOptions{}
		if lm, ok := scorer.(*models.LogisticModel); ok {
			opt = lm.Recipe() // cross-validate the recipe of the model
		}
		opt.Folds, opt.Seed = *cv, *seed
		scored, errs := crossValidate(opt)
		res = evaluation.Evaluate(scored, failed)
		res.AUCIntervals = evaluation.BootstrapAUC(scored, c.groups, bootstrapResamples, uint64(*seed))
		res.Mode = fmt.Sprintf("cv-%d", *cv)
		res.Model = "trained per fold with the options of " + scorer.Version() + c.trainedOnNote()
		for _, err := range errs {
			res.Warnings = append(res.Warnings, err.Error())
		}
		if *repeat > 1 {
			runs := []evaluation.RepeatRow{evaluation.RowOf(res, opt.Seed)}
			for i := 1; i < *repeat; i++ {
				opt.Seed = *seed + int64(i)
				sc, errs := crossValidate(opt)
				for _, err := range errs {
					res.Warnings = append(res.Warnings, fmt.Sprintf("seed %d: %v", opt.Seed, err))
				}
				runs = append(runs, evaluation.RowOf(evaluation.Evaluate(sc, failed), opt.Seed))
			}
			res.Repeats = evaluation.Summarise(runs)
		}
		if *unseen {
			opt.Seed = *seed
			rows, errs := evaluation.UnseenKinds(c.records, c.train, c.trainOnMain, c.groups, opt)
			res.UnseenKinds = rows
			for _, err := range errs {
				res.Warnings = append(res.Warnings, err.Error())
			}
		}
	} else {
		scored := evaluation.ScoreAll(scoredRecs, scorer)
		res = evaluation.Evaluate(scored, failed)
		res.AUCIntervals = evaluation.BootstrapAUC(scored, c.groups, bootstrapResamples, uint64(*seed))
		res.Mode, res.Model = "model", scorer.Version()
		if lm, ok := scorer.(*models.LogisticModel); ok && lm.Manifest == c.manifest.SHA256 {
			res.Warnings = append(res.Warnings, "the model was trained on this manifest: these figures are train-on-test; run with --cv 5 for cross-validated figures")
		}
	}
	res.Manifest, res.ManifestSHA256, res.Settings = c.manifest.Path, c.manifest.SHA256, c.settings
	if cf.seg.duration > 0 {
		res.Settings, res.Segment = c.segSettings, cf.seg.describe()
	}
	res.Warnings = append(c.warnings, res.Warnings...)
	if *asJSON {
		return res.WriteJSON(e.stdout)
	}
	if *items {
		return res.WriteTextItems(e.stdout)
	}
	return res.WriteText(e.stdout)
}

// bootstrapResamples is how often eval and train resample the source
// groups for the AUC intervals.
const bootstrapResamples = 1000

// trainedOnNote says what trained the folds when --train-on changed it.
func (c *collected) trainedOnNote() string {
	if len(c.train) == 0 && c.trainOnMain {
		return ""
	}
	if c.trainOnMain {
		return fmt.Sprintf(", on this manifest and %d items of other manifests (same sources, never scored)", len(c.train))
	}
	return fmt.Sprintf(", on %d items of other manifests only (same sources): this manifest is only scored", len(c.train))
}

// loadScorer returns the model in file, or the built-in one.
func loadScorer(file string) (models.Scorer, error) {
	if file == "" {
		s, err := models.LoadDefaultScorer()
		if err != nil && !errors.Is(err, models.ErrNoWeights) {
			return nil, err
		}
		return s, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return models.ParseLogisticModel(data)
}
