package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"strings"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// analysisFlags are the flags shared by every command that analyses media.
type analysisFlags struct {
	fps      float64
	width    int
	cascades string
	ffmpeg   string
	ffprobe  string
}

func (a *analysisFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&a.fps, "fps", 10, "analysis frame rate (slower sources: every frame)")
	fs.IntVar(&a.width, "width", 640, "maximum analysis frame width in pixels")
	fs.StringVar(&a.cascades, "cascades", "", "OpenCV data folder with haarcascades/ (default: search /usr/share/opencv4)")
	fs.StringVar(&a.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg executable")
	fs.StringVar(&a.ffprobe, "ffprobe", "ffprobe", "ffprobe executable")
}

// config builds the analysis configuration from the flags. It loads the
// face landmark model once, shared by every analysis of the command; call
// release when the command is done with the configuration.
func (a *analysisFlags) config(e *env) (cfg analysis.Config, release func(), err error) {
	fm, err := models.LocateFaceModels(a.cascades)
	if err != nil {
		return analysis.Config{}, nil, err
	}
	tools := media.Tools{FFmpeg: a.ffmpeg, FFprobe: a.ffprobe}
	if err := tools.Check(); err != nil {
		return analysis.Config{}, nil, err
	}
	if a.fps <= 0 || a.fps > 60 {
		return analysis.Config{}, nil, usageErr("--fps must be in (0, 60]")
	}
	if a.width < 64 || a.width > 4096 {
		return analysis.Config{}, nil, usageErr("--width must be in [64, 4096]")
	}
	lm, err := detectors.NewLandmarker(fm.Landmarks)
	if err != nil {
		return analysis.Config{}, nil, err
	}
	return analysis.Config{
		Tools:      tools,
		Video:      media.VideoOptions{FPS: a.fps, MaxWidth: a.width},
		FaceModels: fm,
		Landmarker: lm,
		Scorer:     models.DefaultScorer(),
		Logger:     e.logger,
		Version:    version(),
	}, func() { lm.Close() }, nil
}

func newFlagSet(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return usageErr("see the flags above")
		}
		return usageErr("%v", err)
	}
	return nil
}

func runAnalyze(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("analyze", e)
	var af analysisFlags
	af.register(fs)
	asJSON := fs.Bool("json", false, "print the whole report as JSON (schema: docs/report-schema.md)")
	evidence := fs.String("evidence", "", "write face crops and a spectrogram of the most suspicious moments into this folder")
	region := fs.String("region", "whole", "the part of the picture to analyse, for a call recorded in gallery view: whole, "+
		strings.Join(media.RegionNames(), ", ")+", or fractions x,y,w,h of the picture (e.g. 0.33,0,0.34,1)")
	fs.Usage = func() {
		io.WriteString(e.stderr, "Usage: bonafide analyze [flags] FILE\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("exactly one FILE is needed")
	}
	reg, err := media.ParseRegion(*region)
	if err != nil {
		return usageErr("--region: %v", err)
	}
	cfg, release, err := af.config(e)
	if err != nil {
		return err
	}
	defer release()
	cfg.Video.Region = reg
	path := fs.Arg(0)
	rep, err := analysis.Analyze(ctx, path, cfg)
	if err != nil {
		return err
	}
	if *evidence != "" {
		if err := analysis.WriteEvidence(ctx, rep, path, *evidence, cfg); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(e.stdout)
}
