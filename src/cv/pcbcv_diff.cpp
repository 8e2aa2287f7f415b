// Photometric normalisation, the shift-tolerant difference score, regions, texture.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>
#include <opencv2/imgproc.hpp>
#include "cv/pcbcv_internal.hpp"

using pcbcv::as_mat;
using pcbcv::fail;
using pcbcv::guarded;

namespace {

// Robust sigma (1.4826 * MAD) from a histogram of differences (511 bins, -255..255).
double
hist_mad_sigma(const long *hist, long n)
{
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

// The median of integer data 0..@bins-1 from its histogram, interpolated within its bin.
double
hist_median(const long *hist, int bins)
{
    long n = 0, acc = 0;
    for (int i = 0; i < bins; i++)
        n += hist[i];
    if (n == 0)
        return 0;
    int m = 0;
    for (; m < bins - 1 && 2 * (acc + hist[m]) < n; m++)
        acc += hist[m];
    double frac = hist[m] > 0 ? ((double) n / 2 - acc) / (double) hist[m] : 0.5;
    return std::max(0.0, m - 0.5 + frac);
}

PCBCV_ROW_KERNEL uchar
row_max(const uchar *__restrict p, int n)
{
    uchar m = 0;
    for (int i = 0; i < n; i++)
        m = std::max(m, p[i]);
    return m;
}

// sum[i] += row[i]
PCBCV_ROW_KERNEL void
add_row(const uchar *__restrict row, uint32_t *__restrict sum, int n)
{
    for (int i = 0; i < n; i++)
        sum[i] += row[i];
}

// p = p * gain + offset, rounded and clamped.
PCBCV_ROW_KERNEL void
apply_row(uchar *__restrict p, const float *__restrict gain, const float *__restrict offs, int n)
{
    for (int i = 0; i < n; i++) {
        float v = p[i] * gain[i] + offs[i] + 0.5f;
        p[i] = (uchar) std::min(std::max(v, 0.0f), 255.0f);
    }
}

// Grows the running column ranges @acc (four rows of @n: ref max, ref min, photo max, photo
// min) by one more row of row ranges @h laid out the same way.
PCBCV_ROW_KERNEL void
window_rows(const uchar *__restrict h, uchar *__restrict acc, int n)
{
    for (int i = 0; i < n; i++) {
        acc[i] = std::max(acc[i], h[i]);
        acc[n + i] = std::min(acc[n + i], h[n + i]);
        acc[2 * n + i] = std::max(acc[2 * n + i], h[2 * n + i]);
        acc[3 * n + i] = std::min(acc[3 * n + i], h[3 * n + i]);
    }
}

// Noise-unit distances of one row: the root of the channels' squared differences, each
// channel's difference divided by its noise sigma (@inv: 1 / sigma per channel).
PCBCV_ROW_KERNEL void
score_row(const uchar *__restrict d, const float *__restrict inv, float *__restrict o, int cols)
{
    const float k0 = inv[0], k1 = inv[1], k2 = inv[2];
    for (int x = 0; x < cols; x++) {
        float a = d[3 * x] * k0, b = d[3 * x + 1] * k1, c = d[3 * x + 2] * k2;
        o[x] = std::sqrt(a * a + b * b + c * c);
    }
}

// The smoothed score in units of 1 / @unit sigma, 0 where @valid is not set.
PCBCV_ROW_KERNEL void
quantise_row(const float *__restrict s, const uchar *__restrict valid, float unit,
             uchar *__restrict o, int cols)
{
    for (int x = 0; x < cols; x++) {
        float q = std::min(s[x] * unit + 0.5f, 255.0f);
        o[x] = valid[x] ? (uchar) q : 0;
    }
}

// Per byte: how far each image's value lies outside the other's window range. A value
// differs both ways by the smaller of the two distances; with @w256 / 256 weight, also by the
// larger one (it differs one way) where that counts: the photo's where the reference is plain
// around it (@rf, 255 or 0 per byte), the reference's where the photo is (@pf). A stroke
// narrower than the window in one image only (a marking, a scratch, an open) differs one way
// only, and lies on a plain surface in the other image; an edge that moved or a trace that
// grew has an edge of the other image next to it. @d gets the larger of the two. Unsigned
// saturating arithmetic throughout: the loop vectorises.
PCBCV_ROW_KERNEL void
distance_row(const uchar *__restrict r, const uchar *__restrict p, const uchar *__restrict rx,
             const uchar *__restrict rn, const uchar *__restrict px, const uchar *__restrict pn,
             const uchar *__restrict rf, const uchar *__restrict pf, int w256, uchar *__restrict d,
             int n)
{
    for (int i = 0; i < n; i++) {
        uchar a = (uchar) (p[i] - std::min(p[i], rx[i])),
              b = (uchar) (rn[i] - std::min(rn[i], p[i]));
        uchar c = (uchar) (r[i] - std::min(r[i], px[i])),
              e = (uchar) (pn[i] - std::min(pn[i], r[i]));
        uchar m1 = std::max(a, b), m2 = std::max(c, e);
        uchar one = std::max((uchar) (m1 & rf[i]), (uchar) (m2 & pf[i]));
        d[i] = std::max(std::min(m1, m2), (uchar) (((unsigned) one * (unsigned) w256) >> 8));
    }
}

// How far around a pixel an image must be plain for a one-way difference there to count
// (px beyond the tolerance radius), and how plain: its L range within that reach at most
// this many noise sigmas.
const int FLAT_REACH = 2;
const double FLAT_SIGMAS = 6.0;

// The plain-surface gate in L levels, from the L noise sigma.
int
flat_gate(double noise_l)
{
    return (int) std::lround(FLAT_SIGMAS * noise_l);
}

// A one-way weight 0..1 as the 8-bit fraction distance_row takes.
int
weight256(double one_way)
{
    return (int) std::lround(256 * std::min(std::max(one_way, 0.0), 1.0));
}

// 255 in each of a pixel's three bytes where @hi - @lo is at most @gate, else 0.
PCBCV_ROW_KERNEL void
flat_row(const uchar *__restrict hi, const uchar *__restrict lo, int gate, uchar *__restrict o,
         int cols)
{
    for (int x = 0; x < cols; x++) {
        const uchar f = hi[x] - lo[x] <= gate ? 255 : 0;
        o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = f;
    }
}

// 255 in each of a pixel's three bytes where the L channel of the Lab image @lab varies by at
// most @gate within +-@reach px (off the image counts as nothing), else 0.
void
flat_mask3(const cv::Mat &lab, int reach, int gate, cv::Mat &out)
{
    cv::Mat l, hi, lo;
    cv::extractChannel(lab, l, 0);
    const cv::Mat k
        = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * reach + 1, 2 * reach + 1));
    cv::dilate(l, hi, k);
    cv::erode(l, lo, k);
    out.create(lab.size(), CV_8UC3);
    for (int y = 0; y < lab.rows; y++)
        flat_row(hi.ptr<uchar>(y), lo.ptr<uchar>(y), gate, out.ptr<uchar>(y), lab.cols);
}

// Per channel of an interleaved 3-channel row: the max and min within +-radius pixels along
// the row, the row's ends replicated.
PCBCV_ROW_KERNEL void
row_range(const uchar *__restrict src, int cols, int radius, uchar *__restrict mx,
          uchar *__restrict mn)
{
    const int n3 = 3 * cols;
    std::memcpy(mx, src, (size_t) n3);
    std::memcpy(mn, src, (size_t) n3);
    for (int k = 1; k <= radius; k++) {
        const int o = 3 * std::min(k, cols - 1);
        // interior: both neighbours at +-k exist
        for (int i = o; i < n3 - o; i++) {
            mx[i] = std::max(mx[i], std::max(src[i - o], src[i + o]));
            mn[i] = std::min(mn[i], std::min(src[i - o], src[i + o]));
        }
        // the ends: neighbours clamped to the row
        for (int x = 0; x < cols; x++) {
            if (3 * x >= o && 3 * x < n3 - o)
                continue;
            for (int c = 0; c < 3; c++) {
                int i = 3 * x + c;
                int a = 3 * std::max(0, x - k) + c, b = 3 * std::min(cols - 1, x + k) + c;
                mx[i] = std::max(mx[i], std::max(src[a], src[b]));
                mn[i] = std::min(mn[i], std::min(src[a], src[b]));
            }
        }
    }
}

// The mean of each whole @f x @f cell of @src (8 bits, any channels), rounded: what
// cv::resize(INTER_AREA) gives for a whole factor, but one pass over the source whatever @f
// (OpenCV's general area path took 80 ms at f = 68 on 24 MP). Parallel over cell rows.
void
block_means(const cv::Mat &src, int f, cv::Mat &dst)
{
    const int ch = src.channels(), ow = src.cols / f, oh = src.rows / f;
    dst.create(oh, ow, src.type());
    const uint32_t cell = (uint32_t) f * (uint32_t) f;
    cv::parallel_for_(cv::Range(0, oh), [&](const cv::Range &r) {
        std::vector<uint32_t> sum((size_t) ow * f * ch);
        for (int oy = r.start; oy < r.end; oy++) {
            std::fill(sum.begin(), sum.end(), 0);
            for (int y = oy * f; y < (oy + 1) * f; y++)
                add_row(src.ptr<uchar>(y), sum.data(), (int) sum.size());
            uchar *d = dst.ptr<uchar>(oy);
            for (int ox = 0; ox < ow; ox++)
                for (int c = 0; c < ch; c++) {
                    uint32_t acc = 0;
                    for (int k = 0; k < f; k++)
                        acc += sum[((size_t) ox * f + k) * ch + c];
                    d[ox * ch + c] = (uchar) ((acc + cell / 2) / cell);
                }
        }
    });
}

// Blurs below this sigma are not applied.
const float MIN_SIGMA = 0.05f;

// @img's pixels in @r, blurred cell by cell where the blur map @bm says this image is the
// sharper (@sign: +1 for the reference, -1 for the photo), made in @buf (never a view of
// @img); a view of @img when nothing in @r is blurred. Each cell is filtered as a view into the
// whole image, so its halo is the image's own pixels (the image's edges replicated).
cv::Mat
matched(const cv::Mat &img, const cv::Rect &r, const pcbcv_blur_map *bm, int sign, cv::Mat &buf)
{
    if (bm == nullptr || bm->sigma == nullptr || r.empty())
        return img(r);
    const int c = bm->cell;
    const int gx0 = std::min(r.x / c, bm->cols - 1),
              gx1 = std::min((r.x + r.width - 1) / c, bm->cols - 1);
    const int gy0 = std::min(r.y / c, bm->rows - 1),
              gy1 = std::min((r.y + r.height - 1) / c, bm->rows - 1);
    auto sigma = [&](int gx, int gy) { return sign * bm->sigma[(size_t) gy * bm->cols + gx]; };
    bool any = false;
    for (int gy = gy0; gy <= gy1; gy++)
        for (int gx = gx0; gx <= gx1; gx++)
            any = any || sigma(gx, gy) >= MIN_SIGMA;
    if (!any)
        return img(r);
    cv::Mat &out = buf;
    out.create(r.size(), img.type());
    // per row of cells, each run of cells with the same sigma in one call (a filter call has
    // a fixed cost that cell-sized calls on a band of rows would multiply)
    for (int gy = gy0; gy <= gy1; gy++) {
        const int cy1 = gy == bm->rows - 1 ? img.rows : (gy + 1) * c; // the last takes the rest
        for (int gx = gx0; gx <= gx1;) {
            const float s = sigma(gx, gy);
            int end = gx + 1;
            while (end <= gx1 && sigma(end, gy) == s)
                end++;
            const int cx1 = end - 1 == bm->cols - 1 ? img.cols : end * c;
            const cv::Rect cr = cv::Rect(gx * c, gy * c, cx1 - gx * c, cy1 - gy * c) & r;
            gx = end;
            if (cr.empty())
                continue;
            cv::Mat dst = out(cr - r.tl());
            if (s >= MIN_SIGMA)
                cv::GaussianBlur(img(cr), dst, cv::Size(), s, s, cv::BORDER_REPLICATE);
            else
                img(cr).copyTo(dst);
        }
    }
    return out;
}

// A region from its inclusive bounds and its pixels' statistics.
pcbcv_region
region_of(int x0, int y0, int x1, int y1, int area, int peak, double sum)
{
    pcbcv_region r;
    r.x = x0;
    r.y = y0;
    r.w = x1 - x0 + 1;
    r.h = y1 - y0 + 1;
    r.area = area;
    r.peak = peak;
    r.sum = sum;
    return r;
}

// The pixel threshold of a hysteresis map, or @v everywhere.
inline int
threshold_at(const cv::Mat &map, int v, int x, int y)
{
    return map.empty() ? v : map.at<uchar>(y, x);
}

// The shift test of one region (see pcbcv_regions): @r is cut down to its @pixels near those that
// the best local shift of the photo leaves changed. False when none of them reaches the high
// threshold: the shift explains the region.
bool
shift_residual(const pcbcv_shift_test &t, const cv::Mat &s, const std::vector<cv::Point> &pixels,
               const cv::Mat &low_map, const cv::Mat &high_map, int low, int high, pcbcv_region &r)
{
    const cv::Mat ref = as_mat(t.reference), pho = as_mat(t.photo), val = as_mat(t.valid);
    const int R = t.radius, S = t.max_shift;
    const int ring = std::max(t.ring, std::max(r.w, r.h) / 2);
    const cv::Rect img(0, 0, s.cols, s.rows), box(r.x, r.y, r.w, r.h);
    auto grow = [&](const cv::Rect &a, int g) {
        return cv::Rect(a.x - g, a.y - g, a.width + 2 * g, a.height + 2 * g) & img;
    };
    // the window whose changed pixels choose the shift; one pixel more for the smoothing; the
    // plain-surface reach (beyond the tolerance radius) more for the reference's ranges and
    // masks, and the shift more for the photo's
    const int G = R + FLAT_REACH;
    const cv::Rect win = grow(box, ring), sw = grow(win, 1), rw = grow(sw, G), pw = grow(rw, S);
    cv::Mat rl, pl, rmax, rmin, pmax, pmin, rflat, pflat;
    cv::Mat rb, pb;
    pcbcv::rgb_to_lab(matched(ref, rw, t.blur, 1, rb), rl);
    pcbcv::rgb_to_lab(matched(pho, pw, t.blur, -1, pb), pl);
    flat_mask3(rl, G, flat_gate(t.noise[0]), rflat);
    flat_mask3(pl, G, flat_gate(t.noise[0]), pflat);
    // ranges within +-R, clipped at the image's edges as the score's are (off the crop counts
    // as neutral for dilate and erode)
    const cv::Mat k = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * R + 1, 2 * R + 1));
    cv::dilate(rl, rmax, k);
    cv::erode(rl, rmin, k);
    cv::dilate(pl, pmax, k);
    cv::erode(pl, pmin, k);
    const float inv[3]
        = { (float) (1.0 / t.noise[0]), (float) (1.0 / t.noise[1]), (float) (1.0 / t.noise[2]) };
    // the shift is chosen by the strong differences (the high threshold) only: the recomputed
    // score has no local background taken off, and weak noise must not choose it; what is
    // left of the region is what stays above the low threshold
    cv::Mat acc(sw.size(), CV_32F), sm, strong_at(win.size(), CV_8U), above(win.size(), CV_8U);
    cv::Mat zero, best_above;
    const int w256 = weight256(t.one_way);
    std::vector<uchar> d(3 * (size_t) sw.width);
    long best = -1, at_zero = 0;
    // shifts in rings of growing size: on a tie the smaller shift stays
    for (int m = 0; m <= S; m++)
        for (int dy = -m; dy <= m; dy++)
            for (int dx = -m; dx <= m; dx++) {
                if (std::max(std::abs(dx), std::abs(dy)) != m)
                    continue;
                acc.setTo(0);
                // the columns whose shifted pixel lies in the image
                const int xa = std::max(sw.x, -dx), xb = std::min(sw.x + sw.width, s.cols - dx);
                for (int y = sw.y; y < sw.y + sw.height && xb > xa; y++) {
                    if (y + dy < 0 || y + dy >= s.rows)
                        continue;
                    const size_t ro = 3 * (size_t) (xa - rw.x), po = 3 * (size_t) (xa + dx - pw.x);
                    const int ry = y - rw.y, py = y + dy - pw.y;
                    distance_row(rl.ptr<uchar>(ry) + ro, pl.ptr<uchar>(py) + po,
                                 rmax.ptr<uchar>(ry) + ro, rmin.ptr<uchar>(ry) + ro,
                                 pmax.ptr<uchar>(py) + po, pmin.ptr<uchar>(py) + po,
                                 rflat.ptr<uchar>(ry) + ro, pflat.ptr<uchar>(py) + po, w256,
                                 d.data(), 3 * (xb - xa));
                    float *o = acc.ptr<float>(y - sw.y);
                    score_row(d.data(), inv, o + (xa - sw.x), xb - xa);
                    const uchar *v = val.ptr<uchar>(y);
                    for (int x = xa; x < xb; x++)
                        if (!v[x])
                            o[x - sw.x] = 0;
                }
                cv::GaussianBlur(acc, sm, cv::Size(3, 3), 0.8, 0.8, cv::BORDER_REPLICATE);
                long count = 0;
                for (int y = win.y; y < win.y + win.height; y++) {
                    const float *a = sm.ptr<float>(y - sw.y);
                    uchar *c = strong_at.ptr<uchar>(y - win.y), *l = above.ptr<uchar>(y - win.y);
                    for (int x = win.x; x < win.x + win.width; x++) {
                        const float q = a[x - sw.x] * (float) t.unit + 0.5f;
                        c[x - win.x] = q >= threshold_at(high_map, high, x, y) ? 255 : 0;
                        l[x - win.x] = q >= threshold_at(low_map, low, x, y) ? 255 : 0;
                        count += c[x - win.x] != 0;
                    }
                }
                if (m == 0) {
                    at_zero = count;
                    above.copyTo(zero);
                }
                if (best < 0 || count < best) {
                    best = count;
                    above.copyTo(best_above);
                }
            }
    // a shift that explains less than half of the strong difference around the region is no
    // explanation: around a part that came or went, some shift always lines up a few edges
    if (2 * best > at_zero)
        return true;
    // the region's own pixels that stay changed under the best shift ...
    cv::Mat own = cv::Mat::zeros(box.size(), CV_8U);
    for (const cv::Point &p : pixels)
        own.at<uchar>(p.y - box.y, p.x - box.x) = 255;
    cv::Mat res = own & best_above(box - win.tl());
    if (cv::countNonZero(own & zero(box - win.tl())) == 0)
        return true; // the recomputed score does not see the region: nothing to judge by
    bool strong = false;
    for (int y = box.y; y < box.y + box.height && !strong; y++) {
        const uchar *sv = s.ptr<uchar>(y), *q = res.ptr<uchar>(y - box.y);
        for (int x = box.x; x < box.x + box.width; x++)
            strong = strong || (q[x - box.x] && sv[x] >= threshold_at(high_map, high, x, y));
    }
    if (!strong)
        return false;
    // ... and, since the shift may move a changed part's border by up to S + R px, the own
    // pixels within that distance of them: a defect keeps its full extent, a band of edge
    // jitter that led up to it is cut off
    const int g = 2 * (S + R) + 1;
    cv::dilate(res, res, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(g, g)));
    res &= own;
    int x0 = INT_MAX, y0 = INT_MAX, x1 = -1, y1 = -1, area = 0, peak = 0;
    double sum = 0;
    for (int y = box.y; y < box.y + box.height; y++) {
        const uchar *sv = s.ptr<uchar>(y), *q = res.ptr<uchar>(y - box.y);
        for (int x = box.x; x < box.x + box.width; x++)
            if (q[x - box.x]) {
                x0 = std::min(x0, x);
                y0 = std::min(y0, y);
                x1 = std::max(x1, x);
                y1 = std::max(y1, y);
                area++;
                peak = std::max(peak, (int) sv[x]);
                sum += sv[x];
            }
    }
    r = region_of(x0, y0, x1, y1, area, peak, sum);
    return true;
}

} // namespace

extern "C" pcbcv_status
pcbcv_normalise_light(const pcbcv_view *reference, pcbcv_view *photo, const pcbcv_view *valid,
                      int block, int *improved, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo), val = as_mat(valid);
        if (ref.channels() != 3 || pho.channels() != 3 || val.channels() != 1
            || ref.size() != pho.size() || val.size() != ref.size() || block < 4)
            return fail(PCBCV_E_ARG, msg, msglen, "normalise: bad arguments");
        // Estimate on a reduced copy: 8 samples per block side.
        // An integer factor over the whole blocks (OpenCV's fast area path); the few columns
        // and rows left over at the right and bottom take the last node's correction.
        const int f = std::max(1, std::min(block / 8, std::min(ref.cols, ref.rows)));
        cv::Size ss(ref.cols / f, ref.rows / f);
        const cv::Rect whole(0, 0, ss.width * f, ss.height * f);
        cv::Mat rs, ps, vs;
        block_means(ref(whole), f, rs);
        block_means(pho(whole), f, ps);
        block_means(val(whole), f, vs);
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
        // Apply at full resolution: photo = photo * gain + offset, the maps interpolated
        // bilinearly; first down the column of nodes (small), then along the row.
        std::vector<int> ix(pho.cols);
        std::vector<float> wx(pho.cols);
        for (int x = 0; x < pho.cols; x++) {
            double gx = std::min(std::max((x + 0.5) / f - 0.5, 0.0), ss.width - 1.0);
            ix[x] = ss.width < 2 ? 0 : std::min((int) gx, ss.width - 2);
            wx[x] = ss.width < 2 ? 0.0f : (float) (gx - ix[x]);
        }
        const int nodes = 3 * ss.width;
        // the correction rows (gain @gr, offset @orow) for a group of 8 rows, made at the
        // group's middle: the maps vary over a block (> 100 px)
        auto correction = [&](int group, std::vector<float> &gn, std::vector<float> &on,
                              std::vector<float> &gr, std::vector<float> &orow) {
            const double ym = std::min(group * 8 + 3.5, pho.rows - 1.0);
            double gy = std::min(std::max((ym + 0.5) / f - 0.5, 0.0), ss.height - 1.0);
            int iy = ss.height < 2 ? 0 : std::min((int) gy, ss.height - 2);
            float wy = ss.height < 2 ? 0.0f : (float) (gy - iy);
            const float *g0 = gain.ptr<float>(iy), *o0 = offs.ptr<float>(iy);
            const float *g1 = ss.height < 2 ? g0 : gain.ptr<float>(iy + 1);
            const float *o1 = ss.height < 2 ? o0 : offs.ptr<float>(iy + 1);
            for (int i = 0; i < nodes; i++) {
                gn[i] = g0[i] + wy * (g1[i] - g0[i]);
                on[i] = o0[i] + wy * (o1[i] - o0[i]);
            }
            for (int i = nodes; i < nodes + 3; i++) { // one node: its own neighbour
                gn[i] = gn[i - 3];
                on[i] = on[i - 3];
            }
            for (int x = 0; x < pho.cols; x++) {
                const int i0 = 3 * ix[x];
                const float w = wx[x];
                for (int k = 0; k < 3; k++) {
                    gr[3 * x + k] = gn[i0 + k] + w * (gn[i0 + 3 + k] - gn[i0 + k]);
                    orow[3 * x + k] = on[i0 + k] + w * (on[i0 + 3 + k] - on[i0 + k]);
                }
            }
        };
        // The correction models a change of light. Where the photo already agrees with the
        // reference (a scan or a fixture under the same light, a binarised image) the moments
        // it matches differ only because the content does (a trace a pixel wider, a defect),
        // and applying it would make things worse: it is applied only if it brings the photo
        // closer, by the median absolute difference over a sample (the groups' middle rows).
        {
            std::vector<float> gn(nodes + 3), on(nodes + 3), gr(3 * pho.cols), orow(3 * pho.cols);
            std::vector<long> before(256, 0), after(256, 0);
            for (int group = 0; group * 8 < pho.rows; group++) {
                const int y = std::min(group * 8 + 3, pho.rows - 1);
                correction(group, gn, on, gr, orow);
                const uchar *a = ref.ptr<uchar>(y), *b = pho.ptr<uchar>(y), *v = val.ptr<uchar>(y);
                for (int x = 0; x < pho.cols; x += 2)
                    if (v[x] >= 250)
                        for (int k = 0; k < 3; k++) {
                            const int i = 3 * x + k;
                            const float c = b[i] * gr[i] + orow[i] + 0.5f;
                            const int q = (int) std::min(std::max(c, 0.0f), 255.0f);
                            before[std::abs(b[i] - a[i])]++;
                            after[std::abs(q - a[i])]++;
                        }
            }
            const double mb = hist_median(before.data(), 256), ma = hist_median(after.data(), 256);
            if (improved != nullptr)
                *improved = ma < mb;
            if (!(ma < mb))
                return PCBCV_OK;
        }
        cv::parallel_for_(cv::Range(0, pho.rows), [&](const cv::Range &r) {
            std::vector<float> gn(nodes + 3), on(nodes + 3), gr(3 * pho.cols), orow(3 * pho.cols);
            int made = -1; // the row group the correction rows were made for
            for (int y = r.start; y < r.end; y++) {
                const int group = y / 8;
                if (group != made) {
                    correction(group, gn, on, gr, orow);
                    made = group;
                }
                apply_row(pho.ptr<uchar>(y), gr.data(), orow.data(), 3 * pho.cols);
            }
        });
        return PCBCV_OK;
    });
}

namespace {

// What a blur difference costs a two-way comparison of two grey patches: the sum over the
// inner pixels of how far each image's value lies outside the other's range within +-@radius.
double
blur_cost(const cv::Mat &r, const cv::Mat &p, int radius, int margin)
{
    const cv::Mat k
        = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * radius + 1, 2 * radius + 1));
    cv::Mat rx, rn, px, pn;
    cv::dilate(r, rx, k);
    cv::erode(r, rn, k);
    cv::dilate(p, px, k);
    cv::erode(p, pn, k);
    double sum = 0;
    for (int y = margin; y < r.rows - margin; y++) {
        const uchar *a = r.ptr<uchar>(y), *b = p.ptr<uchar>(y);
        const uchar *ax = rx.ptr<uchar>(y), *an = rn.ptr<uchar>(y);
        const uchar *bx = px.ptr<uchar>(y), *bn = pn.ptr<uchar>(y);
        for (int x = margin; x < r.cols - margin; x++) {
            int d = std::max(std::max(b[x] - ax[x], an[x] - b[x]),
                             std::max(a[x] - bx[x], bn[x] - a[x]));
            sum += std::max(d, 0);
        }
    }
    return sum;
}

// The cost of blurring one side of a patch pair by @s (> 0: the reference, < 0: the photo).
double
signed_blur_cost(const cv::Mat &r, const cv::Mat &p, double s, int radius, int margin)
{
    if (s == 0)
        return blur_cost(r, p, radius, margin);
    cv::Mat b;
    cv::GaussianBlur(s > 0 ? r : p, b, cv::Size(), std::fabs(s), std::fabs(s),
                     cv::BORDER_REPLICATE);
    return s > 0 ? blur_cost(b, p, radius, margin) : blur_cost(r, b, radius, margin);
}

} // namespace

extern "C" pcbcv_status
pcbcv_estimate_blur(const pcbcv_view *reference, const pcbcv_view *photo, const pcbcv_view *valid,
                    int radius, int cell, double max_sigma, pcbcv_blur_map *map,
                    pcbcv_blur_stats *stats, char *msg, size_t msglen) noexcept
{
    *map = pcbcv_blur_map{ 0, 0, 0, nullptr };
    return guarded(msg, msglen, [&]() {
        const cv::Mat ref = as_mat(reference), pho = as_mat(photo), val = as_mat(valid);
        if (ref.channels() != 3 || pho.channels() != 3 || val.channels() != 1
            || ref.size() != pho.size() || val.size() != ref.size() || radius < 0 || cell < 32
            || !(max_sigma > 0))
            return fail(PCBCV_E_ARG, msg, msglen, "blur estimate: bad arguments");
        const int gw = (ref.cols + cell - 1) / cell, gh = (ref.rows + cell - 1) / cell;
        // Per cell: the 48 px patch within it with the most edges, and the signed blur that
        // best matches the two images there.
        const int P = std::min(48, cell), margin = radius + 3;
        cv::Mat sig(gh, gw, CV_32F, cv::Scalar(0)), known(gh, gw, CV_8U, cv::Scalar(0));
        cv::parallel_for_(cv::Range(0, gw * gh), [&](const cv::Range &rr) {
            for (int i = rr.start; i < rr.end; i++) {
                const int cx = (i % gw) * cell, cy = (i / gw) * cell;
                const cv::Rect c
                    = cv::Rect(cx, cy, cell, cell) & cv::Rect(0, 0, ref.cols, ref.rows);
                if (c.width < P || c.height < P)
                    continue;
                // the candidate patches: a 3 x 3 grid over the cell; their edge content from
                // central differences of the green channel on every second pixel
                double best_e = -1;
                cv::Rect best;
                for (int k = 0; k < 9; k++) {
                    const cv::Rect q(c.x + (k % 3) * (c.width - P) / 2,
                                     c.y + (k / 3) * (c.height - P) / 2, P, P);
                    long e = 0, n = 0;
                    bool covered = true;
                    for (int y = q.y + 1; y < q.y + q.height - 1 && covered; y += 2) {
                        const uchar *g0 = ref.ptr<uchar>(y - 1), *g1 = ref.ptr<uchar>(y),
                                    *g2 = ref.ptr<uchar>(y + 1), *v = val.ptr<uchar>(y);
                        for (int x = q.x + 1; x < q.x + q.width - 1; x += 2, n++) {
                            covered = covered && v[x] >= 250;
                            e += std::abs(g1[3 * x + 4] - g1[3 * x - 2])
                                 + std::abs(g2[3 * x + 1] - g0[3 * x + 1]);
                        }
                    }
                    if (covered && n > 0 && (double) e / (double) n > best_e) {
                        best_e = (double) e / (double) n;
                        best = q;
                    }
                }
                // edges worth judging by: a mean gradient of at least 8 grey levels per px
                // (central differences span two)
                if (best_e < 16.0)
                    continue;
                cv::Mat a, b;
                cv::cvtColor(ref(best), a, cv::COLOR_RGB2GRAY);
                cv::cvtColor(pho(best), b, cv::COLOR_RGB2GRAY);
                // the cost is close to unimodal in the signed sigma: which image to blur
                // first, then how much, in steps of a quarter of the range, then half a step
                const double step = max_sigma / 4;
                const double c0 = signed_blur_cost(a, b, 0, radius, margin);
                double bs = 0, bc = c0;
                int dir = 0;
                for (int sgn : { 1, -1 }) {
                    const double cst = signed_blur_cost(a, b, sgn * step, radius, margin);
                    if (cst < bc) {
                        bc = cst;
                        bs = sgn * step;
                        dir = sgn;
                    }
                }
                for (int j = 2; dir != 0 && j <= 4; j++) {
                    const double cst = signed_blur_cost(a, b, dir * j * step, radius, margin);
                    if (cst >= bc)
                        break;
                    bc = cst;
                    bs = dir * j * step;
                }
                for (double s : { bs - step / 2, bs + step / 2 }) {
                    if (std::fabs(s) > max_sigma || std::fabs(s) < 1e-9)
                        continue;
                    const double cst = signed_blur_cost(a, b, s, radius, margin);
                    if (cst < bc) {
                        bc = cst;
                        bs = s;
                    }
                }
                // a blur that helps only a little is noise being smoothed, not sharpness
                // matched: the images are left as they are
                if (bc > 0.8 * c0)
                    bs = 0;
                sig.at<float>(i / gw, i % gw) = (float) bs;
                known.at<uchar>(i / gw, i % gw) = 1;
            }
        });
        // Cells without edges take the median of the known ones nearest them (growing
        // rings); then a 3 x 3 median evens out single odd cells.
        int nknown = cv::countNonZero(known);
        stats->cells = gw * gh;
        stats->measured = nknown;
        std::vector<float> all;
        for (int y = 0; y < gh; y++)
            for (int x = 0; x < gw; x++)
                if (known.at<uchar>(y, x))
                    all.push_back(sig.at<float>(y, x));
        std::sort(all.begin(), all.end());
        stats->median = all.empty() ? 0 : all[all.size() / 2];
        cv::Mat filled = sig.clone();
        for (int y = 0; y < gh; y++)
            for (int x = 0; x < gw; x++) {
                if (known.at<uchar>(y, x))
                    continue;
                std::vector<float> near;
                for (int rad = 1; near.empty() && rad <= std::max(gw, gh); rad++)
                    for (int v = std::max(0, y - rad); v <= std::min(gh - 1, y + rad); v++)
                        for (int u = std::max(0, x - rad); u <= std::min(gw - 1, x + rad); u++)
                            if (known.at<uchar>(v, u))
                                near.push_back(sig.at<float>(v, u));
                if (near.empty()) {
                    filled.at<float>(y, x) = 0;
                    continue;
                }
                std::nth_element(near.begin(), near.begin() + near.size() / 2, near.end());
                filled.at<float>(y, x) = near[near.size() / 2];
            }
        if (gw >= 3 && gh >= 3)
            cv::medianBlur(filled, sig, 3);
        else
            sig = filled;
        float lo = 0, hi = 0;
        for (int y = 0; y < gh; y++)
            for (int x = 0; x < gw; x++) {
                lo = std::min(lo, sig.at<float>(y, x));
                hi = std::max(hi, sig.at<float>(y, x));
            }
        map->sigma = (float *) std::malloc(sizeof(float) * (size_t) gw * gh);
        if (map->sigma == nullptr)
            return fail(PCBCV_E_NOMEM, msg, msglen, "blur estimate: out of memory");
        for (int y = 0; y < gh; y++)
            std::memcpy(map->sigma + (size_t) y * gw, sig.ptr<float>(y), sizeof(float) * gw);
        map->cell = cell;
        map->cols = gw;
        map->rows = gh;
        stats->min = lo;
        stats->max = hi;
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_matched_crop(const pcbcv_view *image, const pcbcv_blur_map *blur, int sign, int x, int y,
                   pcbcv_view *out, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        const cv::Mat img = as_mat(image);
        cv::Mat dst = as_mat(out);
        const cv::Rect r(x, y, dst.cols, dst.rows);
        if (img.type() != dst.type() || (r & cv::Rect(0, 0, img.cols, img.rows)) != r)
            return fail(PCBCV_E_ARG, msg, msglen, "matched crop: bad arguments");
        cv::Mat buf;
        matched(img, r, blur, sign, buf).copyTo(dst);
        return PCBCV_OK;
    });
}

// Rows handled per band of the fused difference pass: small enough that a band's Lab
// buffers stay in cache, large enough that the halo rows cost little.
static const int DIFF_BAND = 64;

extern "C" pcbcv_status
pcbcv_diff_score(const pcbcv_view *reference, const pcbcv_view *photo, const pcbcv_view *valid,
                 const pcbcv_blur_map *blur, int radius, double one_way, double unit,
                 pcbcv_view *score, double noise[3], char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo), val = as_mat(valid);
        cv::Mat out = as_mat(score);
        if (ref.channels() != 3 || pho.channels() != 3 || val.channels() != 1 || out.channels() != 1
            || ref.size() != pho.size() || val.size() != ref.size() || out.size() != ref.size()
            || radius < 0)
            return fail(PCBCV_E_ARG, msg, msglen, "diff: bad arguments");
        const int rows = ref.rows, cols = ref.cols;
        // the comparison needs whole neighbourhoods: off the image counts as uncovered
        cv::Mat v;
        cv::erode(
            val, v,
            cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * radius + 5, 2 * radius + 5)),
            cv::Point(-1, -1), 1, cv::BORDER_CONSTANT, cv::Scalar(0));

        // Noise: robust sigma per Lab channel from an eighth of the rows (groups of 4 rows
        // every 32: one blur and conversion call per group), every second column.
        {
            std::vector<long> hist(3 * 511, 0);
            std::vector<long> n(3, 0);
            std::mutex lock;
            const int groups = (rows + 31) / 32;
            cv::parallel_for_(cv::Range(0, groups), [&](const cv::Range &range) {
                std::vector<long> h(3 * 511, 0);
                cv::Mat ab, bb, al, bl;
                for (int g = range.start; g < range.end; g++) {
                    const cv::Rect r(0, 32 * g, cols, std::min(4, rows - 32 * g));
                    bool any = false;
                    for (int y = r.y; y < r.y + r.height && !any; y++) {
                        const uchar *pv = v.ptr<uchar>(y);
                        for (int x = 0; x < cols && !any; x += 2)
                            any = pv[x] != 0;
                    }
                    if (!any)
                        continue;
                    pcbcv::rgb_to_lab(matched(ref, r, blur, 1, ab), al);
                    pcbcv::rgb_to_lab(matched(pho, r, blur, -1, bb), bl);
                    for (int y = 0; y < r.height; y++) {
                        const uchar *p = al.ptr<uchar>(y), *q = bl.ptr<uchar>(y);
                        const uchar *pv = v.ptr<uchar>(r.y + y);
                        for (int x = 0; x < cols; x += 2)
                            if (pv[x])
                                for (int c = 0; c < 3; c++)
                                    h[c * 511 + q[3 * x + c] - p[3 * x + c] + 255]++;
                    }
                }
                std::lock_guard<std::mutex> hold(lock);
                for (size_t i = 0; i < h.size(); i++)
                    hist[i] += h[i];
            });
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < 511; i++)
                    n[c] += hist[c * 511 + i];
                static const double floor_sigma[3] = { 1.5, 1.0, 1.0 };
                noise[c] = std::max(hist_mad_sigma(&hist[c * 511], n[c]), floor_sigma[c]);
            }
        }
        const float inv[3]
            = { (float) (1.0 / noise[0]), (float) (1.0 / noise[1]), (float) (1.0 / noise[2]) };
        const int n3 = 3 * cols;
        const int nb = (rows + DIFF_BAND - 1) / DIFF_BAND;
        cv::parallel_for_(cv::Range(0, nb), [&](const cv::Range &range) {
            // per band: colour rows [c0, c1), score rows [s0, s1), output rows [y0, y1)
            // the colour rows reach past the score rows as far as the plain-surface test
            // looks (which is beyond the tolerance radius)
            const int halo = radius + FLAT_REACH;
            const int gate = flat_gate(noise[0]), w256 = weight256(one_way);
            const int cap = DIFF_BAND + 2 + 2 * halo;
            cv::Mat rl, pl, acc, sm, rflat, pflat, rm, pm;
            std::vector<uchar> hb(4 * (size_t) cap * n3), vrow(4 * (size_t) n3), drow(n3),
                zrow(n3, 0);
            for (int b = range.start; b < range.end; b++) {
                const int y0 = b * DIFF_BAND, y1 = std::min(rows, y0 + DIFF_BAND);
                const int s0 = std::max(0, y0 - 1), s1 = std::min(rows, y1 + 1);
                const int c0 = std::max(0, s0 - halo), c1 = std::min(rows, s1 + halo);
                pcbcv::rgb_to_lab(matched(ref, cv::Rect(0, c0, cols, c1 - c0), blur, 1, rm), rl);
                pcbcv::rgb_to_lab(matched(pho, cv::Rect(0, c0, cols, c1 - c0), blur, -1, pm), pl);
                // the range of each image along each row, within +-radius (edges replicated)
                for (int y = 0; y < c1 - c0; y++) {
                    uchar *h = &hb[4 * (size_t) y * n3];
                    row_range(rl.ptr<uchar>(y), cols, radius, h, h + n3);
                    row_range(pl.ptr<uchar>(y), cols, radius, h + 2 * n3, h + 3 * n3);
                }
                acc.create(s1 - s0, cols, CV_32F);
                if (one_way > 0) {
                    flat_mask3(rl, halo, gate, rflat);
                    flat_mask3(pl, halo, gate, pflat);
                }
                uchar *rx = &vrow[0], *rn = rx + n3, *px = rn + n3, *pn = px + n3;
                for (int y = s0; y < s1; y++) {
                    // ... and down the columns: the full window
                    const int w0 = std::max(c0, y - radius), w1 = std::min(c1 - 1, y + radius);
                    const uchar *h = &hb[4 * (size_t) (w0 - c0) * n3];
                    std::memcpy(rx, h, 4 * (size_t) n3);
                    for (int w = w0 + 1; w <= w1; w++)
                        window_rows(&hb[4 * (size_t) (w - c0) * n3], rx, n3);
                    const uchar *r = rl.ptr<uchar>(y - c0), *p = pl.ptr<uchar>(y - c0);
                    uchar *d = &drow[0];
                    const uchar *rf = one_way > 0 ? rflat.ptr<uchar>(y - c0) : &zrow[0];
                    const uchar *pf = one_way > 0 ? pflat.ptr<uchar>(y - c0) : &zrow[0];
                    distance_row(r, p, rx, rn, px, pn, rf, pf, w256, d, n3);
                    score_row(d, inv, acc.ptr<float>(y - s0), cols);
                }
                cv::GaussianBlur(acc, sm, cv::Size(3, 3), 0.8, 0.8, cv::BORDER_REPLICATE);
                for (int y = y0; y < y1; y++)
                    quantise_row(sm.ptr<float>(y - s0), v.ptr<uchar>(y), (float) unit,
                                 out.ptr<uchar>(y), cols);
            }
        });
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_exclude_clipped(const pcbcv_view *reference, const pcbcv_view *photo, pcbcv_view *valid,
                      int level, int reach, char *msg, size_t msglen) noexcept
{
    return guarded(msg, msglen, [&]() {
        cv::Mat ref = as_mat(reference), pho = as_mat(photo), val = as_mat(valid);
        if (ref.channels() != 3 || pho.channels() != 3 || val.channels() != 1
            || ref.size() != pho.size() || val.size() != ref.size() || reach < 0)
            return fail(PCBCV_E_ARG, msg, msglen, "exclude clipped: bad arguments");
        const int rows = ref.rows, cols = ref.cols;
        const int nb = (rows + DIFF_BAND - 1) / DIFF_BAND;
        const cv::Mat k
            = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * reach + 1, 2 * reach + 1));
        cv::parallel_for_(cv::Range(0, nb), [&](const cv::Range &range) {
            cv::Mat clip, grown;
            for (int b = range.start; b < range.end; b++) {
                const int y0 = b * DIFF_BAND, y1 = std::min(rows, y0 + DIFF_BAND);
                const int a0 = std::max(0, y0 - reach), a1 = std::min(rows, y1 + reach);
                // most bands hold no clipped byte at all: a vectorised scan says so
                bool any = false;
                for (int y = a0; y < a1 && !any; y++)
                    any = row_max(ref.ptr<uchar>(y), 3 * cols) >= level
                          || row_max(pho.ptr<uchar>(y), 3 * cols) >= level;
                if (!any)
                    continue;
                clip.create(a1 - a0, cols, CV_8U);
                for (int y = a0; y < a1; y++) {
                    const uchar *r = ref.ptr<uchar>(y), *p = pho.ptr<uchar>(y);
                    uchar *c = clip.ptr<uchar>(y - a0);
                    for (int x = 0; x < cols; x++) {
                        int m = std::max(std::max(std::max(r[3 * x], r[3 * x + 1]), r[3 * x + 2]),
                                         std::max(std::max(p[3 * x], p[3 * x + 1]), p[3 * x + 2]));
                        c[x] = m >= level ? 255 : 0;
                    }
                }
                cv::dilate(clip, grown, k, cv::Point(-1, -1), 1, cv::BORDER_CONSTANT,
                           cv::Scalar(0));
                for (int y = y0; y < y1; y++) {
                    const uchar *g = grown.ptr<uchar>(y - a0);
                    uchar *o = val.ptr<uchar>(y);
                    for (int x = 0; x < cols; x++)
                        if (g[x])
                            o[x] = 0;
                }
            }
        });
        return PCBCV_OK;
    });
}

extern "C" pcbcv_status
pcbcv_regions(const pcbcv_view *score, const pcbcv_view *low_map, const pcbcv_view *high_map,
              int low, int high, const pcbcv_shift_test *shift, pcbcv_region **regions, int *n,
              char *msg, size_t msglen) noexcept
{
    *regions = nullptr;
    *n = 0;
    return guarded(msg, msglen, [&]() {
        cv::Mat s = as_mat(score);
        if (s.channels() != 1 || (low_map != nullptr && as_mat(low_map).size() != s.size())
            || (high_map != nullptr && as_mat(high_map).size() != s.size()))
            return fail(PCBCV_E_ARG, msg, msglen, "regions: bad arguments");
        cv::Mat above, strong;
        if (low_map != nullptr)
            cv::compare(s, as_mat(low_map), above, cv::CMP_GE);
        else
            cv::threshold(s, above, low - 1, 255, cv::THRESH_BINARY);
        if (high_map != nullptr)
            cv::compare(s, as_mat(high_map), strong, cv::CMP_GE);
        else
            cv::threshold(s, strong, high - 1, 255, cv::THRESH_BINARY);
        // Grow each region from its strong pixels over the pixels above the low threshold
        // (cleared in @above as they are taken): the work follows the few strong regions, not
        // the whole map. The same regions as labelling every component and keeping those
        // with a strong pixel; listed in raster order of their first pixel, as labelling would.
        // A region's pixels are kept only for the shift test.
        const bool test = shift != nullptr && shift->max_shift > 0;
        if (test
            && (as_mat(shift->reference).size() != s.size()
                || as_mat(shift->photo).size() != s.size()
                || as_mat(shift->valid).size() != s.size() || shift->reference->channels != 3
                || shift->photo->channels != 3 || shift->valid->channels != 1 || shift->radius < 0
                || !(shift->noise[0] > 0 && shift->noise[1] > 0 && shift->noise[2] > 0)))
            return fail(PCBCV_E_ARG, msg, msglen, "regions: bad shift test");
        std::vector<cv::Point> seeds;
        cv::findNonZero(strong, seeds);
        struct Grown {
            pcbcv_region r;
            long first; // raster index of the region's first pixel
            std::vector<cv::Point> pixels;
        };
        std::vector<Grown> grown;
        std::vector<cv::Point> stack;
        const int cols = s.cols, rows = s.rows;
        for (const cv::Point &seed : seeds) {
            if (above.at<uchar>(seed) == 0)
                continue; // already in a region
            int x0 = seed.x, x1 = seed.x, y0 = seed.y, y1 = seed.y, area = 0, peak = 0;
            double sum = 0;
            long first = (long) seed.y * cols + seed.x;
            std::vector<cv::Point> pixels;
            above.at<uchar>(seed) = 0;
            stack.assign(1, seed);
            while (!stack.empty()) {
                const cv::Point p = stack.back();
                stack.pop_back();
                if (test)
                    pixels.push_back(p);
                const int v = s.at<uchar>(p);
                area++;
                sum += v;
                peak = std::max(peak, v);
                x0 = std::min(x0, p.x);
                x1 = std::max(x1, p.x);
                y0 = std::min(y0, p.y);
                y1 = std::max(y1, p.y);
                first = std::min(first, (long) p.y * cols + p.x);
                for (int dy = -1; dy <= 1; dy++) {
                    const int y = p.y + dy;
                    if (y < 0 || y >= rows)
                        continue;
                    uchar *a = above.ptr<uchar>(y);
                    for (int dx = -1; dx <= 1; dx++) {
                        const int x = p.x + dx;
                        if (x < 0 || x >= cols || a[x] == 0)
                            continue;
                        a[x] = 0;
                        stack.emplace_back(x, y);
                    }
                }
            }
            grown.push_back(
                { region_of(x0, y0, x1, y1, area, peak, sum), first, std::move(pixels) });
        }
        std::sort(grown.begin(), grown.end(),
                  [](const Grown &a, const Grown &b) { return a.first < b.first; });
        std::vector<char> keep(grown.size(), 1);
        if (test) {
            const cv::Mat lm = low_map ? as_mat(low_map) : cv::Mat(),
                          hm = high_map ? as_mat(high_map) : cv::Mat();
            cv::parallel_for_(cv::Range(0, (int) grown.size()), [&](const cv::Range &rr) {
                for (int k = rr.start; k < rr.end; k++)
                    keep[k]
                        = shift_residual(*shift, s, grown[k].pixels, lm, hm, low, high, grown[k].r);
            });
        }
        std::vector<pcbcv_region> out;
        out.reserve(grown.size());
        for (size_t k = 0; k < grown.size(); k++)
            if (keep[k])
                out.push_back(grown[k].r);
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
        // to full size in 8 bits (half a score unit is 1/32 sigma), then a saturating
        // subtraction: both SIMD, no full-size float map
        cv::Mat bg8, full;
        bg.convertTo(bg8, CV_8U);
        cv::resize(bg8, full, s.size(), 0, 0, cv::INTER_LINEAR);
        const uchar *before = s.data;
        cv::subtract(s, full, s);
        if (s.data != before)
            return fail(PCBCV_E_ARG, msg, msglen, "local background: score was reallocated");
        return PCBCV_OK;
    });
}
