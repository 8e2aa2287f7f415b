// Photometric normalisation, the shift-tolerant difference score, regions, texture.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>
#include <opencv2/imgproc.hpp>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;

namespace {

// Robust sigma (1.4826 * MAD) of a - b over pixels where v is set, every @step-th pixel.
double
mad_sigma(const cv::Mat &a, const cv::Mat &b, const cv::Mat &v, int step)
{
    std::vector<long> hist(511, 0);
    long n = 0;
    for (int y = 0; y < a.rows; y += step) {
        const uchar *pa = a.ptr<uchar>(y), *pb = b.ptr<uchar>(y), *pv = v.ptr<uchar>(y);
        for (int x = 0; x < a.cols; x += step)
            if (pv[x]) {
                hist[pa[x] - pb[x] + 255]++;
                n++;
            }
    }
    if (n == 0)
        return 0;
    long acc = 0;
    int med = 0;
    for (; med < 511; med++) {
        acc += hist[med];
        if (2 * acc >= n)
            break;
    }
    std::vector<long> dev(512, 0);
    for (int i = 0; i < 511; i++)
        dev[std::abs(i - med)] += hist[i];
    acc = 0;
    int mad = 0;
    for (; mad < 512; mad++) {
        acc += dev[mad];
        if (2 * acc >= n)
            break;
    }
    // MAD of integer data is coarse: interpolate within the bin for a usable small sigma
    double below = (double) (acc - dev[mad]);
    double frac = dev[mad] > 0 ? ((double) n / 2 - below) / (double) dev[mad] : 0.5;
    return 1.4826 * std::max(0.0, mad - 0.5 + frac);
}

} // namespace

extern "C" pcbcv_status
pcbcv_normalise_light(const pcbcv_view *reference, pcbcv_view *photo, const pcbcv_view *valid,
                      int block, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo), val = as_mat(valid);
        if (ref.channels() != 3 || pho.channels() != 3 || val.channels() != 1
            || ref.size() != pho.size() || val.size() != ref.size() || block < 4)
            return fail(PCBCV_E_ARG, msg, msglen, "normalise: bad arguments");
        // Estimate on a reduced copy: 8 samples per block side.
        const int f = std::max(1, block / 8);
        cv::Size ss((ref.cols + f - 1) / f, (ref.rows + f - 1) / f);
        cv::Mat rs, ps, vs;
        cv::resize(ref, rs, ss, 0, 0, cv::INTER_AREA);
        cv::resize(pho, ps, ss, 0, 0, cv::INTER_AREA);
        cv::resize(val, vs, ss, 0, 0, cv::INTER_AREA);
        const cv::Mat &pt = ps;
        // Local affine correction: per channel, the photo's Gaussian-weighted local mean and
        // contrast (std) over about one block are matched to the reference's. Contrast ratios,
        // unlike a regression slope, do not shrink when the images are a pixel apart. The ratio
        // is pulled towards 1 where both are flat (lambda, grey levels squared).
        cv::Mat m, rf, pf;
        cv::threshold(vs, m, 249, 1.0, cv::THRESH_BINARY);
        m.convertTo(m, CV_32F);
        rs.convertTo(rf, CV_32FC3);
        pt.convertTo(pf, CV_32FC3);
        cv::Mat m3;
        cv::merge(std::vector<cv::Mat>{ m, m, m }, m3);
        const double sigma = 4.0; // in reduced pixels: half a block
        cv::Mat sm, sr, sp, srp, spp;
        cv::GaussianBlur(m, sm, cv::Size(), sigma);
        cv::GaussianBlur(rf.mul(m3), sr, cv::Size(), sigma);
        cv::GaussianBlur(pf.mul(m3), sp, cv::Size(), sigma);
        cv::GaussianBlur(rf.mul(rf).mul(m3), srp, cv::Size(), sigma);
        cv::GaussianBlur(pf.mul(pf).mul(m3), spp, cv::Size(), sigma);
        const float lambda = 64.0f;
        cv::Mat gain(ss, CV_32FC3), offs(ss, CV_32FC3);
        for (int y = 0; y < ss.height; y++) {
            const float *w = sm.ptr<float>(y), *a = sr.ptr<float>(y), *b = sp.ptr<float>(y);
            const float *ab = srp.ptr<float>(y), *bb = spp.ptr<float>(y);
            float *g = gain.ptr<float>(y), *o = offs.ptr<float>(y);
            for (int x = 0; x < ss.width; x++)
                for (int k = 0; k < 3; k++) {
                    int i = 3 * x + k;
                    float slope = 1.0f, off = 0.0f;
                    if (w[x] > 0.05f) {
                        float mr = a[i] / w[x], mp = b[i] / w[x];
                        float vr = ab[i] / w[x] - mr * mr, vp = bb[i] / w[x] - mp * mp;
                        slope = std::sqrt((std::max(vr, 0.0f) + lambda)
                                          / (std::max(vp, 0.0f) + lambda));
                        slope = std::min(1.6f, std::max(0.6f, slope));
                        off = mr - slope * mp;
                    }
                    g[i] = slope;
                    o[i] = off;
                }
        }
        // Apply at full resolution in bands: photo = photo * gain + offset (bilinear maps).
        std::vector<int> ix(pho.cols);
        std::vector<float> wx(pho.cols);
        for (int x = 0; x < pho.cols; x++) {
            double gx = std::min(std::max((x + 0.5) / f - 0.5, 0.0), ss.width - 1.0);
            ix[x] = std::min((int) gx, std::max(0, ss.width - 2));
            wx[x] = (float) (gx - ix[x]);
        }
        const bool one_col = ss.width < 2, one_row = ss.height < 2;
        cv::parallel_for_(cv::Range(0, pho.rows), [&](const cv::Range &r) {
            for (int y = r.start; y < r.end; y++) {
                double gy = std::min(std::max((y + 0.5) / f - 0.5, 0.0), ss.height - 1.0);
                int iy = one_row ? 0 : std::min((int) gy, ss.height - 2);
                float wy = one_row ? 0.0f : (float) (gy - iy);
                const float *g0 = gain.ptr<float>(iy), *g1 = gain.ptr<float>(one_row ? iy : iy + 1);
                const float *o0 = offs.ptr<float>(iy), *o1 = offs.ptr<float>(one_row ? iy : iy + 1);
                uchar *p = pho.ptr<uchar>(y);
                for (int x = 0; x < pho.cols; x++) {
                    int i0 = ix[x], i1 = one_col ? i0 : i0 + 1;
                    float w = one_col ? 0.0f : wx[x];
                    for (int k = 0; k < 3; k++) {
                        float a = g0[3 * i0 + k] + w * (g0[3 * i1 + k] - g0[3 * i0 + k]);
                        float b = g1[3 * i0 + k] + w * (g1[3 * i1 + k] - g1[3 * i0 + k]);
                        float g = a + wy * (b - a);
                        a = o0[3 * i0 + k] + w * (o0[3 * i1 + k] - o0[3 * i0 + k]);
                        b = o1[3 * i0 + k] + w * (o1[3 * i1 + k] - o1[3 * i0 + k]);
                        float off = a + wy * (b - a);
                        p[3 * x + k] = cv::saturate_cast<uchar>(p[3 * x + k] * g + off);
                    }
                }
            }
        });
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_diff_score(const pcbcv_view *reference, const pcbcv_view *photo, const pcbcv_view *valid,
                 int radius, double unit, pcbcv_view *score, double noise[3], char *msg,
                 size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo), val = as_mat(valid);
        cv::Mat out = as_mat(score);
        if (ref.channels() != 3 || pho.channels() != 3 || val.channels() != 1 || out.channels() != 1
            || ref.size() != pho.size() || val.size() != ref.size() || out.size() != ref.size()
            || radius < 0)
            return fail(PCBCV_E_ARG, msg, msglen, "diff: bad arguments");
        cv::Mat rl, pl;
        cv::cvtColor(ref, rl, cv::COLOR_RGB2Lab);
        cv::cvtColor(pho, pl, cv::COLOR_RGB2Lab);
        std::vector<cv::Mat> rc, pc;
        cv::split(rl, rc);
        cv::split(pl, pc);
        cv::Mat v;
        cv::Mat k
            = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * radius + 1, 2 * radius + 1));
        // the comparison needs whole neighbourhoods: off the image counts as uncovered
        cv::erode(
            val, v,
            cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * radius + 5, 2 * radius + 5)),
            cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));
        static const double floor_sigma[3] = { 1.5, 1.0, 1.0 };
        cv::Mat acc = cv::Mat::zeros(ref.size(), CV_32F);
        for (int c = 0; c < 3; c++) {
            double s = mad_sigma(pc[c], rc[c], v, 2);
            noise[c] = std::max(s, floor_sigma[c]);
            cv::Mat rmax, rmin, pmax, pmin, a, b, d1, d2, d;
            cv::dilate(rc[c], rmax, k);
            cv::erode(rc[c], rmin, k);
            cv::dilate(pc[c], pmax, k);
            cv::erode(pc[c], pmin, k);
            cv::subtract(pc[c], rmax, a); // saturating: 0 when inside the range
            cv::subtract(rmin, pc[c], b);
            cv::max(a, b, d1);
            cv::subtract(rc[c], pmax, a);
            cv::subtract(pmin, rc[c], b);
            cv::max(a, b, d2);
            cv::min(d1, d2, d);
            cv::Mat df;
            d.convertTo(df, CV_32F, 1.0 / noise[c]);
            cv::accumulateSquare(df, acc);
        }
        cv::sqrt(acc, acc);
        cv::GaussianBlur(acc, acc, cv::Size(3, 3), 0.8);
        const uchar *before = out.data;
        acc.convertTo(out, CV_8U, unit);
        if (out.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "diff: output was reallocated");
        out.setTo(0, v == 0);
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_regions(const pcbcv_view *score, const pcbcv_view *low_map, const pcbcv_view *high_map,
              pcbcv_region **regions, int *n, char *msg, size_t msglen) noexcept
{
    *regions = nullptr;
    *n = 0;
    return guarded(msg, msglen, [&]() {
        cv::Mat s = as_mat(score), lo = as_mat(low_map), hi = as_mat(high_map);
        if (s.channels() != 1 || lo.size() != s.size() || hi.size() != s.size())
            return fail(PCBCV_E_ARG, msg, msglen, "regions: bad arguments");
        cv::Mat above = s >= lo, strong = s >= hi, labels, stats, centroids;
        int count = cv::connectedComponentsWithStats(above, labels, stats, centroids, 8, CV_32S);
        std::vector<int> peak(count, 0);
        std::vector<char> hit(count, 0);
        std::vector<double> sum(count, 0);
        for (int y = 0; y < s.rows; y++) {
            const int *l = labels.ptr<int>(y);
            const uchar *sv = s.ptr<uchar>(y), *st = strong.ptr<uchar>(y);
            for (int x = 0; x < s.cols; x++)
                if (l[x] > 0) {
                    peak[l[x]] = std::max(peak[l[x]], (int) sv[x]);
                    sum[l[x]] += sv[x];
                    hit[l[x]] |= st[x] != 0;
                }
        }
        std::vector<pcbcv_region> out;
        for (int i = 1; i < count; i++) {
            if (!hit[i])
                continue;
            pcbcv_region r;
            r.x = stats.at<int>(i, cv::CC_STAT_LEFT);
            r.y = stats.at<int>(i, cv::CC_STAT_TOP);
            r.w = stats.at<int>(i, cv::CC_STAT_WIDTH);
            r.h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
            r.area = stats.at<int>(i, cv::CC_STAT_AREA);
            r.peak = peak[i];
            r.sum = sum[i];
            out.push_back(r);
        }
        if (!out.empty()) {
            *regions = (pcbcv_region *) std::malloc(out.size() * sizeof(pcbcv_region));
            if (*regions == nullptr)
                throw std::bad_alloc();
            std::copy(out.begin(), out.end(), *regions);
        }
        *n = (int) out.size();
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_local_background(pcbcv_view *score, const pcbcv_view *valid, int cell, int radius,
                       double quantile, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat s = as_mat(score), val = as_mat(valid);
        if (s.channels() != 1 || val.channels() != 1 || s.size() != val.size() || cell < 2
            || radius < 1 || !(quantile > 0 && quantile < 1))
            return fail(PCBCV_E_ARG, msg, msglen, "local background: bad arguments");
        const int cw = (s.cols + cell - 1) / cell, ch = (s.rows + cell - 1) / cell;
        cv::Mat q(ch, cw, CV_32F, cv::Scalar(0)), has(ch, cw, CV_8U, cv::Scalar(0));
        cv::parallel_for_(cv::Range(0, ch), [&](const cv::Range &rr) {
            std::vector<int> hist(256);
            for (int cy = rr.start; cy < rr.end; cy++)
                for (int cx = 0; cx < cw; cx++) {
                    std::fill(hist.begin(), hist.end(), 0);
                    int n = 0;
                    const int y1 = std::min(s.rows, (cy + 1) * cell),
                              x1 = std::min(s.cols, (cx + 1) * cell);
                    for (int y = cy * cell; y < y1; y++) {
                        const uchar *a = s.ptr<uchar>(y), *v = val.ptr<uchar>(y);
                        for (int x = cx * cell; x < x1; x++)
                            if (v[x]) {
                                hist[a[x]]++;
                                n++;
                            }
                    }
                    if (2 * n < cell * cell)
                        continue;
                    int acc = 0, i = 0;
                    for (; i < 255 && acc + hist[i] < quantile * n; i++)
                        acc += hist[i];
                    q.at<float>(cy, cx) = (float) i;
                    has.at<uchar>(cy, cx) = 1;
                }
        });
        cv::Mat bg(ch, cw, CV_32F, cv::Scalar(0));
        cv::parallel_for_(cv::Range(0, ch), [&](const cv::Range &rr) {
            std::vector<float> vals;
            for (int cy = rr.start; cy < rr.end; cy++)
                for (int cx = 0; cx < cw; cx++) {
                    vals.clear();
                    for (int y = std::max(0, cy - radius); y <= std::min(ch - 1, cy + radius); y++)
                        for (int x = std::max(0, cx - radius); x <= std::min(cw - 1, cx + radius);
                             x++)
                            if (has.at<uchar>(y, x))
                                vals.push_back(q.at<float>(y, x));
                    if (vals.size() < 4)
                        continue;
                    auto mid = vals.begin() + vals.size() / 2;
                    std::nth_element(vals.begin(), mid, vals.end());
                    bg.at<float>(cy, cx) = *mid;
                }
        });
        cv::GaussianBlur(bg, bg, cv::Size(), 1.0);
        cv::Mat full;
        cv::resize(bg, full, s.size(), 0, 0, cv::INTER_LINEAR);
        cv::parallel_for_(cv::Range(0, s.rows), [&](const cv::Range &rr) {
            for (int y = rr.start; y < rr.end; y++) {
                uchar *a = s.ptr<uchar>(y);
                const float *b = full.ptr<float>(y);
                for (int x = 0; x < s.cols; x++)
                    a[x] = cv::saturate_cast<uchar>(a[x] - b[x]);
            }
        });
        return PCBCV_OK;
    });
}
