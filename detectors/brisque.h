// Minimal C interface to OpenCV's BRISQUE quality metric (opencv_quality),
// which gocv v0.31.0 does not bind. See brisque.go.
#ifndef BONAFIDE_BRISQUE_H
#define BONAFIDE_BRISQUE_H

#ifdef __cplusplus
extern "C" {
#endif

// BrisqueModel is an opaque cv::Ptr<cv::quality::QualityBRISQUE>.
typedef void* BrisqueModel;

// bonafide_brisque_new loads the model and range files. It returns NULL and
// writes a message to err (size errlen) on failure.
BrisqueModel bonafide_brisque_new(const char* model, const char* range, char* err, int errlen);

// bonafide_brisque_compute scores img, a cv::Mat* (8-bit grey or BGR).
// It returns 0 and sets *score on success, -1 and writes err on failure.
int bonafide_brisque_compute(BrisqueModel m, void* img, double* score, char* err, int errlen);

// bonafide_brisque_free releases a model from bonafide_brisque_new.
void bonafide_brisque_free(BrisqueModel m);

#ifdef __cplusplus
}
#endif

#endif
