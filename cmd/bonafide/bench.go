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
	// The timed runs go without the memory sampler (reading smaps_rollup
	// costs CPU on the same cores); one more run of each measures memory.
	var decode, analyze, videoOnly []time.Duration
	for i := 0; i < *runs; i++ {
		d, _, err := timeDecode(ctx, af.ffmpeg, path, false)
		if err != nil {
			return err
		}
		decode = append(decode, d)

		began := time.Now()
		if _, err := analysis.Analyze(ctx, path, cfg); err != nil {
			return err
		}
		analyze = append(analyze, time.Since(began))

		if info.HasVideo() && info.HasAudio() {
			vcfg := cfg
			vcfg.VideoOnly = true
			began = time.Now()
			if _, err := analysis.Analyze(ctx, path, vcfg); err != nil {
				return err
			}
			videoOnly = append(videoOnly, time.Since(began))
		}
	}
	_, decodeMem, err := timeDecode(ctx, af.ffmpeg, path, true)
	if err != nil {
		return err
	}
	sampler := startMemSampler(true)
	_, err = analysis.Analyze(ctx, path, cfg)
	analyzeMem := sampler.stop()
	if err != nil {
		return err
	}
	md, ma := median(decode), median(analyze)
	v := "none"
	if info.Video != nil {
		v = fmt.Sprintf("%s %dx%d %.2f fps", info.Video.Codec, info.Video.Width, info.Video.Height, info.Video.FPS)
	}
	fmt.Fprintf(e.stdout, "file:            %s (%.1f s, video %s)\n", filepath.Base(path), info.Duration.Seconds(), v)
	fmt.Fprintf(e.stdout, "runs:            %d (median reported; memory from one more run of each)\n", *runs)
	fmt.Fprintf(e.stdout, "ffmpeg decode:   %.3f s  (peak RSS %.0f MB, PSS %.0f MB)\n", md.Seconds(), mb(decodeMem.rss), mb(decodeMem.pss))
	fmt.Fprintf(e.stdout, "analyze:         %.3f s  (peak with its ffmpeg children: RSS sum %.0f MB, PSS %.0f MB; Go process alone RSS %.0f MB)\n",
		ma.Seconds(), mb(analyzeMem.rss), mb(analyzeMem.pss), mb(analyzeMem.selfRSS))
	fmt.Fprintf(e.stdout, "memory target:   PSS <= 300 MB (RSS sums count each shared library once per ffmpeg process)\n")
	fmt.Fprintf(e.stdout, "ratio:           %.2f x decode-only (target <= 2.0)\n", ma.Seconds()/md.Seconds())
	fmt.Fprintf(e.stdout, "realtime factor: %.1f x (recording length / analyze time)\n", info.Duration.Seconds()/ma.Seconds())
	if len(videoOnly) > 0 {
		mv := median(videoOnly)
		fmt.Fprintf(e.stdout, "picture only:    %.3f s; voice and lip-sync analysis add %+.1f %% (target <= 10 %%)\n",
			mv.Seconds(), 100*(ma.Seconds()-mv.Seconds())/mv.Seconds())
	}
	return nil
}

// timeDecode runs ffmpeg decode-only and returns its wall time and, when
// sample is set, its peak memory (sampled: the rusage of a child started
// from a large process would count the parent's pages it briefly shared
// before exec).
func timeDecode(ctx context.Context, ffmpeg, path string, sample bool) (time.Duration, memory, error) {
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-f", "null", "-")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	var sampler *memSampler
	if sample {
		sampler = startMemSampler(false)
	}
	began := time.Now()
	err := cmd.Run()
	elapsed := time.Since(began)
	var peak memory
	if sample {
		peak = sampler.stop()
	}
	if err != nil {
		return 0, memory{}, fmt.Errorf("ffmpeg decode-only: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return elapsed, peak, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// memory is a peak of resident memory, in bytes: RSS sums count pages
// shared between processes (libraries) once per process; PSS splits them.
type memory struct {
	rss, pss   int64 // all sampled processes together
	selfRSS    int64 // this (Go) process alone
	selfPSS    int64
	sampledAny bool
}

func (m *memory) peak(o memory) {
	m.rss, m.pss = max(m.rss, o.rss), max(m.pss, o.pss)
	m.selfRSS, m.selfPSS = max(m.selfRSS, o.selfRSS), max(m.selfPSS, o.selfPSS)
	m.sampledAny = m.sampledAny || o.sampledAny
}

// memSampler polls the memory of this process's children — and of this
// process too when withSelf — every 250 ms and keeps the peaks.
type memSampler struct {
	withSelf bool
	stopc    chan struct{}
	wg       sync.WaitGroup
	peakMem  memory
}

func startMemSampler(withSelf bool) *memSampler {
	s := &memSampler{withSelf: withSelf, stopc: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// smaps_rollup is costly to read: sample 4 times a second (memory
		// plateaus, so the peak is still caught) to keep the sampler from
		// slowing down what it measures.
		t := time.NewTicker(250 * time.Millisecond)
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

func (s *memSampler) sample() {
	me := os.Getpid()
	var m memory
	if s.withSelf {
		m.selfRSS, m.selfPSS = procMem(me)
		m.rss, m.pss = m.selfRSS, m.selfPSS
	}
	self := comm(me)
	for _, pid := range children(me) {
		// Between fork and exec a child still shows this process's memory.
		if comm(pid) == self {
			continue
		}
		r, p := procMem(pid)
		m.rss += r
		m.pss += p
		m.sampledAny = true
	}
	s.peakMem.peak(m)
}

// stop ends sampling and returns the peaks.
func (s *memSampler) stop() memory {
	close(s.stopc)
	s.wg.Wait()
	return s.peakMem
}

// comm returns a process's command name.
func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// procMem returns a process's RSS and PSS in bytes (0 if gone).
func procMem(pid int) (rss, pss int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "Rss:":
			rss = kb * 1024
		case "Pss:":
			pss = kb * 1024
		}
	}
	return rss, pss
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
