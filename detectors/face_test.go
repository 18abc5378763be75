package detectors_test

import (
	"context"
	"errors"
	"image"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gocv.io/x/gocv"

	"github.com/bonafide-dev/bonafide/detectors"
	"github.com/bonafide-dev/bonafide/internal/testutil"
	"github.com/bonafide-dev/bonafide/media"
	"github.com/bonafide-dev/bonafide/models"
)

// corpusGrayFrame returns the grey frame at 2 s of the genuine dev video
// name, at its own size; the caller closes it.
func corpusGrayFrame(t testing.TB, name string) gocv.Mat {
	t.Helper()
	png := filepath.Join(t.TempDir(), "frame.png")
	testutil.FFmpeg(t, "-ss", "2", "-i", testutil.CorpusItem(t, "video", "genuine", name), "-frames:v", "1", png)
	gray := gocv.IMRead(png, gocv.IMReadGrayScale)
	require.False(t, gray.Empty(), "frame of %s", name)
	return gray
}

// trackClip runs the face tracker over a clip and returns the primary face
// of every analysed frame (empty rectangle when none).
func trackClip(t *testing.T, path string) []detectors.Face {
	return trackClipWith(t, path, nil)
}

// trackClipWith is trackClip; with lm set it also fits the primary face's
// landmarks and hands them to the tracker (Follow), as the analysis does.
func trackClipWith(t *testing.T, path string, lm *detectors.Landmarker) []detectors.Face {
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
		if lm != nil {
			pts, err := lm.Fit(gray, faces[0].Box)
			if err != nil {
				pts = nil
			}
			faces[0].Landmarks = pts
			if b := tracker.Follow(faces[0].TrackID, pts); !b.Intersect(image.Rect(0, 0, gray.Cols(), gray.Rows())).Empty() {
				faces[0].Box, faces[0].Rect = b, b.Intersect(image.Rect(0, 0, gray.Cols(), gray.Rows()))
			}
		}
		out = append(out, faces[0])
	}
}

// With landmarks handed back, the tracker re-detects the face on one frame
// in three and carries the box with the landmarks in between: the boxes
// stay on the face the cascade finds every frame (FF++ 519, a talking head
// that moves), and move smoothly.
func TestFaceTrackingFollowsLandmarks(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	lm, err := detectors.NewLandmarker(fm.Landmarks)
	require.NoError(t, err)
	defer lm.Close()
	clip := testutil.CorpusItem(t, "video", "genuine", "519.mp4")
	every := trackClip(t, clip)
	followed := trackClipWith(t, clip, lm)
	require.Equal(t, len(every), len(followed))
	var iou float64
	n, differ := 0, 0
	for i := range every {
		a, b := every[i].Rect, followed[i].Rect
		if a.Empty() || b.Empty() {
			continue
		}
		n++
		inter := a.Intersect(b)
		iou += float64(inter.Dx()*inter.Dy()) / float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()-inter.Dx()*inter.Dy())
		if a != b {
			differ++
		}
		require.Len(t, followed[i].Landmarks, detectors.Landmarks68)
		if i > 0 && !followed[i-1].Rect.Empty() {
			p := followed[i-1].Rect
			jump := faceTestAbs(p.Min.X+p.Dx()/2-(b.Min.X+b.Dx()/2)) + faceTestAbs(p.Min.Y+p.Dy()/2-(b.Min.Y+b.Dy()/2))
			require.Less(t, jump, p.Dx()/3, "frame %d", i)
		}
	}
	require.Greater(t, float64(n)/float64(len(every)), 0.9, "the face is found as often")
	require.Greater(t, iou/float64(n), 0.85, "followed boxes stay on the detected face")
	require.Greater(t, differ, n/3, "the landmarks, not the cascade, place most boxes")
}

// Follow moves a face whose re-detection was skipped with its landmarks:
// shifted landmarks shift the box by the same amount, spread ones scale
// it; a face re-detected in the frame keeps its box.
func TestFaceFollowMovesBox(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	tracker, err := detectors.NewFaceTracker(fm)
	require.NoError(t, err)
	defer tracker.Close()
	gray := corpusGrayFrame(t, "519.mp4")
	defer gray.Close()
	// Two detections make the track; pretend landmarks at the box corners.
	var face detectors.Face
	for i := range 2 {
		faces := tracker.Track(gray, float64(i)/10)
		if len(faces) > 0 {
			face = faces[0]
		}
	}
	require.False(t, face.Rect.Empty())
	r := face.Rect
	pts := []image.Point{r.Min, {r.Max.X, r.Min.Y}, r.Max, {r.Min.X, r.Max.Y}}
	require.Equal(t, r, tracker.Follow(face.TrackID, pts), "a re-detected face keeps its box")

	// The next frame skips the cascade: the box follows the landmarks.
	faces := tracker.Track(gray, 0.2)
	require.Len(t, faces, 1)
	require.Equal(t, r, faces[0].Rect, "the box waits for Follow")
	shift := image.Pt(10, -6)
	moved := make([]image.Point, len(pts))
	for i, p := range pts {
		moved[i] = p.Add(shift)
	}
	got := tracker.Follow(face.TrackID, moved)
	require.InDelta(t, r.Min.X+shift.X, got.Min.X, 1)
	require.InDelta(t, r.Min.Y+shift.Y, got.Min.Y, 1)
	require.InDelta(t, r.Dx(), got.Dx(), 1)

	// Landmarks spread by 20 % around their centre scale the box alike.
	faces = tracker.Track(gray, 0.3)
	require.Len(t, faces, 1)
	c := image.Pt((got.Min.X+got.Max.X)/2, (got.Min.Y+got.Max.Y)/2)
	wide := make([]image.Point, len(moved))
	for i, p := range moved {
		d := p.Sub(c)
		wide[i] = c.Add(image.Pt(d.X*12/10, d.Y*12/10))
	}
	scaled := tracker.Follow(face.TrackID, wide)
	require.InDelta(t, float64(got.Dx())*1.2, scaled.Dx(), 2)

	require.Equal(t, image.Rectangle{}, tracker.Follow(face.TrackID+100, pts), "unknown track")
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
	img := corpusGrayFrame(t, "634.mp4")
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

// A candidate close to the camera: the picture cuts off her forehead (a
// genuine dev talking head, LivePortrait's d6, cropped to its lower 300 of
// 480 rows). The cascades need the forehead; the tracker scans a frame
// padded upwards and finds her face, whose whole box (Box) reaches above
// the frame while Rect stays inside it. Before, it found nothing in most
// frames and tracked a false "face" on her ear and hair in the rest.
func TestFaceTrackingForeheadCutOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.mp4")
	testutil.FFmpeg(t, "-i", testutil.CorpusItem(t, "video", "genuine", "driving/d6.mp4"), "-t", "5",
		"-vf", "crop=480:300:0:180", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", path)
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	lm, err := detectors.NewLandmarker(fm.Landmarks)
	require.NoError(t, err)
	defer lm.Close()
	faces := trackClipWith(t, path, lm)
	require.Greater(t, len(faces), 40)
	bounds := image.Rect(0, 0, 480, 300)
	found, above, fitted := 0, 0, 0
	for i, f := range faces {
		if f.Rect.Empty() {
			continue
		}
		found++
		require.True(t, f.Rect.In(bounds), "frame %d: Rect %v inside the frame", i, f.Rect)
		require.True(t, f.Rect.In(f.Box), "frame %d: Rect %v is part of Box %v", i, f.Rect, f.Box)
		// Her face is in the middle of the picture, about 230 px high;
		// the ear and hair are at the sides.
		cx := (f.Box.Min.X + f.Box.Max.X) / 2
		require.InDelta(t, 240, cx, 60, "frame %d: box %v on the face", i, f.Box)
		require.Greater(t, f.Box.Dy(), 170, "frame %d: box %v", i, f.Box)
		if f.Box.Min.Y < 0 {
			above++
		}
		if f.Landmarks != nil {
			fitted++
			// The landmarks of the mouth sit in the lower half of the picture.
			mouth := f.Landmarks[detectors.LandmarkOuterLips[0]]
			require.Greater(t, mouth.Y, 150, "frame %d: mouth landmark %v", i, mouth)
		}
	}
	require.Greater(t, float64(found)/float64(len(faces)), 0.9, "her face is found in nearly every frame")
	require.Greater(t, above, found/2, "the box reaches above the frame")
	require.Greater(t, fitted, found*3/4, "landmarks fitted on the whole box")
}

// BenchmarkFaceScan times the whole-frame scan, which the tracker runs on
// every frame while it knows no face (here a faceless 640×360 frame, so
// every call scans) and every 2 s otherwise.
func BenchmarkFaceScan(b *testing.B) {
	fm, err := models.LocateFaceModels("")
	require.NoError(b, err)
	tracker, err := detectors.NewFaceTracker(fm)
	require.NoError(b, err)
	defer tracker.Close()
	img := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8U)
	defer img.Close()
	gocv.RandU(&img, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 0, 0, 0))
	gocv.GaussianBlur(img, &img, image.Pt(15, 15), 0, 0, gocv.BorderDefault)
	b.ResetTimer()
	for i := range b.N {
		if faces := tracker.Track(img, float64(i)*10); len(faces) > 0 {
			b.Fatalf("a face in noise: %v", faces[0].Rect)
		}
	}
}

// A live decoder restarted for a new picture size hands the tracker frames
// twice as large: the face is followed on at once, its box scaled with
// the picture, under a new track ID so that the detectors that follow a
// face over frames start a new stretch. Before, the old box lay on
// another part of the picture for up to a second.
func TestFaceTrackerPictureSizeChange(t *testing.T) {
	fm, err := models.LocateFaceModels("")
	require.NoError(t, err)
	tracker, err := detectors.NewFaceTracker(fm)
	require.NoError(t, err)
	defer tracker.Close()
	src := corpusGrayFrame(t, "634.mp4")
	defer src.Close()
	small, large := gocv.NewMat(), gocv.NewMat()
	defer small.Close()
	defer large.Close()
	w := 320
	h := src.Rows() * w / src.Cols()
	gocv.Resize(src, &small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	gocv.Resize(src, &large, image.Pt(2*w, 2*h), 0, 0, gocv.InterpolationArea)

	var before detectors.Face
	for i := 0; i < 5; i++ {
		faces := tracker.Track(small, float64(i)/10)
		if len(faces) > 0 {
			before = faces[0]
		}
	}
	require.NotZero(t, before.TrackID, "the face is tracked at 320 px")
	faces := tracker.Track(large, 0.5)
	require.NotEmpty(t, faces)
	after := faces[0]
	require.NotEqual(t, before.TrackID, after.TrackID, "a new stretch for the detectors")
	require.True(t, after.Detected, "found where the scaled box says")
	require.InDelta(t, 2*before.Box.Min.X, after.Box.Min.X, float64(before.Box.Dx())/4)
	require.InDelta(t, 2*before.Box.Dx(), after.Box.Dx(), float64(before.Box.Dx())/4)
}
