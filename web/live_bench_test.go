package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/internal/whiptest"
	"github.com/bonafide-dev/bonafide/live"
)

// BenchmarkLiveSessions publishes N concurrent 720p30 VP8 + Opus calls over
// loopback to a real server (WHIP over HTTP, pion on both ends, the live
// defaults of DefaultLiveConfig) and reports, per N: analysis lag, time to
// the first live score, what the live path dropped, and CPU. Run it alone:
//
//	go test ./web -run '^$' -bench BenchmarkLiveSessions -benchtime 1x -timeout 30m
//
// Environment: BONAFIDE_BENCH_SESSIONS (default "1,2,4,8"),
// BONAFIDE_BENCH_SECONDS (publishing time per run, default 40),
// BONAFIDE_BENCH_FPS and BONAFIDE_BENCH_SEGMENT (override the live
// defaults, to explore), BONAFIDE_BENCH_STAGGER (e.g. "1s" between the
// publishers' starts; default: all at once), BONAFIDE_BENCH_FIXTURES (keep
// the 720p fixture).
// The publishers run in the same process: their CPU (SRTP, pacing) is
// included in the figures.
func BenchmarkLiveSessions(b *testing.B) {
	counts := []int{1, 2, 4, 8}
	if v := os.Getenv("BONAFIDE_BENCH_SESSIONS"); v != "" {
		counts = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(b, err)
			counts = append(counts, n)
		}
	}
	seconds := 40.0
	if v := os.Getenv("BONAFIDE_BENCH_SECONDS"); v != "" {
		var err error
		seconds, err = strconv.ParseFloat(v, 64)
		require.NoError(b, err)
	}
	mod := func(c *Config) {
		if v := os.Getenv("BONAFIDE_BENCH_FPS"); v != "" {
			fps, err := strconv.ParseFloat(v, 64)
			require.NoError(b, err)
			c.Live.FPS = fps
		}
		if v := os.Getenv("BONAFIDE_BENCH_FULL_BAND"); v != "" {
			on, err := strconv.ParseBool(v)
			require.NoError(b, err)
			c.Live.FullBand = on
		}
		if v := os.Getenv("BONAFIDE_BENCH_SEGMENT"); v != "" {
			d, err := time.ParseDuration(v)
			require.NoError(b, err)
			c.Live.Segment = d
		}
	}
	ivf, ogg := fixture720p(b, seconds)
	var rows []liveLoad
	for _, n := range counts {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			for range b.N {
				r := runLiveLoad(b, ivf, ogg, n, time.Duration(seconds*float64(time.Second)), mod)
				rows = append(rows, r)
				b.ReportMetric(r.FrameLagMax, "lag-max-s")
				b.ReportMetric(r.ScoreLagP95, "score-lag-p95-s")
				b.ReportMetric(r.SteadyLagP95, "steady-score-lag-p95-s")
				b.ReportMetric(r.FirstScoreMax, "first-score-max-s")
				b.ReportMetric(r.DroppedPct, "video-dropped-%")
				b.ReportMetric(r.CPUCores, "cpu-cores")
			}
		})
	}
	b.Logf("\n%s", liveLoadTable(rows))
}

// fixture720p makes a 720p30 VP8 IVF (a genuine FF++ c40 face, looped,
// ~2 Mbit/s like a browser) and an Opus Ogg with speech (another corpus
// item's soundtrack, looped), both seconds long. The test publisher sends
// a file and cannot answer a PLI with a keyframe as a browser or OBS does
// within a few hundred milliseconds; a keyframe every second stands in for
// that. BONAFIDE_BENCH_FIXTURES=DIR keeps the files there for later runs.
func fixture720p(b testing.TB, seconds float64) (ivf, ogg string) {
	b.Helper()
	dir := os.Getenv("BONAFIDE_BENCH_FIXTURES")
	if dir == "" {
		dir = b.TempDir()
	}
	dur := strconv.FormatFloat(seconds, 'f', 0, 64)
	ivf, ogg = filepath.Join(dir, "face-720p30-"+dur+"s.ivf"), filepath.Join(dir, "speech-"+dur+"s.ogg")
	if _, err := os.Stat(ivf); err != nil {
		face := testutil.CorpusItem(b, "video", "genuine", "c40/videos/585.mp4")
		testutil.FFmpeg(b, "-stream_loop", "-1", "-i", face, "-t", dur, "-an",
			"-vf", "scale=1280:720,fps=30", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
			"-b:v", "2M", "-maxrate", "2.5M", "-bufsize", "2M", "-g", "30", "-threads", "2", ivf)
	}
	if _, err := os.Stat(ogg); err != nil {
		voice := testutil.CorpusItem(b, "video", "genuine", "WDA_AlexandriaOcasioCortez")
		testutil.FFmpeg(b, "-stream_loop", "-1", "-i", voice, "-t", dur, "-vn", "-ac", "2", "-ar", "48000",
			"-c:a", "libopus", "-b:a", "48k", "-page_duration", "20000", ogg)
	}
	return ivf, ogg
}

// liveLoad is one benchmark run's figures.
type liveLoad struct {
	Sessions        int
	Seconds         float64
	FPS             float64
	Segment         time.Duration
	Stagger         time.Duration // between the publishers' starts (0: all at once)
	FrameLagMax     float64       // largest lag of a frame's analysis behind the media, over sessions
	ScoreLagP95     float64       // segment end → its score sent, 95th percentile over all scores
	ScoreLagMax     float64
	SteadyLagP95    float64 // the same without each session's first segment
	SteadyLagMax    float64
	FirstScoreMax   float64 // media start → first live score, worst session
	FirstScoreMed   float64
	Scores          int
	FramesAnalyzed  int
	VideoFrames     int64 // received (recorded)
	VideoDropped    int64 // not analysed live
	DroppedPct      float64
	AudioDropped    int64
	CPUCores        float64 // process + its ffmpeg children, CPU seconds per wall second
	Load1Start      float64
	Load1End        float64
	RSSMB           float64 // resident memory of the process and its children at the end of the calls
	EndedWithReport int
}

// runLiveLoad starts a server, publishes n calls for d, hangs them up and
// returns the figures. Offline analysis of the recordings is replaced by
// a stub: the figures are the live path's.
func runLiveLoad(b *testing.B, ivf, ogg string, n int, d time.Duration, mod func(*Config)) liveLoad {
	b.Helper()
	var stagger time.Duration
	if v := os.Getenv("BONAFIDE_BENCH_STAGGER"); v != "" {
		var err error
		stagger, err = time.ParseDuration(v)
		require.NoError(b, err)
	}
	var cfg Config
	la := startLiveApp(b, "", true, func(c *Config) {
		c.Analyzer = &fakeAnalyzer{}
		c.Live.MaxSessions = max(c.Live.MaxSessions, n)
		c.Live.MaxWaiting = max(c.Live.MaxWaiting, n)
		mod(c)
		cfg = *c
	})
	defer la.stop()
	res := liveLoad{Sessions: n, Seconds: d.Seconds(), FPS: cfg.Live.FPS, Segment: cfg.Live.Segment, Stagger: stagger}
	sessions := make([]liveSessionJSON, n)
	var mu sync.Mutex
	var lags, steady []float64
	var readers sync.WaitGroup
	subs := make([]*sseClient, n)
	for i := range n {
		sessions[i] = la.createSession(b, la.recTok, fmt.Sprintf("bench %d", i))
		subs[i] = la.subscribe(b, "/api/v1/sessions/"+sessions[i].ID+"/events", la.recTok)
		readers.Add(1)
		go func(c *sseClient) {
			defer readers.Done()
			for ev := range c.Events {
				if ev.Event != sseScore {
					continue
				}
				var e live.Event
				if json.Unmarshal([]byte(ev.Data), &e) == nil {
					mu.Lock()
					lags = append(lags, e.LagSeconds)
					if e.Start > 0 { // not the first segment, whose start-up it also pays
						steady = append(steady, e.LagSeconds)
					}
					mu.Unlock()
				}
			}
		}(subs[i])
	}
	res.Load1Start = loadAverage()
	cpu0, wall0 := cpuSeconds(), time.Now()
	pubs := make([]*whiptest.Publisher, n)
	locs := make([]string, n)
	errs := make([]error, n)
	var starting sync.WaitGroup
	for i := range n {
		starting.Add(1)
		go func(i int) {
			defer starting.Done()
			time.Sleep(time.Duration(i) * stagger)
			pubs[i], errs[i] = whiptest.Publish(b.Context(), la.whipAnswerer(sessions[i].WHIPURL, sessions[i].Token, &locs[i]), ivf, ogg, true)
		}(i)
	}
	starting.Wait()
	for i := range n {
		require.NoError(b, errs[i])
	}
	time.Sleep(d)
	res.CPUCores = (cpuSeconds() - cpu0) / time.Since(wall0).Seconds()
	res.Load1End = loadAverage()
	res.RSSMB = rssMB()

	for i := range n {
		code, _, body := la.req(b, http.MethodDelete, locs[i], sessions[i].Token, "", "")
		require.Equal(b, http.StatusOK, code, body)
	}
	var firsts []float64
	for i := range n {
		s := la.waitEnded(b, sessions[i].ID, time.Minute)
		require.NoError(b, pubs[i].Close())
		if s.InterviewID != "" {
			res.EndedWithReport++
		}
		var st liveStats
		require.NoError(b, json.Unmarshal(s.Stats, &st))
		res.FrameLagMax = max(res.FrameLagMax, st.MaxLagSeconds)
		res.Scores += st.Segments
		res.FramesAnalyzed += st.FramesAnalyzed
		if st.FirstScoreAt > 0 {
			firsts = append(firsts, st.FirstScoreAt)
		} else {
			firsts = append(firsts, d.Seconds()) // never scored: count the whole run
		}
		for _, tr := range st.Tracks {
			if tr.Kind == "video" {
				res.VideoFrames += tr.Frames
				res.VideoDropped += tr.Dropped
			} else {
				res.AudioDropped += tr.Dropped
			}
		}
	}
	for _, c := range subs {
		c.Close()
	}
	readers.Wait()
	if res.VideoFrames > 0 {
		res.DroppedPct = 100 * float64(res.VideoDropped) / float64(res.VideoFrames)
	}
	sort.Float64s(firsts)
	res.FirstScoreMax, res.FirstScoreMed = firsts[len(firsts)-1], firsts[len(firsts)/2]
	res.ScoreLagP95, res.ScoreLagMax = p95max(lags)
	res.SteadyLagP95, res.SteadyLagMax = p95max(steady)
	return res
}

// p95max returns the 95th percentile (nearest rank) and the maximum.
func p95max(v []float64) (float64, float64) {
	if len(v) == 0 {
		return 0, 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[max(0, int(math.Ceil(0.95*float64(len(s))))-1)], s[len(s)-1]
}

func liveLoadTable(rows []liveLoad) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "| sessions (start stagger) | live fps / segment | frame lag max | score lag p95 / max (scores) | after the first segment p95 / max | first score median / max | video frames dropped live | audio packets dropped | CPU (cores of 2) | RSS | load avg 1 min start → end |\n")
	fmt.Fprintf(&sb, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&sb, "| %d (%v) | %.0f fps / %.0f s | %.2f s | %.2f / %.2f s (%d) | %.2f / %.2f s | %.1f / %.1f s | %d of %d (%.1f %%) | %d | %.2f | %.0f MB | %.2f → %.2f |\n",
			r.Sessions, r.Stagger, r.FPS, r.Segment.Seconds(), r.FrameLagMax, r.ScoreLagP95, r.ScoreLagMax, r.Scores, r.SteadyLagP95, r.SteadyLagMax,
			r.FirstScoreMed, r.FirstScoreMax, r.VideoDropped, r.VideoFrames, r.DroppedPct, r.AudioDropped, r.CPUCores, r.RSSMB, r.Load1Start, r.Load1End)
	}
	return sb.String()
}

// cpuSeconds is the CPU time (user + system) of this process and of its
// running children (the ffmpeg decoders).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	total := 0.0
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	for _, pid := range testutil.ChildProcesses() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			total += (u + st) / 100 // clock ticks (USER_HZ = 100 on Linux)
		}
	}
	return total
}

// rssMB is the resident memory of this process and its children, in MiB.
func rssMB() float64 {
	total := 0.0
	for _, pid := range append([]int{os.Getpid()}, testutil.ChildProcesses()...) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					total += kb / 1024
				}
			}
		}
	}
	return total
}

// loadAverage is the 1-minute load average of the machine.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
