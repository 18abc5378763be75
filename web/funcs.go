package web

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/bonafide-dev/bonafide/live"
	"github.com/bonafide-dev/bonafide/media"
)

// templateFuncs are the helpers templates may call.
var templateFuncs = template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
	// prob prints a model probability without false certainty.
	"prob": func(v float64) string {
		switch {
		case v > 0.99:
			return "over 99%"
		case v < 0.01:
			return "under 1%"
		}
		return fmt.Sprintf("%.0f%%", 100*v)
	},
	"num": formatNum,
	"score": func(v *float64) string {
		if v == nil {
			return "not measured"
		}
		return fmt.Sprintf("%.2f", *v)
	},
	"signed": func(v float64) string { return fmt.Sprintf("%+.1f", v) },
	"when":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04 MST") },
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04:05 MST")
	},
	"secs": func(v float64) string { return fmt.Sprintf("%.1f s", v) },
	// regionOptions are the choices of the region select, the region cur
	// (a stored region, "" for the whole picture) selected.
	"regionOptions": regionOptions,
	// regionName names a stored region ("left") for a sentence ("left half").
	"regionName": func(v string) string {
		if r, err := media.ParseRegion(v); err == nil {
			return r.Phrase()
		}
		return "region " + v
	},
	"clock":   clock,
	"bytes":   func(n int64) string { return humanBytes(n) },
	"vclass":  verdictClass,
	"lvl":     levelClass,
	"title":   func(s string) string { return strings.ToUpper(s[:min(1, len(s))]) + s[min(1, len(s)):] },
	"authstr": authString,
	"tally":   live.TallyText,
	"list":    func(v ...string) []string { return v },
	"deref": func(v *float64) float64 {
		if v == nil {
			return 0
		}
		return *v
	},
	"query": func(base url.Values, key, value string) template.URL {
		q := url.Values{}
		for k, v := range base {
			q[k] = append([]string(nil), v...)
		}
		if value == "" {
			q.Del(key)
		} else {
			q.Set(key, value)
		}
		return template.URL("?" + q.Encode()) //nolint:gosec // url.Values.Encode escapes
	},
}

func authString(a *int) string {
	if a == nil {
		return "n/a"
	}
	return fmt.Sprintf("%d", *a)
}

// formatNum prints a measured value with sensible precision.
func formatNum(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case a == 0:
		return "0"
	case a >= 1000 || (a >= 1 && v == math.Trunc(v)):
		return fmt.Sprintf("%.0f", v) // counts print as counts: 168, not 168.0
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 0.01:
		return fmt.Sprintf("%.3g", v)
	}
	return fmt.Sprintf("%.2e", v)
}

func itoa(n int) string { return fmt.Sprintf("%d", n) }

// regionOption is one choice of the region select.
type regionOption struct {
	Value, Label string
	Selected     bool
}

// regionOptions lists the whole picture and the named regions, with cur
// selected; a region given as fractions is listed first when it is cur.
func regionOptions(cur string) []regionOption {
	r, err := media.ParseRegion(cur)
	if err != nil {
		r = media.Region{}
	}
	cur = r.String()
	out := []regionOption{{Value: "whole", Label: "The whole picture (speaker view, or the candidate alone)", Selected: cur == "whole"}}
	found := cur == "whole"
	for _, n := range media.RegionNames() {
		nr, _ := media.ParseRegion(n)
		label := nr.Phrase()
		label = strings.ToUpper(label[:1]) + label[1:]
		out = append(out, regionOption{Value: n, Label: label, Selected: cur == n})
		found = found || cur == n
	}
	if !found {
		out = append([]regionOption{{Value: cur, Label: "The region " + cur + " (x,y,w,h)", Selected: true}}, out...)
	}
	return out
}
