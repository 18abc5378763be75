package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bonafide-dev/bonafide/models"
	"github.com/bonafide-dev/bonafide/report"
)

// The summary never contradicts the verdict: a genuine verdict with some
// evidence the other way says that evidence was outweighed.
func TestSummaryAgreesWithVerdict(t *testing.T) {
	tts := "The voice is close to monotone, as with text-to-speech."
	rep := func(a int, v models.Verdict) *report.Report {
		return &report.Report{Authenticity: &a, Verdict: v, Audio: report.Modality{Signals: []report.Signal{
			{Name: "audio.synthprosody", Measured: true, Explanation: tts}}}}
	}
	out := func(points float64) models.Output {
		return models.Output{Contributions: []models.Contribution{{Signal: "audio.synthprosody", Points: points}}}
	}
	for _, tc := range []struct {
		name string
		rep  *report.Report
		out  models.Output
		want string
	}{
		{"genuine, nothing against", rep(80, models.Genuine), out(3), "Authenticity 80/100 (genuine). No signal showed signs of manipulation."},
		{"genuine, a little against", rep(60, models.Genuine), out(-2), "Authenticity 60/100 (genuine). No signal gave strong evidence of manipulation."},
		{"genuine, strong evidence outweighed", rep(55, models.Genuine), out(-9), "Authenticity 55/100 (genuine). The strongest sign of manipulation, outweighed by the rest: " + tts},
		{"manipulated", rep(10, models.Manipulated), out(-30), "Authenticity 10/100 (manipulated). Strongest evidence: " + tts},
		{"suspicious, weak evidence", rep(35, models.Suspicious), out(-3), "Authenticity 35/100 (suspicious)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, summary(tc.rep, tc.out))
		})
	}
}

// A recording with a video (or audio) stream that gave the score nothing
// (no face or no speech measured) says so after its verdict: the verdict
// rests on the other stream alone.
func TestSummaryNamesTheUnscreenedStream(t *testing.T) {
	a := 64
	video, audio := &report.VideoInput{}, &report.AudioInput{}
	for _, tc := range []struct {
		name                string
		v                   *report.VideoInput
		au                  *report.AudioInput
		face, speech        float64
		vMeas, aMeas, avMes bool
		want                string
	}{
		{"both screened", video, audio, 6, 5, true, true, true, "Authenticity 64/100 (genuine). No signal showed signs of manipulation."},
		{"no face found in the video", video, audio, 0, 3.2, false, true, false, "Authenticity 64/100 (genuine). No signal showed signs of manipulation. The face was not screened (a face was found for 0.0 s of 6.0 s of video): this rests on the voice alone."},
		{"little face, but measured", video, audio, 2.4, 5, true, true, false, "Authenticity 64/100 (genuine). No signal showed signs of manipulation."},
		{"silent video", video, audio, 6, 0.5, true, false, false, "Authenticity 64/100 (genuine). No signal showed signs of manipulation. The voice was not screened (speech was heard for 0.5 s): this rests on the face alone."},
		{"audio-only file", nil, audio, 0, 5, false, true, false, "Authenticity 64/100 (genuine). No signal showed signs of manipulation."},
		{"video-only file", video, nil, 6, 0, true, false, false, "Authenticity 64/100 (genuine). No signal showed signs of manipulation."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &report.Report{Authenticity: &a, Verdict: models.Genuine,
				Video: report.Modality{Measured: tc.vMeas}, Audio: report.Modality{Measured: tc.aMeas}, AV: report.Modality{Measured: tc.avMes},
				Coverage: report.Coverage{DurationSeconds: 6, FaceSeconds: tc.face, SpeechSeconds: tc.speech},
				Analysis: report.Analysis{Video: tc.v, Audio: tc.au}}
			assert.Equal(t, tc.want, summary(rep, models.Output{}))
		})
	}
}
