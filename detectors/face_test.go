package detectors_test

import (
	"context"
	"errors"
	"image"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// trackClip runs the face tracker over a clip and returns the primary face
// of every analysed frame (empty rectangle when none).
func trackClip(t *testing.T, path string) []detectors.Face {
	t.Helper()
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	tracker, err := detectors.NewFaceTracker(fm)
	require.NoError(t, err)
	defer tracker.Close()
	var tools media.Tools
	info, err := tools.Probe(context.Background(), path)
	require.NoError(t, err)
	vr, err := tools.OpenVideo(context.Background(), info, media.DefaultVideoOptions())
	require.NoError(t, err)
	defer vr.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	var out []detectors.Face
	for {
		f, err := vr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		gocv.CvtColor(f.Image, &gray, gocv.ColorBGRToGray)
		faces := tracker.Track(gray, f.PTS.Seconds())
		if len(faces) == 0 {
			out = append(out, detectors.Face{})
			continue
		}
		out = append(out, faces[0])
	}
}

// A real interview-like clip: one face, found in nearly every frame, with a
// steady track and a plausible box.
func TestFaceTrackingRealClip(t *testing.T) {
	faces := trackClip(t, testutil.CorpusItem(t, "video", "genuine", "519.mp4"))
	require.Greater(t, len(faces), 250)
	found, detected := 0, 0
	ids := map[int]int{}
	for _, f := range faces {
		if f.Rect.Empty() {
			continue
		}
		found++
		if f.Detected {
			detected++
		}
		ids[f.TrackID]++
		require.Greater(t, f.Rect.Dx(), 60, "the face is large in this clip")
		require.Less(t, f.Rect.Dx(), 400)
	}
	require.Greater(t, float64(found)/float64(len(faces)), 0.9, "face visible in the whole clip")
	require.Greater(t, float64(detected)/float64(found), 0.8, "mostly fresh detections, not carried boxes")
	best := 0
	for _, n := range ids {
		best = max(best, n)
	}
	require.Greater(t, float64(best)/float64(found), 0.9, "one stable track")
	// The box moves smoothly: no jump of more than a third of its width
	// between consecutive frames.
	for i := 1; i < len(faces); i++ {
		a, b := faces[i-1].Rect, faces[i].Rect
		if a.Empty() || b.Empty() {
			continue
		}
		dx := faceTestAbs(a.Min.X+a.Dx()/2-(b.Min.X+b.Dx()/2)) + faceTestAbs(a.Min.Y+a.Dy()/2-(b.Min.Y+b.Dy()/2))
		require.Less(t, dx, a.Dx()/3, "frame %d", i)
	}
}

// A test pattern has no face.
func TestFaceTrackingNoFace(t *testing.T) {
	path := t.TempDir() + "/pattern.mp4"
	testutil.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=3", "-c:v", "libx264", "-preset", "ultrafast", path)
	for _, f := range trackClip(t, path) {
		require.True(t, f.Rect.Empty(), "no face in a test pattern")
	}
}

// Detect on a single frame finds the face of a real clip.
func TestFaceDetectSingleFrame(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	require.NotEmpty(t, fm.FastFrontal, "opencv-data ships the LBP cascades")
	tracker, err := detectors.NewFaceTracker(fm)
	require.NoError(t, err)
	defer tracker.Close()
	png := t.TempDir() + "/frame.png"
	testutil.FFmpeg(t, "-ss", "2", "-i", testutil.CorpusItem(t, "video", "genuine", "634.mp4"), "-frames:v", "1", png)
	img := gocv.IMRead(png, gocv.IMReadGrayScale)
	defer img.Close()
	rects := tracker.Detect(img)
	require.NotEmpty(t, rects)
	require.True(t, rects[0].In(image.Rect(0, 0, img.Cols(), img.Rows())))
	require.NoError(t, tracker.Close())
	require.NoError(t, tracker.Close(), "Close is idempotent")
}

func faceTestAbs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Missing cascade files are an error, not an OpenCV abort.
func TestFaceTrackerMissingModels(t *testing.T) {
	_, err := detectors.NewFaceTracker(models.FaceModels{})
	require.ErrorIs(t, err, models.ErrFaceModelsMissing)
	_, err = detectors.NewFaceTracker(models.FaceModels{Frontal: t.TempDir(), Profile: "/nonexistent.xml"})
	require.ErrorIs(t, err, models.ErrFaceModelsMissing)
}
