package detectors

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "brisque.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"unsafe"

	"gocv.io/x/gocv"
)

// Sentinel errors of the BRISQUE binding.
var (
	// ErrBrisqueUnavailable means the BRISQUE model could not be loaded
	// (opencv-data not installed, or unreadable model files).
	ErrBrisqueUnavailable = errors.New("BRISQUE model unavailable")
	// ErrBrisqueInput means the image cannot be scored (empty, wrong type).
	ErrBrisqueInput = errors.New("image cannot be scored by BRISQUE")
	// ErrBrisqueClosed means Score was called after Close.
	ErrBrisqueClosed = errors.New("BRISQUE model closed")
	// ErrCameraDetectorClosed means Observe was called after Close on a
	// camera-level detector (enhancement, virtual camera).
	ErrCameraDetectorClosed = errors.New("detector closed")
)

// brisqueMinSide is the smallest image side BRISQUE is asked to score: its
// features use 7×7 windows at full and half scale.
const brisqueMinSide = 32

// Brisque is OpenCV's BRISQUE no-reference image quality metric (Mittal et
// al. 2012; cv::quality::QualityBRISQUE), bound through a small cgo shim
// because gocv v0.31.0 has no binding for the quality module. Scores run
// from about 0 (pristine natural image) to 100 (badly degraded); blur,
// heavy denoising and compression raise it.
//
// The model is loaded once in NewBrisque and freed by Close. A Brisque is
// not safe for concurrent use.
type Brisque struct {
	m      C.BrisqueModel
	closed bool
}

// NewBrisque loads the BRISQUE model and range files (models.FaceModels
// .Brisque and .Range). Errors wrap ErrBrisqueUnavailable.
func NewBrisque(modelPath, rangePath string) (*Brisque, error) {
	if modelPath == "" || rangePath == "" {
		return nil, fmt.Errorf("%w: no model path given", ErrBrisqueUnavailable)
	}
	for _, p := range []string{modelPath, rangePath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBrisqueUnavailable, err)
		}
	}
	cm, cr := C.CString(modelPath), C.CString(rangePath)
	defer C.free(unsafe.Pointer(cm))
	defer C.free(unsafe.Pointer(cr))
	var buf [256]C.char
	m := C.bonafide_brisque_new(cm, cr, &buf[0], C.int(len(buf)))
	if m == nil {
		return nil, fmt.Errorf("%w: %s", ErrBrisqueUnavailable, C.GoString(&buf[0]))
	}
	return &Brisque{m: m}, nil
}

// Score returns the BRISQUE score of img (8-bit grey or BGR, at least
// 32×32). It does not keep img. Errors wrap ErrBrisqueInput or
// ErrBrisqueClosed.
func (b *Brisque) Score(img gocv.Mat) (float64, error) {
	if b.closed {
		return 0, ErrBrisqueClosed
	}
	if img.Empty() || img.Rows() < brisqueMinSide || img.Cols() < brisqueMinSide {
		return 0, fmt.Errorf("%w: %dx%d image", ErrBrisqueInput, img.Cols(), img.Rows())
	}
	if t := img.Type(); t != gocv.MatTypeCV8UC1 && t != gocv.MatTypeCV8UC3 {
		return 0, fmt.Errorf("%w: Mat type %v", ErrBrisqueInput, t)
	}
	var score C.double
	var buf [256]C.char
	if rc := C.bonafide_brisque_compute(b.m, unsafe.Pointer(img.Ptr()), &score, &buf[0], C.int(len(buf))); rc != 0 {
		return 0, fmt.Errorf("%w: %s", ErrBrisqueInput, C.GoString(&buf[0]))
	}
	s := float64(score)
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("%w: non-finite score", ErrBrisqueInput)
	}
	return s, nil
}

// Close frees the model. It is idempotent.
func (b *Brisque) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	C.bonafide_brisque_free(b.m)
	b.m = nil
	return nil
}
