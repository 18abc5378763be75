package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
)

func TestEvalAndTrainUsageErrors(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.csv")
	require.NoError(t, os.WriteFile(manifest, []byte("path,label,video_label,audio_label,kind\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"eval without manifest", []string{"eval"}, exitUsage},
		{"eval bad cv", []string{"eval", "--manifest", manifest, "--cv", "1"}, exitUsage},
		{"eval bad workers", []string{"eval", "--manifest", manifest, "--workers", "0"}, exitUsage},
		{"eval empty manifest", []string{"eval", "--manifest", manifest, "--no-cache"}, exitFailure},
		{"eval missing manifest", []string{"eval", "--manifest", filepath.Join(dir, "absent.csv")}, exitFailure},
		{"eval train-on without cv", []string{"eval", "--manifest", manifest, "--train-on", manifest}, exitUsage},
		{"eval repeat without cv", []string{"eval", "--manifest", manifest, "--repeat", "3"}, exitUsage},
		{"eval repeat zero", []string{"eval", "--manifest", manifest, "--cv", "2", "--repeat", "0"}, exitUsage},
		{"eval unseen kinds without cv", []string{"eval", "--manifest", manifest, "--unseen-kinds"}, exitUsage},
		{"eval unseen kinds of segments", []string{"eval", "--manifest", manifest, "--cv", "2", "--segment", "8s", "--unseen-kinds"}, exitUsage},
		{"train without out", []string{"train", "--manifest", manifest}, exitUsage},
		{"train bad fpr", []string{"train", "--manifest", manifest, "--out", filepath.Join(dir, "w.json"), "--fpr", "2"}, exitUsage},
		{"train bad values", []string{"train", "--manifest", manifest, "--out", filepath.Join(dir, "w.json"), "--values", "nocolon"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, &env{stdout: &out, stderr: &errb})
			assert.Equal(t, tc.code, code, errb.String())
		})
	}
	_, err := os.Stat(filepath.Join(dir, "w.json"))
	assert.True(t, os.IsNotExist(err), "a failed train writes no weights")
}

// --train-on: folds trained on one manifest (the originals) score another
// (the same sources through Opus), and train records every manifest that
// trained the model. Real analysis of short corpus voices.
func TestEvalTrainOnOtherManifest(t *testing.T) {
	dir := t.TempDir()
	items := voiceItems(t)
	orig, opus := writeManifest(t, dir, "orig", items, false), writeManifest(t, dir, "opus", items, true)
	cache := filepath.Join(dir, "cache")

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"eval", "--manifest", opus, "--train-on", orig, "--cv", "2",
		"--cache", cache, "--detector-version", "test", "--quiet", "--json"}, &env{stdout: &out, stderr: &errb})
	require.Equal(t, exitOK, code, errb.String())
	var res struct {
		Model   string `json:"model"`
		Overall struct {
			N int `json:"n"`
		} `json:"overall"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), out.String())
	assert.Contains(t, res.Model, "on 8 items of other manifests only")
	assert.Equal(t, 8, res.Overall.N, "the Opus items are scored, the originals are not")

	// The same from the cache as text, with every item's line, repeated
	// with a second fold seed.
	out.Reset()
	errb.Reset()
	code = run(context.Background(), []string{"eval", "--manifest", opus, "--train-on", orig, "--cv", "2", "--repeat", "2",
		"--cache", cache, "--detector-version", "test", "--quiet", "--items"}, &env{stdout: &out, stderr: &errb})
	require.Equal(t, exitOK, code, errb.String())
	assert.Contains(t, out.String(), "8 analysed (8 from cache)")
	assert.Contains(t, out.String(), "Repeated cross-validation, 2 fold assignments (seeds 1 2)")
	assert.Contains(t, out.String(), "Items (")
	for i := range items {
		assert.Contains(t, out.String(), fmt.Sprintf("a%d.ogg ", i))
	}

	weights := filepath.Join(dir, "w.json")
	out.Reset()
	errb.Reset()
	code = run(context.Background(), []string{"train", "--manifest", orig, "--train-on", orig + "," + opus, "--folds", "2",
		"--min-measured", "2", "--cache", cache, "--detector-version", "test", "--quiet", "--out", weights}, &env{stdout: &out, stderr: &errb})
	require.Equal(t, exitOK, code, errb.String())
	data, err := os.ReadFile(weights)
	require.NoError(t, err)
	var w struct {
		Manifest  string   `json:"manifest_sha256"`
		TrainedOn []string `json:"trained_on_sha256"`
	}
	require.NoError(t, json.Unmarshal(data, &w))
	assert.Len(t, w.TrainedOn, 2)
	assert.Contains(t, w.TrainedOn, w.Manifest)
}

// voiceItems are four genuine and four synthetic corpus voices.
func voiceItems(t *testing.T) []testutil.Item {
	var gen, man []testutil.Item
	for _, it := range testutil.Corpus(t) {
		if it.Modality != "audio" {
			continue
		}
		switch {
		case it.Label == "genuine" && len(gen) < 4:
			gen = append(gen, it)
		case it.Kind == "tts-espeak" && len(man) < 4:
			man = append(man, it)
		}
	}
	require.Len(t, gen, 4)
	require.Len(t, man, 4)
	return append(gen, man...)
}

// writeManifest writes a manifest of items into dir/name, as links to the
// corpus files or (conv) as Opus copies, and returns its path.
func writeManifest(t *testing.T, dir, name string, items []testutil.Item, conv bool) string {
	folder := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(folder, 0o755))
	f, err := os.Create(filepath.Join(folder, "manifest.csv"))
	require.NoError(t, err)
	w := csv.NewWriter(f)
	require.NoError(t, w.Write([]string{"path", "split", "modality", "label", "video_label", "audio_label", "kind", "source"}))
	for i, it := range items {
		rel := fmt.Sprintf("a%d%s", i, filepath.Ext(it.Path))
		if conv {
			rel = fmt.Sprintf("a%d.ogg", i)
			testutil.FFmpeg(t, "-i", it.Path, "-c:a", "libopus", "-b:a", "32k", filepath.Join(folder, rel))
		} else {
			require.NoError(t, os.Symlink(it.Path, filepath.Join(folder, rel)))
		}
		require.NoError(t, w.Write([]string{rel, "dev", "audio", it.Label, it.VideoLabel, it.AudioLabel, it.Kind, it.Source}))
	}
	w.Flush()
	require.NoError(t, w.Error())
	require.NoError(t, f.Close())
	return f.Name()
}

// --segment scores each item on one stretch analysed as the live bot does,
// with folds trained on the whole recordings; the segments have their own
// cache entries; --segment-voice-only leaves out the full band, as serve
// --live-full-band=false does.
func TestEvalSegment(t *testing.T) {
	dir := t.TempDir()
	items := voiceItems(t)
	manifest := writeManifest(t, dir, "orig", items, false)
	cache := filepath.Join(dir, "cache")
	type result struct {
		Segment  string `json:"segment"`
		Settings string `json:"settings"`
		Cached   int    `json:"cached"`
		Overall  struct {
			N int `json:"n"`
		} `json:"overall"`
		Signals map[string]struct {
			Measured int `json:"measured"`
		} `json:"signals"`
		AUCIntervals *struct {
			Resamples int `json:"resamples"`
		} `json:"auc_intervals"`
	}
	eval := func(args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		args = append([]string{"eval", "--manifest", manifest, "--cache", cache, "--detector-version", "test", "--quiet", "--json"}, args...)
		code := run(context.Background(), args, &env{stdout: &out, stderr: &errb})
		require.Equal(t, exitOK, code, errb.String())
		var r result
		require.NoError(t, json.Unmarshal(out.Bytes(), &r), out.String())
		return r
	}
	whole := eval("--cv", "2")
	assert.Empty(t, whole.Segment)
	require.NotNil(t, whole.AUCIntervals)
	assert.Equal(t, 1000, whole.AUCIntervals.Resamples)
	assert.Positive(t, whole.Signals["audio.bandlimit"].Measured, "the synthetic voices' band limit is measured on the whole files")

	seg := eval("--cv", "2", "--segment", "3s", "--segment-start", "1s", "--segment-voice-only")
	assert.Equal(t, 8, seg.Overall.N)
	assert.Zero(t, seg.Cached, "a segment is not the whole recording's cache entry")
	assert.Contains(t, seg.Segment, "3s from 1s")
	assert.Contains(t, seg.Settings, "start=1s duration=3s voice-only")
	assert.Zero(t, seg.Signals["audio.bandlimit"].Measured, "no full-band audio")
	assert.Positive(t, seg.Signals["audio.envelope"].Measured)

	again := eval("--segment", "3s", "--segment-start", "1s", "--segment-voice-only")
	assert.Equal(t, 8, again.Cached, "the segments are cached under their own key")
	assert.Equal(t, 8, again.Overall.N)
	// Scoring segments with the model needs no whole recording: with an
	// empty cache only the eight segments are analysed.
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"eval", "--manifest", manifest, "--cache", filepath.Join(dir, "cache2"),
		"--detector-version", "test", "--segment", "3s"}, &env{stdout: &out, stderr: &errb})
	require.Equal(t, exitOK, code, errb.String())
	assert.Equal(t, 8, strings.Count(errb.String(), " analysed\n"), "one analysis per item: %s", errb.String())

	full := eval("--segment", "3s", "--segment-start", "1s")
	assert.Zero(t, full.Cached, "full-band segments are another cache entry")
	assert.Contains(t, full.Settings, "full-band")
	assert.Positive(t, full.Signals["audio.bandlimit"].Measured, "the band limit is measured on 3-s segments with the full band")

	// train --segment: eight items are too few genuine segments for live
	// thresholds, and it says so.
	weights := filepath.Join(dir, "w.json")
	out.Reset()
	errb.Reset()
	opus := writeManifest(t, dir, "opus", items, true)
	code = run(context.Background(), []string{"train", "--manifest", manifest, "--train-on", manifest + "," + opus,
		"--segment", "3s", "--segment-start", "1s", "--segment-voice-only",
		"--folds", "2", "--min-measured", "2", "--cache", cache, "--detector-version", "test", "--quiet", "--out", weights},
		&env{stdout: &out, stderr: &errb})
	require.Equal(t, exitOK, code, errb.String())
	assert.Contains(t, out.String(), "no live thresholds: fewer than 20 genuine items have a segment")
	data, err := os.ReadFile(weights)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "live_thresholds")

	for _, args := range [][]string{
		{"--segment-start", "1s"},
		{"--segment", "3s", "--segment-fps", "0"},
		{"--segment", "-3s"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"eval", "--manifest", manifest, "--cache", cache, "--quiet"}, args...), &env{stdout: &out, stderr: &errb})
		assert.Equal(t, exitUsage, code, "%v: %s", args, errb.String())
	}
}
