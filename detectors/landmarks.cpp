#include "landmarks.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/array2d.h>
#include <dlib/serialize.h>

extern "C" {

Landmarker Landmarker_New(const char* path, char** err) {
    try {
        auto* sp = new dlib::shape_predictor();
        dlib::deserialize(path) >> *sp;
        return sp;
    } catch (const std::exception& e) {
        *err = strdup(e.what());
        return nullptr;
    }
}

void Landmarker_Close(Landmarker l) {
    delete static_cast<dlib::shape_predictor*>(l);
}

int Landmarker_Parts(Landmarker l) {
    return static_cast<int>(static_cast<dlib::shape_predictor*>(l)->num_parts());
}

int Landmarker_Fit(Landmarker l, const unsigned char* data, int rows, int cols, int step,
                   int x, int y, int w, int h, int* out, int max_points) {
    try {
        auto* sp = static_cast<dlib::shape_predictor*>(l);
        // Copy a margin around the box only: the predictor reads pixels
        // near the face.
        int mx = w / 2, my = h / 2;
        int x0 = std::max(0, x - mx), y0 = std::max(0, y - my);
        int x1 = std::min(cols, x + w + mx), y1 = std::min(rows, y + h + my);
        if (x1 <= x0 || y1 <= y0) return -1;
        dlib::array2d<unsigned char> img(y1 - y0, x1 - x0);
        for (int r = y0; r < y1; r++) {
            std::memcpy(&img[r - y0][0], data + static_cast<size_t>(r) * step + x0, x1 - x0);
        }
        dlib::rectangle box(x - x0, y - y0, x - x0 + w - 1, y - y0 + h - 1);
        dlib::full_object_detection shape = (*sp)(img, box);
        int n = std::min<int>(shape.num_parts(), max_points);
        for (int i = 0; i < n; i++) {
            out[2 * i] = static_cast<int>(shape.part(i).x()) + x0;
            out[2 * i + 1] = static_cast<int>(shape.part(i).y()) + y0;
        }
        return n;
    } catch (const std::exception&) {
        return -1;
    }
}

}
