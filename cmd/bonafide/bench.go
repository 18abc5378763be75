package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bonafide-dev/bonafide/analysis"
)

// runBench times `analyze` against an ffmpeg decode-only run of the same
// file, in the same process and run, and prints the ratio and peak memory.
func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("bench", e)
	var af analysisFlags
	af.register(fs)
	runs := fs.Int("runs", 3, "timed runs of each (the median is reported)")
	cpuprofile := fs.String("cpuprofile", "", "write a Go CPU profile of the analyze runs to this file")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: bonafide bench [flags] FILE\n\nTimes analyze against `ffmpeg -i FILE -f null -` on the same file and prints the ratio and peak RSS.")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *runs < 1 {
		fs.Usage()
		return usageErr("exactly one FILE and --runs >= 1 are needed")
	}
	cfg, release, err := af.config(e)
	if err != nil {
		return err
	}
	defer release()
	path := fs.Arg(0)
	info, err := cfg.Tools.Probe(ctx, path)
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var decode, analyze []time.Duration
	var decodeRSS, analyzeRSS, goRSS int64
	for i := 0; i < *runs; i++ {
		d, rss, err := timeDecode(ctx, af.ffmpeg, path)
		if err != nil {
			return err
		}
		decode = append(decode, d)
		decodeRSS = max(decodeRSS, rss)

		sampler := startRSSSampler()
		began := time.Now()
		_, err = analysis.Analyze(ctx, path, cfg)
		elapsed := time.Since(began)
		total, self := sampler.stop()
		if err != nil {
			return err
		}
		analyze = append(analyze, elapsed)
		analyzeRSS, goRSS = max(analyzeRSS, total), max(goRSS, self)
	}
	md, ma := median(decode), median(analyze)
	v := "none"
	if info.Video != nil {
		v = fmt.Sprintf("%s %dx%d %.2f fps", info.Video.Codec, info.Video.Width, info.Video.Height, info.Video.FPS)
	}
	fmt.Fprintf(e.stdout, "file:            %s (%.1f s, video %s)\n", filepath.Base(path), info.Duration.Seconds(), v)
	fmt.Fprintf(e.stdout, "runs:            %d (median reported)\n", *runs)
	fmt.Fprintf(e.stdout, "ffmpeg decode:   %.3f s  (peak RSS %.0f MB)\n", md.Seconds(), mb(decodeRSS))
	fmt.Fprintf(e.stdout, "analyze:         %.3f s  (peak RSS %.0f MB incl. ffmpeg children; Go process %.0f MB)\n", ma.Seconds(), mb(analyzeRSS), mb(goRSS))
	fmt.Fprintf(e.stdout, "ratio:           %.2f x decode-only (target <= 2.0)\n", ma.Seconds()/md.Seconds())
	fmt.Fprintf(e.stdout, "realtime factor: %.1f x (recording length / analyze time)\n", info.Duration.Seconds()/ma.Seconds())
	return nil
}

// timeDecode runs ffmpeg decode-only and returns its wall time and peak RSS.
func timeDecode(ctx context.Context, ffmpeg, path string) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-f", "null", "-")
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("ffmpeg decode-only: %v: %s", err, strings.TrimSpace(string(out)))
	}
	elapsed := time.Since(began)
	return elapsed, rusageMaxRSS(cmd.ProcessState), nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// rssSampler polls the resident memory of this process and its children
// (the ffmpeg decoders) every 20 ms and keeps the peak of their sum.
type rssSampler struct {
	stopc      chan struct{}
	wg         sync.WaitGroup
	peak, self int64
}

func startRSSSampler() *rssSampler {
	s := &rssSampler{stopc: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	me := os.Getpid()
	self := procRSS(me)
	total := self
	for _, pid := range children(me) {
		total += procRSS(pid)
	}
	s.peak, s.self = max(s.peak, total), max(s.self, self)
}

// stop ends sampling and returns the peak total and the peak of this
// process alone, in bytes.
func (s *rssSampler) stop() (int64, int64) {
	close(s.stopc)
	s.wg.Wait()
	return s.peak, s.self
}

// procRSS returns a process's resident set size in bytes (0 if gone).
func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		var out []int
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
		// Children of other threads are listed under their own task.
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			if t.Name() == strconv.Itoa(pid) {
				continue
			}
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					out = append(out, c)
				}
			}
		}
		return out
	}
	return nil
}
