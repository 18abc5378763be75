package models

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrFaceModelsMissing means the OpenCV cascades or the landmark model
// were not found.
var ErrFaceModelsMissing = errors.New("face models not found (install the opencv-data and libdlib-data packages, or pass --cascades DIR)")

// FaceModels are the paths of the face models the analysis loads: OpenCV's
// cascade classifiers and BRISQUE model (Debian's opencv-data) and dlib's
// 68-point landmark model (Debian's libdlib-data).
type FaceModels struct {
	Frontal string // Haar frontal face (accurate; used around known faces)
	Profile string // Haar profile face (left-facing; mirrored for right)
	// FastFrontal and FastProfile are LBP cascades, several times faster
	// than Haar, used to scan whole frames for new faces. Empty when absent
	// (the Haar cascades are used instead).
	FastFrontal string
	FastProfile string
	Eyes        string // Haar eye detector (used for blinks)
	// Landmarks is dlib's 68-point shape predictor (Debian's libdlib-data).
	Landmarks string
	Brisque   string // BRISQUE model (image quality), empty when absent
	Range     string // BRISQUE range file
}

// DefaultLandmarkFiles are searched, in order, for the landmark model.
var DefaultLandmarkFiles = []string{
	"/usr/share/dlib/shape_predictor_68_face_landmarks.dat",
	"/usr/local/share/dlib/shape_predictor_68_face_landmarks.dat",
}

// DefaultCascadeDirs are searched, in order, when no directory is given.
var DefaultCascadeDirs = []string{
	"/usr/share/opencv4",
	"/usr/local/share/opencv4",
	"/usr/share/opencv",
}

// LocateFaceModels finds the cascade files under dir (the opencv4 share
// folder or its haarcascades sub-folder), or under DefaultCascadeDirs when
// dir is empty.
func LocateFaceModels(dir string) (FaceModels, error) {
	dirs := DefaultCascadeDirs
	if dir != "" {
		dirs = []string{dir}
	}
	for _, d := range dirs {
		for _, hd := range []string{filepath.Join(d, "haarcascades"), d} {
			fm := FaceModels{
				Frontal: filepath.Join(hd, "haarcascade_frontalface_alt2.xml"),
				Profile: filepath.Join(hd, "haarcascade_profileface.xml"),
				Eyes:    filepath.Join(hd, "haarcascade_eye_tree_eyeglasses.xml"),
			}
			if !exists(fm.Frontal) || !exists(fm.Profile) {
				continue
			}
			if !exists(fm.Eyes) {
				fm.Eyes = ""
			}
			lbp := filepath.Join(filepath.Dir(hd), "lbpcascades")
			if hd == d {
				lbp = filepath.Join(d, "..", "lbpcascades")
			}
			if f := filepath.Join(lbp, "lbpcascade_frontalface.xml"); exists(f) {
				fm.FastFrontal = f
			}
			if f := filepath.Join(lbp, "lbpcascade_profileface.xml"); exists(f) {
				fm.FastProfile = f
			}
			for _, qd := range []string{filepath.Join(d, "quality"), filepath.Join(filepath.Dir(hd), "quality")} {
				m, r := filepath.Join(qd, "brisque_model_live.yml"), filepath.Join(qd, "brisque_range_live.yml")
				if exists(m) && exists(r) {
					fm.Brisque, fm.Range = m, r
					break
				}
			}
			for _, l := range DefaultLandmarkFiles {
				if exists(l) {
					fm.Landmarks = l
					break
				}
			}
			if fm.Landmarks == "" {
				return FaceModels{}, fmt.Errorf("%w: no face landmark model in %v (install the libdlib-data package)", ErrFaceModelsMissing, DefaultLandmarkFiles)
			}
			return fm, nil
		}
	}
	return FaceModels{}, fmt.Errorf("%w: searched %v", ErrFaceModelsMissing, dirs)
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
