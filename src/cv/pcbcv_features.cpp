// Coarse registration's features: detect, select (a C callback), describe, ratio-tested matching.
#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <vector>
#include <opencv2/features2d.hpp>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;

namespace {

// Keeps the keypoints the C selection chooses, in its order.
void
select_keypoints(std::vector<cv::KeyPoint> &kp, cv::Size size, const pcbcv_match_opts *o)
{
    if (o->select == nullptr || kp.empty())
        return;
    const int n = (int) kp.size();
    std::vector<pcbcv_keypoint> pts(n);
    for (int i = 0; i < n; i++)
        pts[i] = { kp[i].pt.x, kp[i].pt.y, kp[i].response };
    std::vector<int> by_response(n), keep(n);
    std::iota(by_response.begin(), by_response.end(), 0);
    std::sort(by_response.begin(), by_response.end(),
              [&](int a, int b) { return kp[a].response > kp[b].response; });
    int kept = o->select(pts.data(), by_response.data(), n, size.width, size.height, keep.data(),
                         o->select_user);
    std::vector<cv::KeyPoint> out;
    out.reserve(std::max(0, kept));
    for (int i = 0; i < kept; i++)
        out.push_back(kp[keep[i]]);
    kp.swap(out);
}

void
features(const cv::Mat &img, const pcbcv_match_opts *o, std::vector<cv::KeyPoint> &kp,
         cv::Mat &desc)
{
    cv::Ptr<cv::Feature2D> f;
    if (o->detector == PCBCV_DETECT_SIFT)
        f = cv::SIFT::create(o->detect_max, 3, o->sift_contrast, 10, 1.6);
    else
        f = cv::ORB::create(o->detect_max, 1.2f, 8, 31, 0, 2, cv::ORB::HARRIS_SCORE, 31,
                            o->orb_fast_threshold);
    f->detect(img, kp);
    select_keypoints(kp, img.size(), o);
    f->compute(img, kp, desc);
}

float *
xy_array(const std::vector<cv::Point2f> &pts)
{
    if (pts.empty())
        return nullptr;
    float *xy = (float *) std::malloc(pts.size() * 2 * sizeof(float));
    if (xy == nullptr)
        throw std::bad_alloc();
    for (size_t i = 0; i < pts.size(); i++) {
        xy[2 * i] = pts[i].x;
        xy[2 * i + 1] = pts[i].y;
    }
    return xy;
}

// Ratio-tested 2-NN brute-force matches, photo to reference, into @out.
void
match_knn(const std::vector<cv::KeyPoint> &kr, const cv::Mat &dr,
          const std::vector<cv::KeyPoint> &kp, const cv::Mat &dp, const pcbcv_match_opts *o,
          pcbcv_matches *out)
{
    out->ref_keypoints = (int) kr.size();
    out->photo_keypoints = (int) kp.size();
    if (dr.empty() || dp.empty())
        return;
    cv::BFMatcher matcher(o->detector == PCBCV_DETECT_SIFT ? cv::NORM_L2 : cv::NORM_HAMMING);
    std::vector<std::vector<cv::DMatch> > knn;
    matcher.knnMatch(dp, dr, knn, 2);
    std::vector<cv::Point2f> src, dst;
    for (const auto &m : knn) {
        if (m.size() == 2 && m[0].distance < o->ratio * m[1].distance) {
            src.push_back(kp[m[0].queryIdx].pt);
            dst.push_back(kr[m[0].trainIdx].pt);
        }
    }
    out->photo_xy = xy_array(src);
    try {
        out->ref_xy = xy_array(dst);
    }
    catch (...) {
        std::free(out->photo_xy);
        out->photo_xy = nullptr;
        throw;
    }
    out->matches = (int) src.size();
}

} // namespace

struct pcbcv_features {
    std::vector<cv::KeyPoint> kp;
    cv::Mat desc;
    pcbcv_detector detector;
};

extern "C" pcbcv_status
pcbcv_features_detect(const pcbcv_view *grey, const pcbcv_match_opts *o, pcbcv_features **out,
                      char *msg, size_t msglen) noexcept
{
    if (o == nullptr || out == nullptr)
        return fail(PCBCV_E_ARG, msg, msglen, "features: no options or no output");
    *out = nullptr;
    return guarded(msg, msglen, [&]() {
        cv::Mat img = as_mat(grey);
        if (img.channels() != 1)
            return fail(PCBCV_E_ARG, msg, msglen, "features: a grey view expected");
        auto *f = new pcbcv_features();
        f->detector = o->detector;
        if (std::min(img.cols, img.rows) >= 3) { // as pcbcv_match_features: none below 3 px
            try {
                cv::setRNGSeed((int) o->seed);
                features(img, o, f->kp, f->desc);
            }
            catch (...) {
                delete f;
                throw;
            }
        }
        *out = f;
        return PCBCV_OK;
    });
}

extern "C" void
pcbcv_features_free(pcbcv_features *f) noexcept
{
    delete f;
}

extern "C" pcbcv_status
pcbcv_match_to(const pcbcv_features *reference, const pcbcv_view *photo, const pcbcv_match_opts *o,
               pcbcv_matches *out, char *msg, size_t msglen) noexcept
{
    if (reference == nullptr || o == nullptr || out == nullptr)
        return fail(PCBCV_E_ARG, msg, msglen, "match: no features, options or output");
    if (reference->detector != o->detector)
        return fail(PCBCV_E_ARG, msg, msglen, "match: the features are another detector's");
    *out = pcbcv_matches();
    return guarded(msg, msglen, [&]() {
        cv::Mat pho = as_mat(photo);
        if (pho.channels() != 1)
            return fail(PCBCV_E_ARG, msg, msglen, "match: a grey view expected");
        if (std::min(pho.cols, pho.rows) < 3)
            return fail(PCBCV_E_NOMATCH, msg, msglen, "match: an image is under 3 px wide or high");
        cv::setRNGSeed((int) o->seed);
        std::vector<cv::KeyPoint> kp;
        cv::Mat dp;
        features(pho, o, kp, dp);
        match_knn(reference->kp, reference->desc, kp, dp, o, out);
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_match_features(const pcbcv_view *reference, const pcbcv_view *photo,
                     const pcbcv_match_opts *o, pcbcv_matches *out, char *msg,
                     size_t msglen) noexcept
{
    if (o == nullptr || out == nullptr)
        return fail(PCBCV_E_ARG, msg, msglen, "match: no options or no output");
    *out = pcbcv_matches();
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo);
        if (ref.channels() != 1 || pho.channels() != 1)
            return fail(PCBCV_E_ARG, msg, msglen, "match: grey views expected");
        // ORB's pyramid and SIFT's octaves need 3 px on each side
        if (std::min({ ref.cols, ref.rows, pho.cols, pho.rows }) < 3)
            return fail(PCBCV_E_NOMATCH, msg, msglen, "match: an image is under 3 px wide or high");
        cv::setRNGSeed((int) o->seed);
        std::vector<cv::KeyPoint> kr, kp;
        cv::Mat dr, dp;
        // the two images' features are independent: one per thread
        cv::parallel_for_(cv::Range(0, 2), [&](const cv::Range &r) {
            for (int i = r.start; i < r.end; i++) {
                if (i == 0)
                    features(ref, o, kr, dr);
                else
                    features(pho, o, kp, dp);
            }
        });
        match_knn(kr, dr, kp, dp, o, out);
        return PCBCV_OK;
    });
}
