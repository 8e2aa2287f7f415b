// Private helpers of the shim (C++ only).
#ifndef PCBCV_INTERNAL_HPP
#define PCBCV_INTERNAL_HPP

#include <cstdio>
#include <cstring>
#include <new>
#include <opencv2/core.hpp>
#include "cv/pcbcv.h"

namespace pcbcv {

// A cv::Mat header over C-owned pixels: no copy, no ownership.
inline cv::Mat
as_mat(const pcbcv_view *v)
{
    if (v == nullptr || v->data == nullptr || v->width <= 0 || v->height <= 0
        || (v->channels != 1 && v->channels != 3)
        || v->stride < (size_t) v->width * (size_t) v->channels)
        throw std::invalid_argument("bad image view");
    return cv::Mat(v->height, v->width, CV_8UC(v->channels), v->data, v->stride);
}

inline cv::Mat
as_fmat(const pcbcv_fview *v)
{
    if (v == nullptr || v->data == nullptr || v->width <= 0 || v->height <= 0
        || (v->channels != 1 && v->channels != 3)
        || v->stride < (size_t) v->width * (size_t) v->channels * sizeof(float))
        throw std::invalid_argument("bad float view");
    return cv::Mat(v->height, v->width, CV_32FC(v->channels), v->data, v->stride);
}

inline pcbcv_status
fail(pcbcv_status status, char *msg, size_t msglen, const char *text)
{
    if (msg != nullptr && msglen > 0)
        std::snprintf(msg, msglen, "%s", text);
    return status;
}

// Every entry point runs its body through this: exceptions become a status and a message.
template <typename F>
pcbcv_status
guarded(char *msg, size_t msglen, F &&body) noexcept
{
    try {
        return body();
    }
    catch (const cv::Exception &e) {
        return fail(PCBCV_E_OPENCV, msg, msglen, e.what());
    }
    catch (const std::bad_alloc &) {
        return fail(PCBCV_E_NOMEM, msg, msglen, "out of memory");
    }
    catch (const std::invalid_argument &e) {
        return fail(PCBCV_E_ARG, msg, msglen, e.what());
    }
    catch (const std::exception &e) {
        return fail(PCBCV_E_UNKNOWN, msg, msglen, e.what());
    }
    catch (...) {
        return fail(PCBCV_E_UNKNOWN, msg, msglen, "unknown C++ exception");
    }
}

inline cv::Matx33d
to_matx(const double h[9])
{
    return cv::Matx33d(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]);
}

} // namespace pcbcv

#endif
