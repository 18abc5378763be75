// Implementation of brisque.h. Every OpenCV exception is caught here: none
// may cross into Go.
#include <cstring>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/quality.hpp>

#include "brisque.h"

namespace {

struct Holder {
    cv::Ptr<cv::quality::QualityBRISQUE> q;
};

void setErr(char* err, int errlen, const char* msg) {
    if (err == nullptr || errlen <= 0) {
        return;
    }
    std::strncpy(err, msg, static_cast<size_t>(errlen) - 1);
    err[errlen - 1] = '\0';
}

}  // namespace

BrisqueModel bonafide_brisque_new(const char* model, const char* range, char* err, int errlen) {
    try {
        Holder* h = new Holder();
        h->q = cv::quality::QualityBRISQUE::create(cv::String(model), cv::String(range));
        if (h->q.empty()) {
            delete h;
            setErr(err, errlen, "QualityBRISQUE::create returned an empty model");
            return nullptr;
        }
        return h;
    } catch (const std::exception& e) {
        setErr(err, errlen, e.what());
        return nullptr;
    }
}

int bonafide_brisque_compute(BrisqueModel m, void* img, double* score, char* err, int errlen) {
    if (m == nullptr || img == nullptr) {
        setErr(err, errlen, "nil model or image");
        return -1;
    }
    try {
        Holder* h = static_cast<Holder*>(m);
        cv::Mat* mat = static_cast<cv::Mat*>(img);
        cv::Scalar s = h->q->compute(*mat);
        *score = s[0];
        return 0;
    } catch (const std::exception& e) {
        setErr(err, errlen, e.what());
        return -1;
    }
}

void bonafide_brisque_free(BrisqueModel m) {
    delete static_cast<Holder*>(m);
}
