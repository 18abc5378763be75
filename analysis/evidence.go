package analysis

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/cmplx"
	"os"
	"path/filepath"
	"sort"
	"time"

	"gocv.io/x/gocv"
	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/report"
)

// MaxFaceEvidence is how many face crops WriteEvidence writes at most.
const MaxFaceEvidence = 3

// WriteEvidence writes JPEG face crops of the most suspicious moments and a
// PNG spectrogram of the most suspicious audio window into dir (created if
// needed), and lists them in rep.Evidence. It decodes only the few seconds
// it needs. Files it wrote are removed again if it fails.
func WriteEvidence(ctx context.Context, rep *report.Report, path, dir string, cfg Config) (err error) {
	cfg.defaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("evidence folder: %w", err)
	}
	info, err := cfg.Tools.Probe(ctx, path)
	if err != nil {
		return err
	}
	var written []report.Evidence
	defer func() {
		if err != nil {
			for _, e := range written {
				_ = os.Remove(filepath.Join(dir, e.File))
			}
			return
		}
		rep.Evidence = append(rep.Evidence, written...)
	}()
	if info.HasVideo() {
		faces, err := writeFaceEvidence(ctx, rep, info, dir, cfg)
		written = append(written, faces...)
		if err != nil {
			return err
		}
	}
	if info.HasAudio() {
		spec, err := writeSpectrogram(ctx, rep, info, dir, cfg)
		if err != nil {
			return err
		}
		if spec != nil {
			written = append(written, *spec)
		}
	}
	return nil
}

type moment struct {
	start, end, score float64
}

// suspiciousWindows returns timeline windows ordered by pick(w), highest
// first, skipping windows where pick returns false.
func suspiciousWindows(rep *report.Report, pick func(report.Window) (float64, bool)) []moment {
	var out []moment
	for _, w := range rep.Timeline {
		if s, ok := pick(w); ok {
			out = append(out, moment{w.Start, w.End, s})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

func writeFaceEvidence(ctx context.Context, rep *report.Report, info *media.Info, dir string, cfg Config) ([]report.Evidence, error) {
	moments := suspiciousWindows(rep, func(w report.Window) (float64, bool) {
		if w.FaceSeconds <= 0 {
			return 0, false
		}
		if w.Video != nil {
			return *w.Video, true
		}
		if w.Overall != nil {
			return *w.Overall, true
		}
		return 0, true
	})
	if len(moments) > MaxFaceEvidence {
		moments = moments[:MaxFaceEvidence]
	}
	if len(moments) == 0 {
		return nil, nil
	}
	tracker, err := detectors.NewFaceTracker(cfg.FaceModels)
	if err != nil {
		return nil, err
	}
	defer tracker.Close()
	var out []report.Evidence
	for i, m := range moments {
		ev, err := faceCrop(ctx, tracker, info, cfg, m, filepath.Join(dir, fmt.Sprintf("face-%d.jpg", i+1)))
		if err != nil {
			return out, err
		}
		if ev != nil {
			out = append(out, *ev)
		}
	}
	return out, nil
}

// faceCrop decodes the frames of moment m, picks the one with the largest
// face nearest the window's middle and writes the face with a margin.
func faceCrop(ctx context.Context, tracker *detectors.FaceTracker, info *media.Info, cfg Config, m moment, file string) (*report.Evidence, error) {
	opts := cfg.Video
	opts.Start = secondsDur(m.start)
	opts.Duration = secondsDur(m.end - m.start)
	opts.FPS = 2
	vr, err := cfg.Tools.OpenVideo(ctx, info, opts)
	if err != nil {
		return nil, err
	}
	defer vr.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	best := gocv.NewMat()
	defer best.Close()
	var bestRect image.Rectangle
	bestT, bestDist := 0.0, math.Inf(1)
	mid := (m.start + m.end) / 2
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			break // a partial window still gives evidence
		}
		gocv.CvtColor(f.Image, &gray, gocv.ColorBGRToGray)
		rects := tracker.Detect(gray)
		if len(rects) == 0 {
			continue
		}
		t := f.PTS.Seconds()
		if d := math.Abs(t - mid); d < bestDist {
			bestDist, bestT, bestRect = d, t, rects[0]
			f.Image.CopyTo(&best)
		}
	}
	if best.Empty() {
		return nil, nil
	}
	crop := best.Region(detectors.Grow(bestRect, 0.3, image.Rect(0, 0, best.Cols(), best.Rows())))
	defer crop.Close()
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, crop, []int{gocv.IMWriteJpegQuality, 90})
	if err != nil {
		return nil, fmt.Errorf("encode face crop: %w", err)
	}
	defer buf.Close()
	if err := os.WriteFile(file, buf.GetBytes(), 0o644); err != nil {
		return nil, err
	}
	return &report.Evidence{
		Kind:  "face",
		File:  filepath.Base(file),
		Start: round(bestT, 2),
		End:   round(bestT, 2),
		Score: round(m.score, 3),
		Note:  fmt.Sprintf("face at %.1f s, in the window %.0f–%.0f s scored %.2f", bestT, m.start, m.end, m.score),
	}, nil
}

// Spectrogram geometry.
const (
	specFFT    = 1024
	specHop    = 256
	specHeight = 256
	specDB     = 90.0 // dynamic range shown
)

func writeSpectrogram(ctx context.Context, rep *report.Report, info *media.Info, dir string, cfg Config) (*report.Evidence, error) {
	moments := suspiciousWindows(rep, func(w report.Window) (float64, bool) {
		if w.SpeechSeconds <= 0 {
			return 0, false
		}
		switch {
		case w.Audio != nil && w.AV != nil:
			return math.Max(*w.Audio, *w.AV), true
		case w.Audio != nil:
			return *w.Audio, true
		case w.AV != nil:
			return *w.AV, true
		}
		return w.SpeechSeconds / 100, true // no score: the window with most speech
	})
	if len(moments) == 0 {
		return nil, nil
	}
	m := moments[0]
	rate := info.Audio.SampleRate
	if rate > 48000 {
		rate = 48000
	}
	ar, err := cfg.Tools.OpenAudio(ctx, info, media.AudioOptions{SampleRate: rate, Start: secondsDur(m.start), Duration: secondsDur(m.end - m.start)})
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	var samples []float64
	for {
		c, err := ar.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			break
		}
		for _, s := range c.Samples {
			samples = append(samples, float64(s))
		}
	}
	if len(samples) < specFFT {
		return nil, nil
	}
	img := spectrogram(samples)
	file := filepath.Join(dir, "spectrogram.png")
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return nil, fmt.Errorf("encode spectrogram: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &report.Evidence{
		Kind:  "spectrogram",
		File:  filepath.Base(file),
		Start: m.start,
		End:   m.end,
		Score: round(m.score, 3),
		Note:  fmt.Sprintf("sound from %.0f to %.0f s; frequency 0–%.0f kHz from bottom to top, %d dB range", m.start, m.end, float64(rate)/2000, int(specDB)),
	}, nil
}

// spectrogram renders a log-magnitude STFT (Hann window) of samples, low
// frequencies at the bottom.
func spectrogram(samples []float64) *image.RGBA {
	fft := fourier.NewFFT(specFFT)
	win := make([]float64, specFFT)
	for i := range win {
		win[i] = 1
	}
	window.Hann(win)
	cols := (len(samples)-specFFT)/specHop + 1
	bins := specFFT / 2
	db := make([][]float64, cols)
	frame := make([]float64, specFFT)
	coeffs := make([]complex128, bins+1)
	peak := -math.MaxFloat64
	for c := 0; c < cols; c++ {
		for i := range frame {
			frame[i] = samples[c*specHop+i] * win[i]
		}
		fft.Coefficients(coeffs, frame)
		db[c] = make([]float64, bins)
		for b := 0; b < bins; b++ {
			v := 20 * math.Log10(cmplx.Abs(coeffs[b])+1e-9)
			db[c][b] = v
			peak = math.Max(peak, v)
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, cols, specHeight))
	for c := 0; c < cols; c++ {
		for y := 0; y < specHeight; y++ {
			// Row y shows the bins that map to it (max over them).
			lo := (specHeight - 1 - y) * bins / specHeight
			hi := (specHeight - y) * bins / specHeight
			v := -math.MaxFloat64
			for b := lo; b < hi && b < bins; b++ {
				v = math.Max(v, db[c][b])
			}
			img.Set(c, y, heat((v-peak+specDB)/specDB))
		}
	}
	return img
}

// heat maps 0..1 to a dark-blue → red → yellow → white colour scale.
func heat(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	stops := []struct {
		at      float64
		r, g, b float64
	}{{0, 0, 0, 16}, {0.35, 80, 18, 123}, {0.6, 200, 40, 70}, {0.8, 250, 150, 30}, {1, 255, 255, 220}}
	for i := 1; i < len(stops); i++ {
		if v <= stops[i].at {
			a, b := stops[i-1], stops[i]
			t := (v - a.at) / (b.at - a.at)
			return color.RGBA{uint8(a.r + t*(b.r-a.r)), uint8(a.g + t*(b.g-a.g)), uint8(a.b + t*(b.b-a.b)), 255}
		}
	}
	return color.RGBA{255, 255, 220, 255}
}

func secondsDur(s float64) time.Duration {
	return time.Duration(math.Max(0, s) * float64(time.Second))
}
