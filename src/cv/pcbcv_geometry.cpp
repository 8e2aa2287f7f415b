// Tile phase correlation, homography fits, and the single warp.
#include <cmath>
#include <vector>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include "cv/pcbcv_internal.hpp"

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
        if (ref.channels() != 1 || pho.channels() != 1 || tile < 16)
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

// The warp's per-pixel coordinate loops stay in the shim: they fill cv::remap's maps band by
// band inside one parallel_for_, and the file is built -O3 so GCC vectorises them.
namespace {

// 255 where the photo coordinates fall inside the photo, else 0.
void
covered_row(const float *__restrict px, const float *__restrict py, float pw, float ph,
            uchar *__restrict v, int cols)
{
    for (int x = 0; x < cols; x++)
        v[x] = (px[x] >= 0 && py[x] >= 0 && px[x] <= pw && py[x] <= ph) ? 255 : 0;
}

// Photo coordinates through the homography @m of reference pixels x0 .. x1-1 on row y,
// displaced by the field (ox + (x - base) * sx, oy + (x - base) * sy).
void
warp_span(const float *__restrict m, int x0, int x1, float y, float ox, float oy, float sx,
          float sy, float base, float *__restrict px, float *__restrict py)
{
    const float h00 = m[0], h01 = m[1], h02 = m[2], h10 = m[3], h11 = m[4], h12 = m[5];
    const float h20 = m[6], h21 = m[7], h22 = m[8];
    for (int x = x0; x < x1; x++) {
        float t = (float) x - base;
        float qx = (float) x + ox + t * sx, qy = y + oy + t * sy;
        float w = h20 * qx + h21 * qy + h22;
        bool ok = w > 1e-12f;
        float iw = 1.0f / (ok ? w : 1.0f);
        px[x] = ok ? (h00 * qx + h01 * qy + h02) * iw : -10.0f;
        py[x] = ok ? (h10 * qx + h11 * qy + h12) * iw : -10.0f;
    }
}

// Photo coordinates of one row of reference pixels: q = (x, y) + field(x, y), then
// h_ref_to_photo. The field is bilinear between its nodes, so along a row it is linear
// between node columns: each span is a straight, vectorisable loop. Single precision is
// ample: remap resolves 1/32 px.
void
warp_row(const cv::Matx33d &h, const pcbcv_field *field, int y, int cols, float *px, float *py,
         std::vector<float> &ndx, std::vector<float> &ndy)
{
    const float m[9]
        = { (float) h(0, 0), (float) h(0, 1), (float) h(0, 2), (float) h(1, 0), (float) h(1, 1),
            (float) h(1, 2), (float) h(2, 0), (float) h(2, 1), (float) h(2, 2) };
    auto span = [&](int x0, int x1, float ox, float oy, float sx, float sy, float base) {
        warp_span(m, x0, x1, (float) y, ox, oy, sx, sy, base, px, py);
    };
    if (field == nullptr) {
        span(0, cols, 0, 0, 0, 0, 0);
        return;
    }
    double gy = std::min(std::max(y / field->step_y, 0.0), field->rows - 1.0);
    int iy = std::min((int) gy, field->rows - 2);
    float fy = (float) (gy - iy);
    const float *dx0 = field->dx + (size_t) iy * field->cols, *dx1 = dx0 + field->cols;
    const float *dy0 = field->dy + (size_t) iy * field->cols, *dy1 = dy0 + field->cols;
    for (int i = 0; i < field->cols; i++) {
        ndx[i] = dx0[i] + fy * (dx1[i] - dx0[i]);
        ndy[i] = dy0[i] + fy * (dy1[i] - dy0[i]);
    }
    int x = 0;
    for (int i = 0; i + 1 < field->cols && x < cols; i++) {
        double base = i * field->step_x;
        int end = i + 2 == field->cols ? cols : (int) std::ceil((i + 1) * field->step_x);
        end = std::min(end, cols);
        float sx = (float) ((ndx[i + 1] - ndx[i]) / field->step_x);
        float sy = (float) ((ndy[i + 1] - ndy[i]) / field->step_x);
        span(x, end, ndx[i], ndy[i], sx, sy, (float) base);
        x = end;
    }
}

} // namespace

extern "C" pcbcv_status
pcbcv_warp(const pcbcv_view *photo, const double h_ref_to_photo[9], const pcbcv_field *field,
           pcbcv_view *out, pcbcv_view *valid, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat pho = as_mat(photo), dst = as_mat(out);
        cv::Mat val = valid != nullptr ? as_mat(valid) : cv::Mat();
        if (dst.channels() != pho.channels()
            || (!val.empty() && (val.channels() != 1 || val.size() != dst.size())))
            return fail(PCBCV_E_ARG, msg, msglen, "warp: bad output views");
        if (field != nullptr
            && (field->cols < 2 || field->rows < 2 || field->step_x <= 0 || field->step_y <= 0
                || !field->dx || !field->dy))
            return fail(PCBCV_E_ARG, msg, msglen, "warp: bad field");
        const cv::Matx33d h = to_matx(h_ref_to_photo);
        const int band = 32;
        const int nb = (dst.rows + band - 1) / band;
        const float pw = (float) (pho.cols - 1), ph = (float) (pho.rows - 1);
        cv::parallel_for_(cv::Range(0, nb), [&](const cv::Range &r) {
            cv::Mat mx(band, dst.cols, CV_32F), my(band, dst.cols, CV_32F);
            std::vector<float> ndx(field ? field->cols : 0), ndy(field ? field->cols : 0);
            for (int b = r.start; b < r.end; b++) {
                int y0 = b * band, rows = std::min(band, dst.rows - y0);
                for (int yy = 0; yy < rows; yy++)
                    warp_row(h, field, y0 + yy, dst.cols, mx.ptr<float>(yy), my.ptr<float>(yy), ndx,
                             ndy);
                cv::Mat mxr = mx.rowRange(0, rows), myr = my.rowRange(0, rows);
                cv::Mat ob = dst.rowRange(y0, y0 + rows);
                cv::remap(pho, ob, mxr, myr, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
                if (!val.empty())
                    for (int yy = 0; yy < rows; yy++)
                        covered_row(mxr.ptr<float>(yy), myr.ptr<float>(yy), pw, ph,
                                    val.ptr<uchar>(y0 + yy), dst.cols);
            }
        });
        return PCBCV_OK;
    });
}
