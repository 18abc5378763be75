package evaluation

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/models"
)

func TestOrigins(t *testing.T) {
	const c = "0123456789abcdef0123456789abcdef01234567"
	paths := map[string]bool{"video/v_a.mp4": true, "video/v_b.mp4": true, "video/v_c.mp4": true}
	for _, tc := range []struct {
		name, source, self string
		keys, refs         []string
	}{
		{"untouched copy", "owner/repo@" + c + ":clips/x.mp4", "", []string{"owner/repo:clips/x.mp4"}, nil},
		{"converted copy with span", "owner/repo@" + c + ":clips/x.mp4 (audio 0-8 s); convert: ffmpeg -i a b", "", []string{"owner/repo:clips/x.mp4"}, nil},
		{"generated with input", "generated: sox a b pitch 300; input: o/r@" + c + ":d/e f.mp4 (left panel: x)", "", []string{"o/r:d/e f.mp4"}, nil},
		{"dubbed", "generated: ffmpeg …; input: o/r@" + c + ":v.mp4; dub audio: p/q@" + c + ":s.flac", "", []string{"o/r:v.mp4", "p/q:s.flac"}, nil},
		{"ffpp pair", "x/y@" + c + ":data/manipulated_sequences/Deepfakes/c23/videos/519_515.mp4", "", []string{"ffpp:519", "ffpp:515"}, nil},
		{"ffpp original", "x/y@" + c + ":media/in_out_videos/original/youtube/c40/videos/183.mp4", "", []string{"ffpp:183"}, nil},
		{"non-repo input", "generated: sox …; input: debian:pkg_1:/usr/share/x/{A+B}.wav", "", []string{"debian:pkg_1:/usr/share/x/{A+B}.wav"}, nil},
		{"non-repo copy", "debian:pkg_1:/usr/share/x/{A+B}.wav; convert: sox …", "", []string{"debian:pkg_1:/usr/share/x/{A+B}.wav"}, nil},
		// scripts/voicechangers.sh: the original's whole source after "input:".
		{"voice changer of a non-repo copy", "generated: rubberband -q -p 4; input: debian:pkg_1:/usr/share/x/{A+B}.wav; convert: sox …", "", []string{"debian:pkg_1:/usr/share/x/{A+B}.wav"}, nil},
		{"voice changer of a repo excerpt", "generated: praat --run gender.praat; input: o/r@" + c + ":d/e.mp4 (audio 1.8-9.8 s); convert: ffmpeg …", "", []string{"o/r:d/e.mp4"}, nil},
		{"tts voice festival", `generated: text2wave -voice kal_diphone -f text0.txt; input: text: "Hi."`, "", []string{"tool:text2wave:kal_diphone"}, nil},
		{"tts voice", `generated: espeak-ng -v en-gb+f3 -s 155 -f t.txt; input: text: "Hello."`, "", []string{"tool:espeak-ng:en-gb+f3"}, nil},
		{"tts voice flite", `generated: flite -voice awb -f t.txt; input: text: "Hi."`, "", []string{"tool:flite:awb"}, nil},
		{"manifest references", "generated (simulated): tools/sim.py video/v_a.mp4 video/v_b.mp4 --donor video/v_c.mp4", "video/v_b.mp4", nil, []string{"video/v_a.mp4", "video/v_c.mp4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, refs := Origins(tc.source, paths, tc.self)
			assert.Equal(t, tc.keys, keys)
			assert.Equal(t, tc.refs, refs)
		})
	}
}

func TestGroupsMergeTransitively(t *testing.T) {
	const c = "0123456789abcdef0123456789abcdef01234567"
	items := []Item{
		{Rel: "a", Source: "x/y@" + c + ":ffpp/original_sequences/v/1.mp4"},
		{Rel: "b", Source: "x/y@" + c + ":ffpp/manipulated_sequences/v/1_2.mp4"},
		{Rel: "c", Source: "x/y@" + c + ":ffpp/original_sequences/v/2.mp4"},
		{Rel: "d", Source: "o/r@" + c + ":other.mp4"},
		{Rel: "e", Source: "generated: ffmpeg; input: o/r@" + c + ":other.mp4"},
		{Rel: "f", Source: "p/q@" + c + ":person-again.mp4"},
		{Rel: "g", Source: "z/z@" + c + ":alone.mp4"},
	}
	ids := Groups(items, SamePeople{{"o/r:other", "p/q:person-again"}})
	assert.Equal(t, ids[0], ids[1])
	assert.Equal(t, ids[1], ids[2], "519_515-style pairs join both ids' groups")
	assert.Equal(t, ids[3], ids[4], "a derived item shares its original's group")
	assert.Equal(t, ids[3], ids[5], "people listed together share a group")
	assert.NotEqual(t, ids[0], ids[3])
	assert.NotEqual(t, ids[6], ids[0])
	assert.NotEqual(t, ids[6], ids[3])
}

func TestDefaultSamePeople(t *testing.T) {
	p, err := ParseSamePeople(defaultPeople)
	require.NoError(t, err)
	assert.Equal(t, p, DefaultSamePeople())
	assert.NotEmpty(t, p)
	_, err = ParseSamePeople("only-one\n")
	assert.ErrorIs(t, err, ErrManifest)
}

// TestCorpusFoldsKeepSourcesApart groups the dev corpus and checks that no
// origin (and no listed person) sits in two folds.
func TestCorpusFoldsKeepSourcesApart(t *testing.T) {
	m, err := ReadManifest(filepath.Join(testutil.CorpusDir(t), "manifest.csv"))
	require.NoError(t, err)
	ids := Groups(m.Items, DefaultSamePeople())
	folds := models.GroupFolds(ids, 5, 1)
	paths := map[string]bool{}
	for _, it := range m.Items {
		paths[it.Rel] = true
	}
	foldOfKey := map[string]int{}
	foldOfPath := map[string]int{}
	for i, it := range m.Items {
		foldOfPath[it.Rel] = folds[i]
	}
	for i, it := range m.Items {
		keys, refs := Origins(it.Source, paths, it.Rel)
		require.NotEmpty(t, append(keys, refs...), "item %s has no origin", it.Rel)
		for _, k := range keys {
			if f, ok := foldOfKey[k]; ok {
				assert.Equal(t, f, folds[i], "origin %s in two folds", k)
			}
			foldOfKey[k] = folds[i]
		}
		for _, r := range refs {
			assert.Equal(t, foldOfPath[r], folds[i], "%s and the item it was made from in two folds", it.Rel)
		}
	}
	for _, person := range DefaultSamePeople() {
		fold := -1
		for k, f := range foldOfKey {
			for _, sub := range person {
				if strings.Contains(k, sub) {
					if fold >= 0 {
						assert.Equal(t, fold, f, "person %v in two folds", person)
					}
					fold = f
				}
			}
		}
		assert.GreaterOrEqual(t, fold, 0, "people line %v matches no origin of the dev corpus", person)
	}
	// Every fold holds both classes.
	for f := 0; f < 5; f++ {
		var g, mnp int
		for i, it := range m.Items {
			if folds[i] == f {
				if it.Label == Genuine {
					g++
				} else {
					mnp++
				}
			}
		}
		assert.Positive(t, g, "fold %d has no genuine item", f)
		assert.Positive(t, mnp, "fold %d has no manipulated item", f)
	}
}
