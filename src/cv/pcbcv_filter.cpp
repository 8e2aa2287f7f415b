// Filters on C-owned views, and OpenCV's thread pool for C: sequences of OpenCV calls, no policy.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_fmat;
using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;

namespace {

int
smoothing_border(pcbcv_border b)
{
    switch (b) {
    case PCBCV_BORDER_REPLICATE:
        return cv::BORDER_REPLICATE;
    case PCBCV_BORDER_ZERO:
        return cv::BORDER_CONSTANT;
    default:
        return cv::BORDER_DEFAULT;
    }
}

} // namespace

extern "C" pcbcv_status
pcbcv_parallel_for(int n, void (*fn)(void *ctx, int begin, int end), void *ctx, char *msg,
                   size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        if (n > 0 && fn == nullptr)
            return fail(PCBCV_E_ARG, msg, msglen, "parallel_for: no function");
        if (n > 0)
            cv::parallel_for_(cv::Range(0, n),
                              [&](const cv::Range &r) { fn(ctx, r.start, r.end); });
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_gaussian(const pcbcv_view *src, int x, int y, pcbcv_view *dst, int ksize, double sigma,
               pcbcv_border border, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        const cv::Mat s = as_mat(src);
        cv::Mat d = as_mat(dst);
        const cv::Rect r(x, y, d.cols, d.rows);
        if (s.type() != d.type() || (r & cv::Rect(0, 0, s.cols, s.rows)) != r)
            return fail(PCBCV_E_ARG, msg, msglen, "gaussian: bad arguments");
        const uchar *before = d.data;
        cv::GaussianBlur(s(r), d, cv::Size(ksize, ksize), sigma, sigma, smoothing_border(border));
        if (d.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "gaussian: output was reallocated");
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_gaussian_f(const pcbcv_fview *src, pcbcv_fview *dst, int ksize, double sigma,
                 pcbcv_border border, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        const cv::Mat s = as_fmat(src);
        cv::Mat d = as_fmat(dst);
        if (s.type() != d.type() || s.size() != d.size())
            return fail(PCBCV_E_ARG, msg, msglen, "gaussian: bad arguments");
        const uchar *before = d.data;
        cv::GaussianBlur(s, d, cv::Size(ksize, ksize), sigma, sigma, smoothing_border(border));
        if (d.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "gaussian: output was reallocated");
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_morph(const pcbcv_view *src, pcbcv_view *dst, int dilate, int ksize, pcbcv_border border,
            char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        const cv::Mat s = as_mat(src);
        cv::Mat d = as_mat(dst);
        if (s.type() != d.type() || s.size() != d.size() || ksize < 1 || s.data == d.data)
            return fail(PCBCV_E_ARG, msg, msglen, "morphology: bad arguments");
        const cv::Mat k = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(ksize, ksize));
        const uchar *before = d.data;
        // the default: a neutral value beyond the edges (morphologyDefaultBorderValue)
        const int mode
            = border == PCBCV_BORDER_DEFAULT ? cv::BORDER_CONSTANT : smoothing_border(border);
        const cv::Scalar value
            = border == PCBCV_BORDER_DEFAULT ? cv::morphologyDefaultBorderValue() : cv::Scalar(0);
        if (dilate)
            cv::dilate(s, d, k, cv::Point(-1, -1), 1, mode, value);
        else
            cv::erode(s, d, k, cv::Point(-1, -1), 1, mode, value);
        if (d.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "morphology: output was reallocated");
        return PCBCV_OK;
    });
}
