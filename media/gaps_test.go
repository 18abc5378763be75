package media_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
)

// stalledSound writes a 6-s 440-Hz tone whose timestamps jump ahead by
// jump seconds from 3 s on, as a recorder that stalled writes its sound:
// the file says nothing was recorded for jump seconds, and ffmpeg decodes
// the sound back to back. jump 0 writes the tone without a jump; withVideo
// adds a picture whose timestamps run on regularly.
func stalledSound(t *testing.T, name, codec string, jump string, withVideo bool) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	args := []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6"}
	if withVideo {
		args = append(args, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=7",
			"-map", "0:a", "-map", "1:v", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	}
	args = append(args, "-af", "asetpts='if(gte(T,3),PTS+"+jump+"/TB,PTS)'", "-c:a", codec, out)
	testutil.FFmpeg(t, args...)
	return out
}

// readTimed decodes ar to its end and returns the samples, checking that
// every chunk begins where the one before ended.
func readTimed(t *testing.T, ar *media.AudioReader) []float32 {
	t.Helper()
	var out []float32
	var next time.Duration
	for i := 0; ; i++ {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if i > 0 {
			require.InDelta(t, next.Seconds(), c.Start.Seconds(), 1e-6, "chunk %d", i)
		}
		next = c.Start + time.Duration(float64(len(c.Samples))/float64(c.Rate)*float64(time.Second))
		out = append(out, c.Samples...)
	}
}

// span returns the samples of s from a to b seconds (at rate).
func span(s []float32, rate int, a, b float64) []float32 {
	i, j := int(a*float64(rate)), min(len(s), int(b*float64(rate)))
	return s[i:j]
}

// A recorder that stalled: the sound's timestamps jump ahead by a second
// at 3 s. The reader delivers a second of silence there, so the sound
// after it keeps its place against the picture; before, it was decoded
// back to back and arrived a second early. A file without a jump is
// delivered as it is.
func TestAudioTimestampGapsFilled(t *testing.T) {
	for _, tc := range []struct {
		name, file, codec, jump string
		video                   bool
		rate                    int
	}{
		{"WebM Opus, voice rate", "a.webm", "libopus", "1", false, media.VoiceRate},
		{"WebM Opus, source rate", "a.webm", "libopus", "1", false, 0},
		{"MP4 AAC", "a.mp4", "aac", "1", false, media.VoiceRate},
		{"Matroska AAC", "a.mkv", "aac", "1", false, media.VoiceRate},
		{"MP4 with a picture", "v.mp4", "aac", "1", true, media.VoiceRate},
		{"WebM, a 0.3-s stall", "b.webm", "libopus", "0.3", false, media.VoiceRate},
		{"WebM, no stall", "c.webm", "libopus", "0", false, media.VoiceRate},
		{"MP4, no stall", "c.mp4", "aac", "0", false, media.VoiceRate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := stalledSound(t, tc.file, tc.codec, tc.jump, tc.video)
			info, err := media.Tools{}.Probe(ctx, path)
			require.NoError(t, err)
			var vr *media.VideoReader
			var ars []*media.AudioReader
			if tc.video {
				vr, ars, err = media.Tools{}.Open(ctx, info, &media.VideoOptions{FPS: 10, MaxWidth: 160}, []media.AudioOptions{{SampleRate: tc.rate}})
				require.NoError(t, err)
				pictures := make(chan int, 1)
				go func() {
					defer vr.Close()
					n := 0
					for {
						if _, err := vr.Next(); err != nil {
							pictures <- n
							return
						}
						n++
					}
				}()
				defer func() { assert.Equal(t, 70, <-pictures, "pictures") }()
			} else {
				ar, err := media.Tools{}.OpenAudio(ctx, info, media.AudioOptions{SampleRate: tc.rate})
				require.NoError(t, err)
				ars = []*media.AudioReader{ar}
			}
			ar := ars[0]
			defer ar.Close()
			s := readTimed(t, ar)
			rate := ar.Rate()
			g := ar.FilledGaps()
			require.False(t, g.Unread, "ffmpeg's ashowinfo lines are read")
			jump := map[string]float64{"0": 0, "0.3": 0.3, "1": 1}[tc.jump]
			assert.InDelta(t, 6+jump, float64(len(s))/float64(rate), 0.05, "seconds delivered")
			if jump == 0 {
				assert.Zero(t, g.Count)
				assert.Greater(t, rms(span(s, rate, 0.2, 5.8)), 0.05)
				return
			}
			require.Equal(t, 1, g.Count)
			assert.InDelta(t, jump, g.Total.Seconds(), 0.03)
			assert.Equal(t, g.Total, g.Longest)
			at := g.LongestAt.Seconds()
			assert.InDelta(t, 3.02, at, 0.03, "where the silence begins")
			assert.Greater(t, rms(span(s, rate, 0.2, at-0.05)), 0.05, "the tone before the stall")
			assert.Less(t, rms(span(s, rate, at+0.005, at+jump-0.005)), 1e-6, "silence in the stall")
			assert.Greater(t, rms(span(s, rate, at+jump+0.05, 5.8+jump)), 0.05, "the tone after it, in its place")
		})
	}
}

// A stretch of a stalled recording: its silence is where the whole file's
// is, counted from the stretch's start; one that begins inside the stall
// starts with the rest of it. One that ends inside the stall ends where
// the sound does: no sound follows in it, so nothing is out of place.
// (The file's timestamps: the tone from −0.007 s, the stall from 3.03 s
// to 4.03 s.)
func TestAudioTimestampGapsInRange(t *testing.T) {
	ctx := context.Background()
	path := stalledSound(t, "a.webm", "libopus", "1", false)
	info, err := media.Tools{}.Probe(ctx, path)
	require.NoError(t, err)
	for _, tc := range []struct {
		name            string
		start, duration float64
		silence         [2]float64 // seconds into the stretch
		delivered       float64
	}{
		{"across the stall", 2, 3, [2]float64{1.03, 2.03}, 3},
		{"from inside the stall", 3.5, 2, [2]float64{0, 0.53}, 2},
		{"before the stall", 0.5, 2, [2]float64{}, 2},
		{"ending inside the stall", 2, 1.5, [2]float64{}, 1.03},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ar, err := media.Tools{}.OpenAudio(ctx, info, media.AudioOptions{SampleRate: media.VoiceRate,
				Start: secs(tc.start), Duration: secs(tc.duration)})
			require.NoError(t, err)
			defer ar.Close()
			s := readTimed(t, ar)
			g := ar.FilledGaps()
			require.False(t, g.Unread, "ffmpeg's ashowinfo lines are read")
			rate := ar.Rate()
			got := float64(len(s)) / float64(rate)
			if tc.silence == [2]float64{} {
				assert.Zero(t, g.Count)
				assert.InDelta(t, tc.delivered, got, 0.03)
				assert.Greater(t, rms(span(s, rate, 0.05, got-0.05)), 0.05, "the tone")
				return
			}
			require.Equal(t, 1, g.Count)
			a, b := tc.silence[0], tc.silence[1]
			assert.InDelta(t, tc.start+a, g.LongestAt.Seconds(), 0.03, "chunk time of the silence")
			assert.InDelta(t, b-a, g.Total.Seconds(), 0.03)
			assert.InDelta(t, tc.delivered, got, 0.03, "seconds delivered")
			assert.Less(t, rms(span(s, rate, a+0.02, b-0.02)), 1e-6, "silence")
			if a > 0.1 {
				assert.Greater(t, rms(span(s, rate, 0, a-0.05)), 0.05, "tone before")
			}
			if b < tc.duration-0.1 {
				assert.Greater(t, rms(span(s, rate, b+0.05, tc.duration)), 0.05, "tone after")
			}
		})
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// toneAt returns the chunk time of the first sample of ar's sound louder
// than 0.05, reading it to its end, and the seconds delivered.
func toneAt(t *testing.T, ar *media.AudioReader) (time.Duration, float64) {
	t.Helper()
	first := time.Duration(-1)
	n := 0
	for {
		c, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return first, float64(n) / float64(ar.Rate())
		}
		require.NoError(t, err)
		for j, s := range c.Samples {
			if first < 0 && (s > 0.05 || s < -0.05) {
				first = c.Start + time.Duration(float64(j)/float64(c.Rate)*float64(time.Second))
			}
		}
		n += len(c.Samples)
	}
}

// A file whose sound begins 1 s after its picture. As a whole, the sound's
// chunk times start where it does; as a range (times from the range's
// start, as the picture's), the silence before it is filled, so the tone
// is where it is in the range, never counted from the file's start twice.
func TestAudioLateStartInRange(t *testing.T) {
	out := filepath.Join(t.TempDir(), "late.mp4")
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=6",
		"-itsoffset", "1", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=5",
		"-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", out)
	ctx := context.Background()
	info, err := media.Tools{}.Probe(ctx, out)
	require.NoError(t, err)
	require.InDelta(t, 1, info.Audio.Offset.Seconds(), 0.03)
	for _, tc := range []struct {
		start, duration float64
		tone            float64 // where the tone begins, in the reader's times
	}{
		{0, 0, 1},     // the whole file: the reader's times start at the sound's offset
		{0.5, 3, 0.5}, // a range from before the sound
		{2, 3, 0},     // a range from inside it
	} {
		t.Run(fmt.Sprintf("from %.1f s", tc.start), func(t *testing.T) {
			vr, ars, err := media.Tools{}.OpenRange(ctx, info, secs(tc.start), secs(tc.duration),
				&media.VideoOptions{FPS: 10, MaxWidth: 160}, []media.AudioOptions{{SampleRate: media.VoiceRate}})
			require.NoError(t, err)
			go func() {
				defer vr.Close()
				for {
					if _, err := vr.Next(); err != nil {
						return
					}
				}
			}()
			defer ars[0].Close()
			at, _ := toneAt(t, ars[0])
			assert.InDelta(t, tc.tone, at.Seconds(), 0.03, "where the tone begins")
		})
	}
}
