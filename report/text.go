package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteText prints the report for a person reading a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	a := "n/a"
	if r.Authenticity != nil {
		a = fmt.Sprintf("%d/100", *r.Authenticity)
	}
	fmt.Fprintf(&b, "bonafide report: %s\n", r.Analysis.File)
	fmt.Fprintf(&b, "  Authenticity: %s   Verdict: %s\n", a, strings.ToUpper(string(r.Verdict)))
	fmt.Fprintf(&b, "  %s\n", r.Summary)
	if r.ModelValidation != nil {
		fmt.Fprintf(&b, "  %s\n", r.ModelValidation.Statement)
	}
	fmt.Fprintf(&b, "  Coverage: %s\n\n", r.Coverage.Statement)
	for _, m := range []struct {
		name string
		mod  Modality
	}{{"Face (video)", r.Video}, {"Voice (audio)", r.Audio}, {"Lips and voice (audio-visual)", r.AV}} {
		if m.mod.Score != nil {
			fmt.Fprintf(&b, "%s: manipulation score %.2f\n", m.name, *m.mod.Score)
		} else {
			reason := m.mod.Reason
			if reason == "" {
				reason = "not measured"
			}
			fmt.Fprintf(&b, "%s: not measured (%s)\n", m.name, reason)
		}
		for _, s := range m.mod.Signals {
			switch {
			case !s.Measured:
				fmt.Fprintf(&b, "  - %-24s not measurable: %s\n", s.Name, s.Reason)
			case s.Informational:
				fmt.Fprintf(&b, "  - %-24s %s\n", s.Name, s.Explanation)
			default:
				fmt.Fprintf(&b, "  - %-24s score %.2f (confidence %.2f, %+.1f points) %s\n",
					s.Name, s.Score, s.Confidence, s.Contribution, s.Explanation)
			}
		}
		b.WriteString("\n")
	}
	if r.Enhancement != nil && r.Enhancement.Measured {
		fmt.Fprintf(&b, "Image enhancement: score %.2f. %s\n\n", r.Enhancement.Score, r.Enhancement.Explanation)
	}
	if len(r.Timeline) > 1 {
		b.WriteString("Timeline (manipulation score per window; - = not measured):\n")
		for _, w := range r.Timeline {
			fmt.Fprintf(&b, "  %6.1f-%6.1f s  video %s  audio %s  av %s\n", w.Start, w.End, opt(w.Video), opt(w.Audio), opt(w.AV))
		}
		b.WriteString("\n")
	}
	for _, e := range r.Evidence {
		fmt.Fprintf(&b, "Evidence: %s (%s, %.1f-%.1f s) %s\n", e.File, e.Kind, e.Start, e.End, e.Note)
	}
	an := r.Analysis
	fmt.Fprintf(&b, "Analysed %d frames at %.0f fps (%dx%d), %d source frames skipped, %.1f s of audio, in %.1f s (model %s).\n",
		an.FramesAnalyzed, an.AnalysisFPS, an.AnalysisWidth, an.AnalysisHeight, an.FramesSkipped, an.AudioSeconds, an.ElapsedSeconds, an.ModelVersion)
	for _, n := range an.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func opt(v *float64) string {
	if v == nil {
		return "  -  "
	}
	return fmt.Sprintf("%.2f", *v)
}
