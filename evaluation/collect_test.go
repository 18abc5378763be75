package evaluation

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/analysis"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// tempManifest writes a manifest with one genuine audio item, one TTS item
// and one genuine video with sound from the dev corpus (absolute paths), a
// missing file and a text file.
func tempManifest(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pick := map[string]testutil.Item{}
	for _, it := range testutil.Corpus(t) {
		for _, k := range []string{"genuine/audio", "tts-espeak/audio", "genuine-voxceleb2/video"} {
			if _, ok := pick[k]; !ok && k == it.Kind+"/"+it.Modality {
				pick[k] = it
			}
		}
	}
	require.Len(t, pick, 3)
	f, err := os.Create(filepath.Join(dir, "manifest.csv"))
	require.NoError(t, err)
	w := csv.NewWriter(f)
	require.NoError(t, w.Write([]string{"path", "split", "modality", "label", "video_label", "audio_label", "kind", "source"}))
	for _, k := range []string{"genuine/audio", "tts-espeak/audio", "genuine-voxceleb2/video"} {
		it := pick[k]
		require.NoError(t, w.Write([]string{it.Path, "dev", it.Modality, it.Label, it.VideoLabel, it.AudioLabel, it.Kind, it.Source}))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("this is not media\n"), 0o644))
	require.NoError(t, w.Write([]string{"missing.flac", "dev", "audio", "genuine", "none", "genuine", "genuine", "x/y@0123456:m.flac"}))
	require.NoError(t, w.Write([]string{"notes.txt", "dev", "audio", "manipulated", "none", "manipulated", "tts-espeak", "x/y@0123456:n.txt"}))
	w.Flush()
	require.NoError(t, w.Error())
	require.NoError(t, f.Close())
	return filepath.Join(dir, "manifest.csv")
}

func realAnalyzer(t *testing.T, calls *atomic.Int32) AnalyzeFunc {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	cfg := analysis.Config{FaceModels: fm, Scorer: models.DefaultScorer()}
	return func(ctx context.Context, path string) (*report.Report, error) {
		calls.Add(1)
		return analysis.Analyze(ctx, path, cfg)
	}
}

// TestCollectReportsFailuresAndEvaluatesTheRest runs the real analysis on a
// manifest with a missing and an undecodable file: both are listed in
// failed, the three media items are evaluated, and a second run comes from
// the cache without analysing anything.
func TestCollectReportsFailuresAndEvaluatesTheRest(t *testing.T) {
	m, err := ReadManifest(tempManifest(t))
	require.NoError(t, err)
	var calls atomic.Int32
	cache := &Cache{Dir: t.TempDir(), Settings: "test"}
	col := &Collector{Analyze: realAnalyzer(t, &calls), Cache: cache, Workers: 2}
	recs, fails, err := col.Collect(context.Background(), m.Items)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Len(t, fails, 2)
	assert.Equal(t, "missing.flac", fails[0].Path)
	assert.Equal(t, "notes.txt", fails[1].Path)
	assert.Contains(t, fails[1].Error, "not a media file")
	assert.EqualValues(t, 4, calls.Load(), "the missing file is never handed to the analysis: hashing it fails first")
	for _, r := range recs {
		assert.False(t, r.Cached)
	}
	assert.True(t, recs[2].Features.HasVideo)
	assert.True(t, recs[2].Features.HasAudio)
	assert.False(t, recs[0].Features.HasVideo)

	res := Evaluate(ScoreAll(recs, models.DefaultScorer()), fails)
	assert.Equal(t, 5, res.Items)
	assert.Equal(t, 3, res.Overall.N)
	assert.Equal(t, 1, res.Overall.Manipulated)
	assert.Equal(t, 1, res.Video.N)
	assert.Equal(t, 3, res.Audio.N)
	assert.Equal(t, 1, res.AV.N)
	var js strings.Builder
	require.NoError(t, res.WriteJSON(&js))
	var generic map[string]any
	require.NoError(t, json.Unmarshal([]byte(js.String()), &generic))
	for _, k := range []string{"overall", "video", "audio", "av", "kinds", "signals", "failed"} {
		assert.Contains(t, generic, k)
	}
	for _, k := range []string{"n", "auc", "eer", "fpr_at_manipulated", "recall_at_manipulated"} {
		assert.Contains(t, generic["overall"], k)
	}
	assert.Len(t, generic["failed"], 2)
	require.Len(t, res.Scores, 3, "every analysed item has a score line, the failed ones none")
	for i, sc := range res.Scores {
		assert.Equal(t, recs[i].Item.Rel, sc.Path)
		assert.False(t, math.IsNaN(float64(sc.Probability)))
	}
	assert.True(t, math.IsNaN(float64(res.Scores[0].Video)), "an audio file has no video score")
	assert.Len(t, generic["item_scores"], 3)
	var text strings.Builder
	require.NoError(t, res.WriteText(&text))
	assert.Contains(t, text.String(), "Failed: 2")
	assert.NotContains(t, text.String(), "Items (")
	var withItems strings.Builder
	require.NoError(t, res.WriteTextItems(&withItems))
	assert.Contains(t, withItems.String(), "Items (")
	manipFirst := strings.Index(withItems.String(), res.Scores[1].Path)
	for _, sc := range res.Scores {
		at := strings.Index(withItems.String(), sc.Path)
		assert.Greater(t, at, 0, sc.Path)
		if sc.Label == Genuine {
			assert.Greater(t, at, manipFirst, "manipulated items are listed before genuine ones")
		}
	}

	// Second run: everything that was analysed comes from the cache.
	calls.Store(0)
	again, fails2, err := col.Collect(context.Background(), m.Items)
	require.NoError(t, err)
	assert.Len(t, fails2, 2)
	assert.EqualValues(t, 1, calls.Load(), "only the undecodable file is analysed again")
	require.Len(t, again, 3)
	for i, r := range again {
		assert.True(t, r.Cached)
		assert.Equal(t, recs[i].Features, r.Features)
	}
	// Other settings (another detector version) miss the cache.
	other := &Collector{Analyze: realAnalyzer(t, &calls), Cache: &Cache{Dir: cache.Dir, Settings: "other"}, Workers: 1}
	calls.Store(0)
	_, _, err = other.Collect(context.Background(), m.Items[:1])
	require.NoError(t, err)
	assert.EqualValues(t, 1, calls.Load())
}

func TestCollectCancelled(t *testing.T) {
	m, err := ReadManifest(tempManifest(t))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls atomic.Int32
	col := &Collector{Analyze: realAnalyzer(t, &calls), Workers: 2}
	_, _, err = col.Collect(ctx, m.Items)
	assert.ErrorIs(t, err, context.Canceled)
	testutil.NoChildProcesses(t)
}

func TestReadManifestErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body string }{
		{"missing column", "path,label\na.flac,genuine\n"},
		{"bad label", "path,label,video_label,audio_label,kind\na.flac,fake,none,genuine,x\n"},
		{"no path", "path,label,video_label,audio_label,kind\n,genuine,none,genuine,x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			require.NoError(t, os.WriteFile(p, []byte(tc.body), 0o644))
			_, err := ReadManifest(p)
			assert.ErrorIs(t, err, ErrManifest)
		})
	}
	_, err := ReadManifest(filepath.Join(dir, "absent.csv"))
	assert.ErrorIs(t, err, ErrManifest)
}
