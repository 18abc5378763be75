package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/report"
)

// The test binary doubles as the bonafide binary: with BONAFIDE_TEST_MAIN
// set it runs main with the arguments after "--". Tests run it as a child
// process to see real exit codes and peak memory.
func TestMain(m *testing.M) {
	if os.Getenv("BONAFIDE_TEST_MAIN") == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Exit(run(context.Background(), os.Args[i+1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
			}
		}
		os.Exit(exitUsage)
	}
	code := m.Run()
	if kids := testutil.ChildProcesses(); len(kids) > 0 {
		println("leaked child processes:", len(kids))
		code = 1
	}
	os.Exit(code)
}

type cliResult struct {
	stdout, stderr string
	code           int
	maxRSS         int64 // bytes, of the bonafide process itself
}

func cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "BONAFIDE_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	return cliResult{stdout.String(), stderr.String(), code, rss}
}

func analyzeJSON(t *testing.T, path string) *report.Report {
	t.Helper()
	res := cli(t, "analyze", "--json", path)
	require.Equal(t, exitOK, res.code, "stderr: %s", res.stderr)
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep), res.stdout)
	require.Equal(t, report.Schema, rep.Schema)
	return &rep
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"no file", []string{"analyze"}, exitUsage},
		{"two files", []string{"analyze", "a", "b"}, exitUsage},
		{"unknown flag", []string{"analyze", "--nope", "a"}, exitUsage},
		{"bad fps", []string{"analyze", "--fps", "0", "a.mp4"}, exitUsage},
		{"bad region", []string{"analyze", "--region", "middle", "a.mp4"}, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := cli(t, tc.args...)
			require.Equal(t, tc.code, res.code, res.stderr)
			require.NotEmpty(t, res.stderr)
		})
	}
	res := cli(t, "help")
	require.Equal(t, exitOK, res.code)
	require.Contains(t, res.stdout, "analyze")

	// A region too small a part of this video is the caller's choice, not
	// a fault of the file.
	small := filepath.Join(t.TempDir(), "small.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "color=gray:s=120x120:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", small)
	res = cli(t, "analyze", "--region", "top-left", small)
	require.Equal(t, exitUsage, res.code, res.stderr)
	require.Contains(t, res.stderr, "60×60 pixels of this 120×120 video")
}

// Input that cannot be analysed: a clear message on stderr and exit code 2,
// nothing on stdout.
func TestUnusableInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.mp4")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	text := filepath.Join(dir, "resume.mp4")
	require.NoError(t, os.WriteFile(text, []byte(strings.Repeat("I am a video, honest.\n", 200)), 0o644))
	random := filepath.Join(dir, "noise.mkv")
	noise := make([]byte, 64*1024)
	for i := range noise {
		noise[i] = byte(i*7919 + i/13)
	}
	require.NoError(t, os.WriteFile(random, noise, 0o644))
	// An MP4 whose index (moov, at the end) is cut off.
	whole := filepath.Join(dir, "whole.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3", "-c:v", "libx264", "-preset", "ultrafast", whole)
	b, err := os.ReadFile(whole)
	require.NoError(t, err)
	truncated := filepath.Join(dir, "truncated.mp4")
	require.NoError(t, os.WriteFile(truncated, b[:len(b)/2], 0o644))

	// A whole MP4 whose every frame is garbage: its media data box
	// overwritten with the noise, its index intact.
	at := bytes.Index(b, []byte("mdat"))
	require.Greater(t, at, 4)
	end := at - 4 + int(binary.BigEndian.Uint32(b[at-4:at]))
	require.Less(t, end, len(b))
	garbled := filepath.Join(dir, "garbled.mp4")
	g := bytes.Clone(b)
	for i := at + 4; i < end; i++ {
		g[i] = noise[i%len(noise)]
	}
	require.NoError(t, os.WriteFile(garbled, g, 0o644))

	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.mp4"), "file not found"},
		{"nothing decoded", garbled, "no video frame and no audio sample could be decoded"},
		{"directory", dir, "directory"},
		{"zero bytes", empty, "empty"},
		{"text file", text, "not a media file"},
		{"random bytes", random, "not a media file"},
		{"truncated index", truncated, "not a media file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := cli(t, "analyze", tc.path)
			require.Equal(t, exitUnusable, res.code, "stderr: %s stdout: %s", res.stderr, res.stdout)
			require.Contains(t, res.stderr, tc.want)
			require.Equal(t, 1, strings.Count(res.stderr, "unusable input"), "said once: %s", res.stderr)
			require.Empty(t, res.stdout)
		})
	}
}

// Input that can be analysed only in part: a report that names what could
// not be measured, and never a confident verdict from missing data.
func TestPartialInput(t *testing.T) {
	dir := t.TempDir()
	face := testutil.CorpusItem(t, "video", "genuine", "519.mp4")
	speech := testutil.CorpusItem(t, "audio", "genuine", "1034-121119-0000.flac")

	// A truncated file whose index is at the front: the first half decodes.
	faststart := filepath.Join(dir, "faststart.mp4")
	testutil.FFmpeg(t, "-i", face, "-t", "8", "-c", "copy", "-movflags", "+faststart", faststart)
	b, err := os.ReadFile(faststart)
	require.NoError(t, err)
	cut := filepath.Join(dir, "cut.mp4")
	require.NoError(t, os.WriteFile(cut, b[:len(b)/2], 0o644))

	noFace := filepath.Join(dir, "noface.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
		"-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", noFace)
	silence := filepath.Join(dir, "silence.wav")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "5", silence)
	audioOnly := filepath.Join(dir, "speech.m4a")
	testutil.FFmpeg(t, "-i", speech, "-c:a", "aac", audioOnly)
	videoOnly := filepath.Join(dir, "face.mkv")
	testutil.FFmpeg(t, "-i", face, "-t", "6", "-an", "-c", "copy", videoOnly)
	// Sound for the first 3 s of a 12-s video: a stream that ends early is
	// not damage.
	shortSound := filepath.Join(dir, "short-sound.mp4")
	testutil.FFmpeg(t, "-i", face, "-i", speech, "-map", "0:v", "-map", "1:a", "-t", "12", "-c:v", "copy", "-c:a", "aac", "-af", "atrim=0:3", shortSound)
	// One picture of a face and 8 s of speech (the camera was off, or a
	// recorder kept a still on screen): the video stream lasts as long
	// as the sound but holds a single frame.
	picture, still := filepath.Join(dir, "picture.mkv"), filepath.Join(dir, "still.mkv")
	testutil.FFmpeg(t, "-i", face, "-frames:v", "1", "-an", "-c:v", "libx264", "-preset", "ultrafast", picture)
	testutil.FFmpeg(t, "-i", picture, "-i", speech, "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", still)
	huge := filepath.Join(dir, "8k.mp4")
	testutil.FFmpeg(t, "-i", face, "-t", "1", "-vf", "scale=7680:4320,fps=5", "-c:v", "libx264", "-preset", "ultrafast", huge)

	for _, tc := range []struct {
		name    string
		path    string
		check   func(t *testing.T, rep *report.Report)
		verdict string // "" = any
	}{
		{"truncated with index at the front", cut, func(t *testing.T, rep *report.Report) {
			require.Greater(t, rep.Analysis.FramesAnalyzed, 0)
			require.NotEmpty(t, rep.Analysis.Notes, "a damaged file is reported")
			require.NotNil(t, rep.Authenticity, "what was decoded is scored")
			require.Regexp(t, `only [0-9.]+ s of the 8\.[0-9] s of (video|sound).* could be decoded \(a truncated or damaged file\?\), so the rest was not seen`, rep.VerdictReason)
			require.Contains(t, rep.Summary, "the rest was not seen")
		}, "inconclusive"},
		{"no face anywhere", noFace, func(t *testing.T, rep *report.Report) {
			require.Zero(t, rep.Coverage.FaceSeconds)
			require.Nil(t, rep.Authenticity, "no number without a face or a voice")
			require.NotEmpty(t, rep.VerdictReason)
			requireNotMeasured(t, rep, "face.presence", "no face")
		}, "inconclusive"},
		{"silence only", silence, func(t *testing.T, rep *report.Report) {
			require.Zero(t, rep.Coverage.SpeechSeconds)
			require.Contains(t, rep.Video.Reason, "no video stream")
			requireNotMeasured(t, rep, "voice.presence", "no speech")
			requireNotMeasured(t, rep, "video", "no video stream")
		}, "inconclusive"},
		{"audio only", audioOnly, func(t *testing.T, rep *report.Report) {
			require.Nil(t, rep.Video.Score)
			require.Contains(t, rep.Video.Reason, "no video stream")
			require.Greater(t, rep.Coverage.SpeechSeconds, 3.0)
			require.Nil(t, rep.Analysis.Video)
		}, ""},
		{"video only", videoOnly, func(t *testing.T, rep *report.Report) {
			require.Nil(t, rep.Audio.Score)
			require.Contains(t, rep.Audio.Reason, "no audio stream")
			require.Greater(t, rep.Coverage.FaceSeconds, 4.0)
		}, ""},
		{"sound that ends early", shortSound, func(t *testing.T, rep *report.Report) {
			require.NotNil(t, rep.Authenticity)
			require.NotContains(t, rep.VerdictReason, "could be decoded", "a shorter stream is not a damaged one")
			for _, n := range rep.Analysis.Notes {
				require.NotContains(t, n, "could be decoded")
			}
		}, ""},
		{"a still picture with sound", still, func(t *testing.T, rep *report.Report) {
			require.Equal(t, 1, rep.Analysis.FramesAnalyzed)
			require.NotContains(t, rep.VerdictReason, "damaged", "a still picture is not a damaged file")
			require.NotContains(t, rep.Summary, "the rest was not seen")
			require.Greater(t, rep.Coverage.SpeechSeconds, 3.0)
			notes := strings.Join(rep.Analysis.Notes, "\n")
			require.Contains(t, notes, "the video shows no new picture after 0.0 s")
			require.NotContains(t, notes, "could be decoded")
		}, ""},
		{"8K resolution", huge, func(t *testing.T, rep *report.Report) {
			require.Equal(t, 7680, rep.Analysis.Video.Width)
			require.Equal(t, 640, rep.Analysis.AnalysisWidth)
			require.Greater(t, rep.Analysis.FramesAnalyzed, 0)
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := analyzeJSON(t, tc.path)
			tc.check(t, rep)
			if tc.verdict != "" {
				require.Equal(t, tc.verdict, string(rep.Verdict))
			}
			if rep.Authenticity == nil {
				require.Equal(t, "inconclusive", string(rep.Verdict))
			}
		})
	}
}

func requireNotMeasured(t *testing.T, rep *report.Report, signal, reason string) {
	t.Helper()
	for _, nm := range rep.NotMeasured {
		if nm.Signal == signal {
			require.Contains(t, nm.Reason, reason)
			return
		}
	}
	t.Fatalf("signal %s not listed as not measured: %+v", signal, rep.NotMeasured)
}

// The text report and the JSON report describe a real interview clip.
func TestAnalyzeCorpusClip(t *testing.T) {
	clip := testutil.CorpusItem(t, "video", "genuine", "WDA_AlexandriaOcasioCortez")
	rep := analyzeJSON(t, clip)
	require.NotNil(t, rep.Authenticity)
	require.GreaterOrEqual(t, *rep.Authenticity, 0)
	require.LessOrEqual(t, *rep.Authenticity, 100)
	require.Contains(t, []string{"genuine", "inconclusive", "suspicious", "manipulated"}, string(rep.Verdict))
	require.Greater(t, rep.Coverage.FaceSeconds, 5.0)
	require.Greater(t, rep.Coverage.SpeechSeconds, 3.0)
	require.Len(t, rep.Timeline, 2, "8 s in 5-s windows")
	require.Equal(t, 0.0, rep.Timeline[0].Start)
	require.Equal(t, 5.0, rep.Timeline[0].End)
	require.Greater(t, rep.Analysis.FramesAnalyzed, 70)
	// The embedded model's cross-validated figures come with every verdict.
	require.NotNil(t, rep.ModelValidation)
	require.Positive(t, rep.ModelValidation.Items)
	require.NotNil(t, rep.ModelValidation.ManipulatedCalledGenuine)
	require.Contains(t, rep.ModelValidation.Statement, "not proof")

	res := cli(t, "analyze", clip)
	require.Equal(t, exitOK, res.code, res.stderr)
	require.Contains(t, res.stdout, "Authenticity:")
	require.Contains(t, res.stdout, rep.ModelValidation.Statement)
	require.Contains(t, res.stdout, "Coverage:")

	evDir := filepath.Join(t.TempDir(), "evidence")
	res = cli(t, "analyze", "--json", "--evidence", evDir, clip)
	require.Equal(t, exitOK, res.code, res.stderr)
	var withEv report.Report
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &withEv))
	kinds := map[string]int{}
	for _, e := range withEv.Evidence {
		kinds[e.Kind]++
		st, err := os.Stat(filepath.Join(evDir, e.File))
		require.NoError(t, err)
		require.Greater(t, st.Size(), int64(1000))
	}
	require.GreaterOrEqual(t, kinds["face"], 1)
	require.Equal(t, 1, kinds["spectrogram"])
}

// A four-hour recording is analysed in constant memory.
func TestFourHourRecording(t *testing.T) {
	long := filepath.Join(t.TempDir(), "long.mkv")
	// Small frames at 1 fps and 8-kHz audio keep the fixture fast to make;
	// the pipeline still walks 14,400 frames and 4 h of audio.
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "color=c=0x806050:s=96x64:r=1,noise=alls=20:allf=t",
		"-f", "lavfi", "-i", "anoisesrc=r=8000:a=0.001:c=pink", "-t", "14400",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "600", "-c:a", "pcm_mulaw", long)
	res := cli(t, "analyze", "--json", long)
	require.Equal(t, exitOK, res.code, res.stderr)
	var rep report.Report
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	require.InDelta(t, 14400, rep.Analysis.DurationSeconds, 1)
	require.InDelta(t, 14400, rep.Analysis.FramesAnalyzed, 2)
	require.InDelta(t, 14400, rep.Analysis.AudioSeconds, 1)
	require.Len(t, rep.Timeline, 2880)
	require.Equal(t, "inconclusive", string(rep.Verdict), "no face, no speech")
	require.Nil(t, rep.Authenticity, "no number without data")
	require.Less(t, res.maxRSS, int64(300<<20), "peak RSS %d MB", res.maxRSS>>20)
	t.Logf("4-h analysis peak RSS %d MB", res.maxRSS>>20)
}
