// Tile phase correlation, homography fits, and the warp's resampling.
#include <cmath>
#include <vector>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_fmat;
using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;
using pcbcv::to_matx;

namespace {

// Warps the photo window that lands on reference square [x0, x0+n) x [y0, y0+n), shifted by
// (sx, sy), into a float patch.
void
warp_window(const cv::Mat &photo, const cv::Matx33d &h, double x0, double y0, int n, cv::Mat &patch)
{
    cv::Matx33d t(1, 0, x0, 0, 1, y0, 0, 0, 1);
    cv::Mat m(h * t);
    cv::Mat p8;
    cv::warpPerspective(photo, p8, m, cv::Size(n, n), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                        cv::BORDER_REPLICATE);
    p8.convertTo(patch, CV_32F);
}

} // namespace

extern "C" pcbcv_status
pcbcv_tile_shifts(const pcbcv_view *reference, const pcbcv_view *photo,
                  const double h_ref_to_photo[9], int tile, pcbcv_tile *tiles, int ntiles,
                  char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo);
        if (ref.channels() != 1 || pho.channels() != 1 || tile < 16 || h_ref_to_photo == nullptr
            || ntiles < 0 || (ntiles > 0 && tiles == nullptr))
            return fail(PCBCV_E_ARG, msg, msglen, "tile_shifts: bad arguments");
        for (int i = 0; i < ntiles; i++)
            if (tiles[i].x0 < 0 || tiles[i].y0 < 0 || tiles[i].x0 > ref.cols - tile
                || tiles[i].y0 > ref.rows - tile)
                return fail(PCBCV_E_ARG, msg, msglen, "tile_shifts: a window leaves the reference");
        const cv::Matx33d h = to_matx(h_ref_to_photo);
        cv::Mat window;
        cv::createHanningWindow(window, cv::Size(tile, tile), CV_32F);
        cv::parallel_for_(cv::Range(0, ntiles), [&](const cv::Range &r) {
            cv::Mat rt, patch;
            for (int i = r.start; i < r.end; i++) {
                pcbcv_tile &t = tiles[i];
                ref(cv::Rect(t.x0, t.y0, tile, tile)).convertTo(rt, CV_32F);
                if (!t.remeasure) {
                    cv::Scalar mean, sd;
                    cv::meanStdDev(rt, mean, sd);
                    t.contrast = sd[0];
                }
                // phaseCorrelate weights its first input by the window in place when the side
                // is DFT-optimal (OpenCV 4.6): a re-measurement repeats that to see the
                // reference window as the first measurement left it.
                if (t.remeasure && cv::getOptimalDFTSize(tile) == tile)
                    cv::multiply(window, rt, rt);
                warp_window(pho, h, t.x0 + t.sx, t.y0 + t.sy, tile, patch);
                // patch(x) = ref(x - s) for the window shifted by (sx, sy): the photo content
                // of ref point q lies at q + (sx, sy) + s.
                cv::Point2d s = cv::phaseCorrelate(rt, patch, window, &t.response);
                t.dx = s.x;
                t.dy = s.y;
            }
        });
        return PCBCV_OK;
    });
}

namespace {

template <typename T>
pcbcv_status
fit_homography(const T *src_xy, const T *dst_xy, int n, const pcbcv_fit_opts *opts, double h[9],
               unsigned char *mask, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        if (n < 4)
            return fail(PCBCV_E_NOMATCH, msg, msglen, "fewer than 4 points");
        if (src_xy == nullptr || dst_xy == nullptr || h == nullptr)
            return fail(PCBCV_E_ARG, msg, msglen, "fit: no points or no output");
        std::vector<cv::Point_<T> > s(n), d(n);
        for (int i = 0; i < n; i++) {
            s[i] = cv::Point_<T>(src_xy[2 * i], src_xy[2 * i + 1]);
            d[i] = cv::Point_<T>(dst_xy[2 * i], dst_xy[2 * i + 1]);
        }
        const bool robust = opts != nullptr && opts->robust;
        std::vector<uchar> m;
        cv::Mat H = robust ? cv::findHomography(s, d, cv::USAC_MAGSAC, opts->thresh_px, m,
                                                opts->max_iters, opts->confidence)
                           : cv::findHomography(s, d, 0);
        if (H.empty())
            return fail(PCBCV_E_NOMATCH, msg, msglen, "no homography");
        H /= H.at<double>(2, 2);
        if (!cv::checkRange(H)) // degenerate, non-finite points
            return fail(PCBCV_E_NOMATCH, msg, msglen, "no finite homography");
        for (int i = 0; i < 9; i++)
            h[i] = H.at<double>(i / 3, i % 3);
        if (mask != nullptr)
            for (int i = 0; i < n; i++)
                mask[i] = robust ? (i < (int) m.size() && m[i] ? 1 : 0) : 1;
        return PCBCV_OK;
    });
}

} // namespace

extern "C" pcbcv_status
pcbcv_fit_homography(const double *src_xy, const double *dst_xy, int n, const pcbcv_fit_opts *opts,
                     double h[9], unsigned char *mask, char *msg, size_t msglen) noexcept
{
    return fit_homography(src_xy, dst_xy, n, opts, h, mask, msg, msglen);
}

extern "C" pcbcv_status
pcbcv_fit_homography_f(const float *src_xy, const float *dst_xy, int n, const pcbcv_fit_opts *opts,
                       double h[9], unsigned char *mask, char *msg, size_t msglen) noexcept
{
    return fit_homography(src_xy, dst_xy, n, opts, h, mask, msg, msglen);
}

extern "C" pcbcv_status
pcbcv_remap(const pcbcv_view *src, const pcbcv_fview *map_x, const pcbcv_fview *map_y,
            pcbcv_view *dst, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        const cv::Mat s = as_mat(src), mx = as_fmat(map_x), my = as_fmat(map_y);
        cv::Mat d = as_mat(dst);
        if (d.type() != s.type() || mx.channels() != 1 || my.channels() != 1
            || mx.size() != d.size() || my.size() != d.size())
            return fail(PCBCV_E_ARG, msg, msglen, "remap: bad arguments");
        const uchar *before = d.data;
        cv::remap(s, d, mx, my, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
        if (d.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "remap: output was reallocated");
        return PCBCV_OK;
    });
}
