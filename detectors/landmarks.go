package detectors

/*
#cgo pkg-config: dlib-1
#cgo CXXFLAGS: -std=c++14 -O3
#include <stdlib.h>
#include "landmarks.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"unsafe"

	"gocv.io/x/gocv"
)

// ErrLandmarks is wrapped by landmark model errors.
var ErrLandmarks = errors.New("face landmarks")

// Landmarks68 is the number of points of the iBUG 300-W scheme that
// dlib's shape_predictor_68_face_landmarks model predicts (jaw 0–16, brows
// 17–26, nose 27–35, eyes 36–47, mouth 48–67).
const Landmarks68 = 68

// Index ranges of the 68-point scheme.
var (
	LandmarkJaw       = [2]int{0, 17}
	LandmarkRightBrow = [2]int{17, 22} // subject's right = image left
	LandmarkLeftBrow  = [2]int{22, 27}
	LandmarkNose      = [2]int{27, 36}
	LandmarkRightEye  = [2]int{36, 42}
	LandmarkLeftEye   = [2]int{42, 48}
	LandmarkOuterLips = [2]int{48, 60}
	LandmarkInnerLips = [2]int{60, 68}
)

// Landmarker fits face landmarks with a dlib shape predictor (Debian's
// libdlib-data ships the 68-point model, CC0). Loading the model takes about
// a second, so one Landmarker is made per process and shared: Fit is safe
// for concurrent use. Close it once nobody uses it any more.
type Landmarker struct {
	mu     sync.RWMutex
	c      C.Landmarker
	closed bool
}

// NewLandmarker loads the model at path.
func NewLandmarker(path string) (*Landmarker, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	l := C.Landmarker_New(cpath, &cerr)
	if l == nil {
		msg := "unknown error"
		if cerr != nil {
			msg = C.GoString(cerr)
			C.free(unsafe.Pointer(cerr))
		}
		return nil, fmt.Errorf("%w: load %s: %s", ErrLandmarks, path, msg)
	}
	lm := &Landmarker{c: l}
	if n := int(C.Landmarker_Parts(l)); n != Landmarks68 {
		lm.Close()
		return nil, fmt.Errorf("%w: %s predicts %d points, want %d", ErrLandmarks, path, n, Landmarks68)
	}
	return lm, nil
}

// Fit returns the 68 landmarks of the face in box of an 8-bit grey Mat, in
// the Mat's pixel coordinates.
func (l *Landmarker) Fit(gray gocv.Mat, box image.Rectangle) ([]image.Point, error) {
	if gray.Type() != gocv.MatTypeCV8UC1 || gray.Empty() {
		return nil, fmt.Errorf("%w: need a non-empty 8-bit grey image", ErrLandmarks)
	}
	if box.Empty() {
		return nil, fmt.Errorf("%w: empty face box", ErrLandmarks)
	}
	data, err := gray.DataPtrUint8()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLandmarks, err)
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, fmt.Errorf("%w: landmarker closed", ErrLandmarks)
	}
	var out [2 * Landmarks68]C.int
	n := C.Landmarker_Fit(l.c, (*C.uchar)(unsafe.Pointer(&data[0])), C.int(gray.Rows()), C.int(gray.Cols()), C.int(gray.Step()),
		C.int(box.Min.X), C.int(box.Min.Y), C.int(box.Dx()), C.int(box.Dy()), &out[0], C.int(Landmarks68))
	if int(n) != Landmarks68 {
		return nil, fmt.Errorf("%w: fit failed", ErrLandmarks)
	}
	pts := make([]image.Point, Landmarks68)
	for i := range pts {
		pts[i] = image.Pt(int(out[2*i]), int(out[2*i+1]))
	}
	return pts, nil
}

// Close frees the model. It is idempotent; it waits for running Fits.
func (l *Landmarker) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		C.Landmarker_Close(l.c)
	}
	return nil
}
