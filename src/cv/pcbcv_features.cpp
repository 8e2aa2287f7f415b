// Coarse registration: spread keypoints, ratio-tested matches, USAC MAGSAC++ homography.
#include <algorithm>
#include <cmath>
#include <vector>
#include <opencv2/calib3d.hpp>
#include <opencv2/features2d.hpp>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;

namespace {

// Keeps at most @keep keypoints, spread over a grid x grid layout: each cell first gets its
// share of its strongest points, then the strongest of the rest fill what is left.
void
spread(std::vector<cv::KeyPoint> &kp, cv::Size size, int grid, int keep)
{
    if ((int) kp.size() <= keep || grid < 1)
        return;
    std::sort(kp.begin(), kp.end(),
              [](const cv::KeyPoint &a, const cv::KeyPoint &b) { return a.response > b.response; });
    const int cells = grid * grid, quota = std::max(1, keep / cells);
    std::vector<int> taken(cells, 0);
    std::vector<cv::KeyPoint> out, rest;
    out.reserve(keep);
    for (const cv::KeyPoint &k : kp) {
        int cx = std::min(grid - 1, (int) (k.pt.x * grid / size.width));
        int cy = std::min(grid - 1, (int) (k.pt.y * grid / size.height));
        int &t = taken[cy * grid + cx];
        if (t < quota) {
            t++;
            out.push_back(k);
        }
        else
            rest.push_back(k);
    }
    for (size_t i = 0; i < rest.size() && (int) out.size() < keep; i++)
        out.push_back(rest[i]);
    kp.swap(out);
}

void
features(const cv::Mat &img, const pcbcv_match_opts *o, std::vector<cv::KeyPoint> &kp,
         cv::Mat &desc)
{
    cv::Ptr<cv::Feature2D> f;
    if (o->detector == PCBCV_DETECT_SIFT)
        f = cv::SIFT::create(o->max_features * 2, 3, 0.02, 10, 1.6);
    else
        f = cv::ORB::create(o->max_features * 3, 1.2f, 8, 31, 0, 2, cv::ORB::HARRIS_SCORE, 31, 8);
    f->detect(img, kp);
    spread(kp, img.size(), o->grid, o->max_features);
    f->compute(img, kp, desc);
}

} // namespace

extern "C" pcbcv_status
pcbcv_match_homography(const pcbcv_view *reference, const pcbcv_view *photo,
                       const pcbcv_match_opts *o, pcbcv_homography *out, char *msg,
                       size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo);
        if (ref.channels() != 1 || pho.channels() != 1)
            return fail(PCBCV_E_ARG, msg, msglen, "match: grey views expected");
        cv::setRNGSeed((int) o->seed);
        *out = pcbcv_homography();
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
        out->ref_keypoints = (int) kr.size();
        out->photo_keypoints = (int) kp.size();
        if (kr.size() < 8 || kp.size() < 8 || dr.empty() || dp.empty())
            return fail(PCBCV_E_NOMATCH, msg, msglen, "too few keypoints");

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
        out->matches = (int) src.size();
        if (src.size() < 8)
            return fail(PCBCV_E_NOMATCH, msg, msglen, "too few matches");

        std::vector<uchar> mask;
        cv::Mat H
            = cv::findHomography(src, dst, cv::USAC_MAGSAC, o->ransac_px, mask, 10000, 0.9999);
        if (H.empty())
            return fail(PCBCV_E_NOMATCH, msg, msglen, "no homography");
        H /= H.at<double>(2, 2);
        for (int i = 0; i < 9; i++)
            out->h[i] = H.at<double>(i / 3, i % 3);

        std::vector<cv::Point2f> in_src, proj;
        std::vector<int> idx;
        for (size_t i = 0; i < mask.size(); i++)
            if (mask[i]) {
                in_src.push_back(src[i]);
                idx.push_back((int) i);
            }
        out->inliers = (int) in_src.size();
        if (!in_src.empty()) {
            cv::perspectiveTransform(in_src, proj, H);
            double ss = 0;
            bool cell[16] = { false };
            for (size_t i = 0; i < proj.size(); i++) {
                const cv::Point2f &d = dst[idx[i]];
                ss += (proj[i].x - d.x) * (proj[i].x - d.x) + (proj[i].y - d.y) * (proj[i].y - d.y);
                int cx = std::min(3, std::max(0, (int) (d.x * 4 / ref.cols)));
                int cy = std::min(3, std::max(0, (int) (d.y * 4 / ref.rows)));
                cell[cy * 4 + cx] = true;
            }
            out->rms_px = std::sqrt(ss / (double) proj.size());
            out->spread = (double) std::count(cell, cell + 16, true) / 16.0;
        }
        return PCBCV_OK;
    });
}
