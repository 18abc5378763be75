package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/bonafide-dev/bonafide/report"
)

// The charts are SVG built server-side from numbers only (no user text),
// so they are safe to embed as template.HTML. Colours come from CSS
// classes (style.css), which keeps them printable and CSP-friendly.

// gaugeSVG draws the 0–100 authenticity score as a half-circle gauge.
// a is nil when nothing was measured.
func gaugeSVG(a *int, verdict string) template.HTML {
	const cx, cy, r = 100.0, 100.0, 80.0
	var b strings.Builder
	b.WriteString(`<svg class="gauge" viewBox="0 0 200 122" role="img" aria-label="authenticity score">`)
	fmt.Fprintf(&b, `<path class="gauge-track" d="M %.1f %.1f A %.1f %.1f 0 0 1 %.1f %.1f"/>`, cx-r, cy, r, r, cx+r, cy)
	if a != nil {
		v := min(max(float64(*a), 0), 100) / 100
		ang := math.Pi * (1 - v)
		x, y := cx+r*math.Cos(ang), cy-r*math.Sin(ang)
		if v > 0 {
			fmt.Fprintf(&b, `<path class="gauge-value v-%s" d="M %.1f %.1f A %.1f %.1f 0 0 1 %.1f %.1f"/>`,
				verdictClass(verdict), cx-r, cy, r, r, x, y)
		}
		// A marker across the arc at the score.
		fmt.Fprintf(&b, `<line class="gauge-needle" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`,
			cx+(r-14)*math.Cos(ang), cy-(r-14)*math.Sin(ang), cx+(r+10)*math.Cos(ang), cy-(r+10)*math.Sin(ang))
		fmt.Fprintf(&b, `<text class="gauge-number" x="%.0f" y="%.0f">%d</text>`, cx, cy-18, *a)
	} else {
		fmt.Fprintf(&b, `<text class="gauge-number" x="%.0f" y="%.0f">n/a</text>`, cx, cy-18)
	}
	fmt.Fprintf(&b, `<text class="gauge-label" x="%.0f" y="%.0f">authenticity / 100</text>`, cx, cy+16)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and fixed strings only
}

// verdictClass maps a verdict to a CSS class suffix.
func verdictClass(v string) string {
	switch v {
	case "genuine", "inconclusive", "suspicious", "manipulated":
		return v
	}
	return "none"
}

// timelineSVG draws the per-window manipulation scores (0 bottom, 1 top)
// of each modality over time, with the overall score as bars behind them.
// Windows where a modality was not measured leave a gap in its line.
func timelineSVG(tl []report.Window, duration float64) template.HTML {
	const w, h = 760.0, 220.0
	const left, right, top, bottom = 40.0, 10.0, 10.0, 30.0
	pw, ph := w-left-right, h-top-bottom
	end := duration
	for _, win := range tl {
		end = math.Max(end, win.End)
	}
	if end <= 0 {
		end = 1
	}
	x := func(t float64) float64 { return left + pw*t/end }
	y := func(v float64) float64 { return top + ph*(1-min(max(v, 0), 1)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" viewBox="0 0 %.0f %.0f" role="img" aria-label="manipulation score over time">`, w, h)
	// Horizontal grid and y labels.
	for _, v := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, y(v), left+pw, y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="end">%.1f</text>`, left-4, y(v)+4, v)
	}
	// X ticks.
	step := niceStep(end)
	for t := 0.0; t <= end+1e-9; t += step {
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x(t), top+ph, x(t), top+ph+4)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(t), h-10, clock(t))
	}
	// Overall score bars with a tooltip per window.
	for _, win := range tl {
		if win.Overall == nil {
			continue
		}
		fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s–%s: overall %.2f%s</title></rect>`,
			levelClass(*win.Overall), x(win.Start), y(*win.Overall), math.Max(x(win.End)-x(win.Start)-1, 1), top+ph-y(*win.Overall),
			clock(win.Start), clock(win.End), *win.Overall, windowDetail(win))
	}
	// One line per modality, broken where it was not measured.
	for _, m := range []struct {
		class string
		get   func(report.Window) *float64
	}{
		{"line-video", func(w report.Window) *float64 { return w.Video }},
		{"line-audio", func(w report.Window) *float64 { return w.Audio }},
		{"line-av", func(w report.Window) *float64 { return w.AV }},
	} {
		type pt struct{ x, y float64 }
		var seg []pt
		flush := func() {
			switch len(seg) {
			case 0:
			case 1:
				fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="3"/>`, m.class, seg[0].x, seg[0].y)
			default:
				pts := make([]string, len(seg))
				for i, p := range seg {
					pts[i] = fmt.Sprintf("%.1f,%.1f", p.x, p.y)
				}
				fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, m.class, strings.Join(pts, " "))
			}
			seg = seg[:0]
		}
		for _, win := range tl {
			v := m.get(win)
			if v == nil {
				flush()
				continue
			}
			seg = append(seg, pt{x((win.Start + win.End) / 2), y(*v)})
		}
		flush()
	}
	fmt.Fprintf(&b, `<rect class="frame" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, left, top, pw, ph)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and fixed strings only
}

func windowDetail(w report.Window) string {
	var parts []string
	for _, m := range []struct {
		name string
		v    *float64
	}{{"video", w.Video}, {"audio", w.Audio}, {"lips/voice", w.AV}} {
		if m.v != nil {
			parts = append(parts, fmt.Sprintf("%s %.2f", m.name, *m.v))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// levelClass buckets a 0–1 manipulation score for colouring.
func levelClass(v float64) string {
	switch {
	case v >= 0.75:
		return "lvl-high"
	case v >= 0.55:
		return "lvl-mid"
	case v >= 0.3:
		return "lvl-low"
	}
	return "lvl-ok"
}

// niceStep picks a tick step giving at most ~10 ticks.
func niceStep(end float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600} {
		if end/s <= 10 {
			return s
		}
	}
	return math.Ceil(end/10/3600) * 3600
}

// clock formats seconds as m:ss (or h:mm:ss).
func clock(t float64) string {
	s := int(math.Round(t))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
