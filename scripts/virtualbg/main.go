// Command virtualbg imitates a video call's background blur on a
// recording, to check that the face signals do not read it as a
// manipulation (docs/evaluation.md, "Background blur"): every frame is
// blurred outside a feathered head-and-shoulders shape that follows the
// largest frontal face (OpenCV's Haar cascade), as the segmentation of a
// call app keeps the person sharp. It writes the picture only (MJPEG in
// AVI); join the original sound with ffmpeg.
//
//	go run ./scripts/virtualbg IN.mp4 OUT.avi
//
// A real app's segmentation follows the hair and shoulders and flickers at
// their edges; this shape is an ellipse and a rectangle, so it measures the
// blur, not the flicker.
package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"

	"gocv.io/x/gocv"
)

const cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: virtualbg IN OUT.avi")
		os.Exit(64)
	}
	n, err := run(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "virtualbg:", err)
		os.Exit(1)
	}
	fmt.Printf("%d frames\n", n)
}

func run(in, out string) (int, error) {
	vc, err := gocv.VideoCaptureFile(in)
	if err != nil {
		return 0, err
	}
	defer vc.Close()
	fps := vc.Get(gocv.VideoCaptureFPS)
	w, h := int(vc.Get(gocv.VideoCaptureFrameWidth)), int(vc.Get(gocv.VideoCaptureFrameHeight))
	if w <= 0 || h <= 0 || fps <= 0 {
		return 0, errors.New("no video stream")
	}
	vw, err := gocv.VideoWriterFile(out, "MJPG", fps, w, h, true)
	if err != nil {
		return 0, err
	}
	defer vw.Close()
	if !vw.IsOpened() {
		return 0, fmt.Errorf("cannot write %s (an .avi path in a writable folder?)", out)
	}
	cc := gocv.NewCascadeClassifier()
	defer cc.Close()
	if !cc.Load(cascade) {
		return 0, fmt.Errorf("cannot load %s (apt-get install opencv-data)", cascade)
	}
	frame, grey, blurred := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer frame.Close()
	defer grey.Close()
	defer blurred.Close()
	mask, soft, sharp := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1), gocv.NewMat(), gocv.NewMat()
	defer mask.Close()
	defer soft.Close()
	defer sharp.Close()
	composite := gocv.NewMat()
	defer composite.Close()
	white := color.RGBA{255, 255, 255, 0}
	var face image.Rectangle // last face seen; kept through misses
	n := 0
	for vc.Read(&frame) && !frame.Empty() {
		if frame.Cols() != w || frame.Rows() != h {
			return n, fmt.Errorf("frame %d is %d×%d, not the stated %d×%d (a rotated or resized stream)", n, frame.Cols(), frame.Rows(), w, h)
		}
		gocv.CvtColor(frame, &grey, gocv.ColorBGRToGray)
		var largest image.Rectangle
		for _, r := range cc.DetectMultiScaleWithParams(grey, 1.1, 5, 0, image.Pt(w/10, w/10), image.Pt(w, h)) {
			if r.Dx() > largest.Dx() {
				largest = r
			}
		}
		if !largest.Empty() {
			face = largest
		}
		mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
		if face.Empty() {
			mask.SetTo(gocv.NewScalar(255, 0, 0, 0)) // no face yet: leave the frame sharp
		} else {
			c := image.Pt((face.Min.X+face.Max.X)/2, face.Min.Y+face.Dy()*3/5)
			gocv.EllipseWithParams(&mask, c, image.Pt(face.Dx()*9/10, face.Dy()*11/10), 0, 0, 360, white, -1, gocv.LineAA, 0)
			gocv.Rectangle(&mask, image.Rect(c.X-face.Dx()*3/2, c.Y+face.Dy()*4/5, c.X+face.Dx()*3/2, h), white, -1)
		}
		gocv.GaussianBlur(mask, &soft, image.Pt(21, 21), 0, 0, gocv.BorderDefault)
		gocv.GaussianBlur(frame, &blurred, image.Pt(41, 41), 0, 0, gocv.BorderDefault)
		// composite = frame·a + blurred·(1−a), a = soft/255, per channel.
		gocv.CvtColor(soft, &sharp, gocv.ColorGrayToBGR)
		sharp.ConvertToWithParams(&sharp, gocv.MatTypeCV32FC3, 1.0/255, 0)
		ff, bf := gocv.NewMat(), gocv.NewMat()
		frame.ConvertTo(&ff, gocv.MatTypeCV32FC3)
		blurred.ConvertTo(&bf, gocv.MatTypeCV32FC3)
		gocv.Subtract(ff, bf, &ff)    // frame − blurred
		gocv.Multiply(ff, sharp, &ff) // · a
		gocv.Add(ff, bf, &ff)         // + blurred
		ff.ConvertTo(&composite, gocv.MatTypeCV8UC3)
		ff.Close()
		bf.Close()
		if err := vw.Write(composite); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
