package jobs

import (
	"context"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/report"
)

// PipelineAnalyzer is the production Analyzer: analysis.Analyze followed by
// analysis.WriteEvidence. The analysis counts for 90 % of the progress, the
// evidence for the rest.
type PipelineAnalyzer struct {
	Config analysis.Config // Progress is set per call
}

// Analyze implements Analyzer.
func (p PipelineAnalyzer) Analyze(ctx context.Context, mediaPath, evidenceDir string, region media.Region, progress func(float64)) (*report.Report, error) {
	cfg := p.Config
	cfg.Video.Region = region
	cfg.Progress = func(f float64) { progress(0.9 * f) }
	rep, err := analysis.Analyze(ctx, mediaPath, cfg)
	if err != nil {
		return nil, err
	}
	if err := analysis.WriteEvidence(ctx, rep, mediaPath, evidenceDir, cfg); err != nil {
		return nil, err
	}
	progress(1)
	return rep, nil
}
