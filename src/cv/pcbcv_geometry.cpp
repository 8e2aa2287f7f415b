// Fine registration (tile phase correlation), homography fits, and the single warp.
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

bool
inside(const cv::Matx33d &h, double x, double y, int w, int hgt)
{
    cv::Vec3d p = h * cv::Vec3d(x, y, 1.0);
    if (p[2] <= 1e-12)
        return false;
    double px = p[0] / p[2], py = p[1] / p[2];
    return px >= 0 && py >= 0 && px <= w - 1 && py <= hgt - 1;
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
        const cv::Matx33d h = to_matx(h_ref_to_photo);
        cv::Mat window;
        cv::createHanningWindow(window, cv::Size(tile, tile), CV_32F);
        cv::parallel_for_(cv::Range(0, ntiles), [&](const cv::Range &r) {
            cv::Mat rt, patch;
            for (int i = r.start; i < r.end; i++) {
                pcbcv_tile &t = tiles[i];
                t.ok = 0;
                t.dx = t.dy = t.response = t.contrast = 0;
                double x0 = std::floor(t.cx - tile / 2.0), y0 = std::floor(t.cy - tile / 2.0);
                if (x0 < 0 || y0 < 0 || x0 + tile > ref.cols || y0 + tile > ref.rows)
                    continue;
                if (!inside(h, x0, y0, pho.cols, pho.rows)
                    || !inside(h, x0 + tile, y0, pho.cols, pho.rows)
                    || !inside(h, x0, y0 + tile, pho.cols, pho.rows)
                    || !inside(h, x0 + tile, y0 + tile, pho.cols, pho.rows))
                    continue;
                ref(cv::Rect((int) x0, (int) y0, tile, tile)).convertTo(rt, CV_32F);
                cv::Scalar mean, sd;
                cv::meanStdDev(rt, mean, sd);
                t.contrast = sd[0];
                // Two passes: the second re-warps at the first estimate, so the estimate
                // converges to the centre of the window where the Hanning bias vanishes.
                double sx = 0, sy = 0, resp = 0;
                for (int pass = 0; pass < 2; pass++) {
                    warp_window(pho, h, x0 + sx, y0 + sy, tile, patch);
                    cv::Point2d s = cv::phaseCorrelate(rt, patch, window, &resp);
                    // patch(x) = ref(x - s) for the window shifted by (sx, sy): the photo content
                    // of ref point q lies at q + (sx, sy) + s.
                    sx += s.x;
                    sy += s.y;
                    if (std::fabs(sx) > tile / 3.0 || std::fabs(sy) > tile / 3.0)
                        break;
                }
                t.dx = sx;
                t.dy = sy;
                t.response = resp;
                t.ok = std::fabs(sx) <= tile / 3.0 && std::fabs(sy) <= tile / 3.0;
            }
        });
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_fit_homography(const double *src_xy, const double *dst_xy, int n, int robust, double thresh,
                     double h[9], unsigned char *mask, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        if (n < 4)
            return fail(PCBCV_E_NOMATCH, msg, msglen, "fewer than 4 points");
        std::vector<cv::Point2d> s(n), d(n);
        for (int i = 0; i < n; i++) {
            s[i] = cv::Point2d(src_xy[2 * i], src_xy[2 * i + 1]);
            d[i] = cv::Point2d(dst_xy[2 * i], dst_xy[2 * i + 1]);
        }
        std::vector<uchar> m;
        cv::Mat H = robust ? cv::findHomography(s, d, cv::USAC_MAGSAC, thresh, m, 10000, 0.9999)
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
            for (int b = r.start; b < r.end; b++) {
                int y0 = b * band, rows = std::min(band, dst.rows - y0);
                for (int yy = 0; yy < rows; yy++) {
                    float *px = mx.ptr<float>(yy), *py = my.ptr<float>(yy);
                    double y = y0 + yy;
                    const float *fdx0 = nullptr, *fdy0 = nullptr, *fdx1 = nullptr, *fdy1 = nullptr;
                    double fy = 0;
                    if (field != nullptr) {
                        double gy = std::min(std::max(y / field->step_y, 0.0), field->rows - 1.0);
                        int iy = std::min((int) gy, field->rows - 2);
                        fy = gy - iy;
                        fdx0 = field->dx + (size_t) iy * field->cols;
                        fdy0 = field->dy + (size_t) iy * field->cols;
                        fdx1 = fdx0 + field->cols;
                        fdy1 = fdy0 + field->cols;
                    }
                    for (int x = 0; x < dst.cols; x++) {
                        double qx = x, qy = y;
                        if (field != nullptr) {
                            double gx
                                = std::min(std::max(x / field->step_x, 0.0), field->cols - 1.0);
                            int ix = std::min((int) gx, field->cols - 2);
                            double fx = gx - ix;
                            double a = fdx0[ix] + fx * (fdx0[ix + 1] - fdx0[ix]);
                            double c = fdx1[ix] + fx * (fdx1[ix + 1] - fdx1[ix]);
                            qx += a + fy * (c - a);
                            a = fdy0[ix] + fx * (fdy0[ix + 1] - fdy0[ix]);
                            c = fdy1[ix] + fx * (fdy1[ix + 1] - fdy1[ix]);
                            qy += a + fy * (c - a);
                        }
                        double w = h(2, 0) * qx + h(2, 1) * qy + h(2, 2);
                        if (w <= 1e-12) {
                            px[x] = py[x] = -10.0f;
                            continue;
                        }
                        px[x] = (float) ((h(0, 0) * qx + h(0, 1) * qy + h(0, 2)) / w);
                        py[x] = (float) ((h(1, 0) * qx + h(1, 1) * qy + h(1, 2)) / w);
                    }
                }
                cv::Mat mxr = mx.rowRange(0, rows), myr = my.rowRange(0, rows);
                cv::Mat ob = dst.rowRange(y0, y0 + rows);
                cv::remap(pho, ob, mxr, myr, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
                if (!val.empty()) {
                    for (int yy = 0; yy < rows; yy++) {
                        const float *px = mxr.ptr<float>(yy), *py = myr.ptr<float>(yy);
                        uchar *v = val.ptr<uchar>(y0 + yy);
                        for (int x = 0; x < dst.cols; x++)
                            v[x] = (px[x] >= 0 && py[x] >= 0 && px[x] <= pw && py[x] <= ph) ? 255
                                                                                            : 0;
                    }
                }
            }
        });
        return PCBCV_OK;
    });
}
