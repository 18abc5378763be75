#ifndef BONAFIDE_LANDMARKS_H
#define BONAFIDE_LANDMARKS_H
#ifdef __cplusplus
extern "C" {
#endif

typedef void* Landmarker;

// Landmarker_New loads a dlib shape predictor; on failure it returns NULL
// and sets *err to a message the caller frees with free().
Landmarker Landmarker_New(const char* path, char** err);
void Landmarker_Close(Landmarker l);
// Landmarker_Parts returns the number of points the model predicts.
int Landmarker_Parts(Landmarker l);
// Landmarker_Fit predicts the points of the face in box (x, y, w, h) of an
// 8-bit grey image (rows × cols, row stride step) into out (2 ints per
// point, x then y). It returns the number of points, or -1 on error.
int Landmarker_Fit(Landmarker l, const unsigned char* data, int rows, int cols, int step,
                   int x, int y, int w, int h, int* out, int max_points);

#ifdef __cplusplus
}
#endif
#endif
