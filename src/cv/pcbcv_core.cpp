// Threads, resizing, colour conversion.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;

extern "C" void
pcbcv_set_threads(int threads) noexcept
{
    try {
        cv::setNumThreads(threads > 0 ? threads : -1);
    }
    catch (...) {
    }
}

extern "C" int
pcbcv_get_threads(void) noexcept
{
    try {
        return cv::getNumThreads();
    }
    catch (...) {
        return 1;
    }
}

extern "C" pcbcv_status
pcbcv_resize(const pcbcv_view *src, pcbcv_view *dst, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat s = as_mat(src), d = as_mat(dst);
        if (s.channels() != d.channels())
            return fail(PCBCV_E_ARG, msg, msglen, "resize: channel mismatch");
        const uchar *before = d.data;
        bool shrink = d.cols <= s.cols && d.rows <= s.rows;
        cv::resize(s, d, d.size(), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
        if (d.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "resize: output was reallocated");
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_gray(const pcbcv_view *src, pcbcv_view *dst, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat s = as_mat(src), d = as_mat(dst);
        if (d.channels() != 1 || d.size() != s.size())
            return fail(PCBCV_E_ARG, msg, msglen, "gray: bad output");
        const uchar *before = d.data;
        if (s.channels() == 1)
            s.copyTo(d);
        else
            cv::cvtColor(s, d, cv::COLOR_RGB2GRAY);
        if (d.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "gray: output was reallocated");
        return PCBCV_OK;
    });
}
