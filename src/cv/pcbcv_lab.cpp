// sRGB (8 bits) to CIELab, the colour space the difference is measured in.
//
// OpenCV's 8-bit RGB2Lab spends ~0.1 s of CPU building its tables on first use in each process
// and ~120 ms per 24 MP image on this machine; this conversion needs no set-up beyond a
// 256-entry table and measured 85-90 ms on the bench's 24 MP reference. Output uses OpenCV's
// 8-bit scaling (L* * 255 / 100, a* + 128, b* + 128) and stays within 1 of the textbook
// formula (tests/unit/test-diff.c checks it over a grid of colours).
//
// Built with -fno-trapping-math (Makefile) so GCC vectorises the selects; the arithmetic loop
// is a row kernel (cloned for AVX2).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;

namespace {

// sRGB byte -> linear light
struct Linear {
    float v[256];
    Linear()
    {
        for (int i = 0; i < 256; i++) {
            double s = i / 255.0;
            v[i] = (float) (s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4));
        }
    }
};

const Linear &
linear()
{
    static const Linear table; // thread-safe, a few microseconds
    return table;
}

// Lab's f(t): the cube root above (6/29)^3, its tangent line below. The root comes from
// t^(-1/3) (a bit-level first guess, then two Newton steps that need no division).
inline float
lab_f(float t)
{
    const float knee = 0.008856f;
    float u = std::max(t, knee);
    union {
        float f;
        int32_t i;
    } b;
    b.f = u;
    b.i = 0x54a2fa8c - (int32_t) ((float) b.i * (1.0f / 3));
    float y = b.f;
    y = y * (4.0f - u * y * y * y) * (1.0f / 3);
    y = y * (4.0f - u * y * y * y) * (1.0f / 3);
    return t > knee ? u * y * y : 7.787f * t + 16.0f / 116;
}

inline uchar
to_byte(float v)
{
    return (uchar) (int) std::min(std::max(v, 0.0f), 255.0f);
}

PCBCV_ROW_KERNEL void
lab_planes(const float *__restrict r, const float *__restrict g, const float *__restrict b,
           uchar *__restrict lo, uchar *__restrict ao, uchar *__restrict bo, int n)
{
    // linear sRGB (D65) -> XYZ, each row divided by the white point's component
    const float m0 = 0.412453f / 0.950456f, m1 = 0.357580f / 0.950456f, m2 = 0.180423f / 0.950456f;
    const float m3 = 0.212671f, m4 = 0.715160f, m5 = 0.072169f;
    const float m6 = 0.019334f / 1.088754f, m7 = 0.119193f / 1.088754f, m8 = 0.950227f / 1.088754f;
    for (int i = 0; i < n; i++) {
        float fx = lab_f(m0 * r[i] + m1 * g[i] + m2 * b[i]);
        float fy = lab_f(m3 * r[i] + m4 * g[i] + m5 * b[i]);
        float fz = lab_f(m6 * r[i] + m7 * g[i] + m8 * b[i]);
        lo[i] = to_byte((116.0f * fy - 16.0f) * (255.0f / 100) + 0.5f);
        ao[i] = to_byte(500.0f * (fx - fy) + 128.5f);
        bo[i] = to_byte(200.0f * (fy - fz) + 128.5f);
    }
}

} // namespace

namespace pcbcv {

void
rgb_to_lab(const cv::Mat &rgb, cv::Mat &lab)
{
    if (rgb.type() != CV_8UC3)
        throw std::invalid_argument("Lab: 8-bit RGB expected");
    lab.create(rgb.size(), CV_8UC3);
    const float *lin = linear().v;
    // chunks small enough for the planes to stay in L1
    const int chunk = 1024;
    std::vector<float> planes(3 * chunk);
    std::vector<uchar> out(3 * chunk);
    float *r = planes.data(), *g = r + chunk, *b = g + chunk;
    uchar *lo = out.data(), *ao = lo + chunk, *bo = ao + chunk;
    for (int y = 0; y < rgb.rows; y++) {
        const uchar *s = rgb.ptr<uchar>(y);
        uchar *d = lab.ptr<uchar>(y);
        for (int x0 = 0; x0 < rgb.cols; x0 += chunk) {
            const int n = std::min(chunk, rgb.cols - x0);
            const uchar *sp = s + 3 * x0;
            for (int i = 0; i < n; i++) {
                r[i] = lin[sp[3 * i]];
                g[i] = lin[sp[3 * i + 1]];
                b[i] = lin[sp[3 * i + 2]];
            }
            lab_planes(r, g, b, lo, ao, bo, n);
            uchar *dp = d + 3 * x0;
            for (int i = 0; i < n; i++) {
                dp[3 * i] = lo[i];
                dp[3 * i + 1] = ao[i];
                dp[3 * i + 2] = bo[i];
            }
        }
    }
}

} // namespace pcbcv

extern "C" pcbcv_status
pcbcv_rgb_to_lab(const pcbcv_view *rgb, pcbcv_view *lab, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat s = as_mat(rgb), d = as_mat(lab);
        if (s.channels() != 3 || d.channels() != 3 || s.size() != d.size())
            return fail(PCBCV_E_ARG, msg, msglen, "Lab: bad arguments");
        const uchar *before = d.data;
        pcbcv::rgb_to_lab(s, d);
        if (d.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "Lab: output was reallocated");
        return PCBCV_OK;
    });
}
