package web

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/report"
	"github.com/bonafide-dev/bonafide/store"
)

// heavyReport is a report larger than today's real ones: 36 signals with
// 6 values each and a 60-window timeline (a 10-minute interview).
func heavyReport(r *rand.Rand) []byte {
	rep := richReport()
	lo, hi := 0.1, 0.9
	mods := []*report.Modality{&rep.Video, &rep.Audio, &rep.AV}
	for mi, m := range mods {
		m.Signals = nil
		for i := range 12 {
			sig := report.Signal{Name: fmt.Sprintf("%s.signal%02d", []string{"video", "audio", "av"}[mi], i), Measured: true,
				Score: r.Float64(), Confidence: r.Float64(), Contribution: -10 * r.Float64(),
				Explanation: "A sentence that explains what was measured and what it means for the recruiter reading it."}
			for j := range 6 {
				sig.Values = append(sig.Values, detectors.Measurement{Name: fmt.Sprintf("value_%d", j), Value: r.Float64(), Unit: "dB", NormalLow: &lo, NormalHigh: &hi})
			}
			m.Signals = append(m.Signals, sig)
		}
	}
	rep.Timeline = nil
	for w := range 60 {
		rep.Timeline = append(rep.Timeline, report.Window{Start: float64(10 * w), End: float64(10*w + 10),
			Video: f64(r.Float64()), Audio: f64(r.Float64()), AV: f64(r.Float64()), Overall: f64(r.Float64())})
	}
	rep.Coverage.DurationSeconds = 600
	b, err := json.Marshal(rep)
	if err != nil {
		panic(err) // a test fixture built from fixed types
	}
	return b
}

// BenchmarkPages stores 1,000 interviews with reports and measures the
// latency of the list page and the report page over real HTTP with a
// logged-in session. It prints p50 and p99 per page.
//
//	go test ./web -run '^$' -bench BenchmarkPages -benchtime 500x
func BenchmarkPages(b *testing.B) {
	ta := startApp(b, func(c *Config) { c.Analyzer = &fakeAnalyzer{} })
	ctx := b.Context()
	r := rand.New(rand.NewPCG(1, 2))
	verdicts := []string{"genuine", "inconclusive", "suspicious", "manipulated"}
	ids := make([]string, 0, 1000)
	began := time.Now().Add(-1000 * time.Minute)
	for i := range 1000 {
		id := store.NewID()
		ids = append(ids, id)
		require.NoError(b, ta.st.CreateInterview(ctx, store.Interview{ID: id, OwnerID: ta.rec.ID,
			Candidate: fmt.Sprintf("Candidate %04d", i), Title: "Backend engineer", MediaFile: "media/" + id + ".mp4",
			OriginalName: fmt.Sprintf("call-%04d.mp4", i), SizeBytes: 50 << 20, Duration: 600, Status: store.StatusQueued,
			CreatedAt: began.Add(time.Duration(i) * time.Minute)}))
		require.NoError(b, ta.st.StartAttempt(ctx, id, 1, time.Now()))
		a := r.IntN(101)
		require.NoError(b, ta.st.Finish(ctx, id, store.Outcome{Report: heavyReport(r), Verdict: verdicts[r.IntN(4)], Authenticity: &a}, time.Now()))
	}
	c, _ := ta.login(b, "recruiter@example.com")
	pages := []struct {
		name string
		url  func() string
	}{
		{"list", func() string { return "/interviews" }},
		{"list-filtered-page", func() string {
			return fmt.Sprintf("/interviews?verdict=suspicious&q=candidate&offset=%d", 25*r.IntN(8))
		}},
		{"report", func() string { return "/interviews/" + ids[r.IntN(len(ids))] }},
	}
	lat := make(map[string][]time.Duration)
	fetch := func(name, url string) {
		t0 := time.Now()
		resp, err := c.Get(ta.base + url)
		require.NoError(b, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(b, err)
		resp.Body.Close()
		lat[name] = append(lat[name], time.Since(t0))
		require.Equal(b, http.StatusOK, resp.StatusCode, url)
	}
	for _, p := range pages { // warm up
		fetch(p.name, p.url())
	}
	clear(lat)
	b.ResetTimer()
	for b.Loop() {
		for _, p := range pages {
			fetch(p.name, p.url())
		}
	}
	b.StopTimer()
	for _, p := range pages {
		d := lat[p.name]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		p50, p99 := d[len(d)/2], d[min(len(d)-1, len(d)*99/100)]
		b.ReportMetric(float64(p50.Microseconds())/1000, p.name+"-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, p.name+"-p99-ms")
		fmt.Printf("%-20s n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms\n", p.name, len(d),
			float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000, float64(d[len(d)-1].Microseconds())/1000)
	}
}
