/* The per-pixel row kernels (kernels.h). Built with -O3 (Makefile): GCC vectorises the loops.
 * MIN and MAX keep the comparison order of std::min and std::max, so that the results are
 * bit-identical to the C++ these came from. */
#include <math.h>
#include <string.h>
#include "diff/kernels.h"

/* std::min / std::max: the first argument unless the second is strictly smaller / larger */
#define KMIN(a, b) ((b) < (a) ? (b) : (a))
#define KMAX(a, b) ((a) < (b) ? (b) : (a))

/* Bytes per interleaved Lab or RGB pixel. */
#define CH 3
/* The largest byte value; also the cap of the quantised score. */
#define BYTE_MAX 255

PCB_ROW_KERNEL guint8
pcb_row_max(const guint8 *restrict p, int n)
{
    guint8 m = 0;
    for (int i = 0; i < n; i++)
        m = KMAX(m, p[i]);
    return m;
}

PCB_ROW_KERNEL void
pcb_add_row(const guint8 *restrict row, guint32 *restrict sum, int n)
{
    for (int i = 0; i < n; i++)
        sum[i] += row[i];
}

PCB_ROW_KERNEL void
pcb_apply_row(guint8 *restrict p, const float *restrict gain, const float *restrict offs, int n)
{
    for (int i = 0; i < n; i++) {
        float v = p[i] * gain[i] + offs[i] + 0.5f;
        p[i] = (guint8) KMIN(KMAX(v, 0.0f), (float) BYTE_MAX);
    }
}

PCB_ROW_KERNEL void
pcb_window_rows(const guint8 *restrict h, guint8 *restrict acc, int n)
{
    for (int i = 0; i < n; i++) {
        acc[i] = KMAX(acc[i], h[i]);
        acc[n + i] = KMIN(acc[n + i], h[n + i]);
        acc[2 * n + i] = KMAX(acc[2 * n + i], h[2 * n + i]);
        acc[3 * n + i] = KMIN(acc[3 * n + i], h[3 * n + i]);
    }
}

PCB_ROW_KERNEL void
pcb_sigma_row(const guint8 *restrict d, const float *restrict inv, float *restrict o, int cols)
{
    const float k0 = inv[0], k1 = inv[1], k2 = inv[2];
    for (int x = 0; x < cols; x++) {
        float a = d[CH * x] * k0, b = d[CH * x + 1] * k1, c = d[CH * x + 2] * k2;
        o[x] = sqrtf(a * a + b * b + c * c);
    }
}

PCB_ROW_KERNEL void
pcb_dark_chroma_row(const guint8 *restrict r, const guint8 *restrict p, guint8 *restrict d,
                    int dark, int n)
{
    /* weight in 1/256, (L / dark)^2, by a multiply and a shift: 256 (unchanged) from @dark up */
    const unsigned k = dark > 0 ? (256u << 16) / (unsigned) (dark * dark) : 0;
    for (int x = 0; x < n; x++) {
        const unsigned l = KMAX(r[CH * x], p[CH * x]);
        const unsigned w = l >= (unsigned) dark ? 256u : (l * l * k + (1u << 15)) >> 16;
        d[CH * x + 1] = (guint8) ((d[CH * x + 1] * w + 128u) >> 8);
        d[CH * x + 2] = (guint8) ((d[CH * x + 2] * w + 128u) >> 8);
    }
}

PCB_ROW_KERNEL void
pcb_quantise_row(const float *restrict s, const guint8 *restrict valid, float unit,
                 guint8 *restrict o, int cols)
{
    for (int x = 0; x < cols; x++) {
        float q = KMIN(s[x] * unit + 0.5f, (float) BYTE_MAX);
        o[x] = valid[x] ? (guint8) q : 0;
    }
}

PCB_ROW_KERNEL void
pcb_distance_row(const guint8 *restrict r, const guint8 *restrict p, const guint8 *restrict rx,
                 const guint8 *restrict rn, const guint8 *restrict px, const guint8 *restrict pn,
                 const guint8 *restrict rf, const guint8 *restrict pf, int w256, guint8 *restrict d,
                 int n)
{
    for (int i = 0; i < n; i++) {
        guint8 a = (guint8) (p[i] - KMIN(p[i], rx[i])), b = (guint8) (rn[i] - KMIN(rn[i], p[i]));
        guint8 c = (guint8) (r[i] - KMIN(r[i], px[i])), e = (guint8) (pn[i] - KMIN(pn[i], r[i]));
        guint8 m1 = KMAX(a, b), m2 = KMAX(c, e);
        guint8 one = KMAX((guint8) (m1 & rf[i]), (guint8) (m2 & pf[i]));
        d[i] = KMAX(KMIN(m1, m2), (guint8) (((unsigned) one * (unsigned) w256) >> 8));
    }
}

PCB_ROW_KERNEL void
pcb_flat_row(const guint8 *restrict hi, const guint8 *restrict lo, int gate, guint8 *restrict o,
             int cols)
{
    for (int x = 0; x < cols; x++) {
        const guint8 f = hi[x] - lo[x] <= gate ? BYTE_MAX : 0;
        o[CH * x] = o[CH * x + 1] = o[CH * x + 2] = f;
    }
}

PCB_ROW_KERNEL void
pcb_subtract_row(guint8 *restrict a, const guint8 *restrict b, int n)
{
    for (int i = 0; i < n; i++)
        a[i] = (guint8) (a[i] - KMIN(a[i], b[i]));
}

PCB_ROW_KERNEL void
pcb_at_least_row(const guint8 *restrict v, guint8 t, guint8 *restrict o, int n)
{
    for (int i = 0; i < n; i++)
        o[i] = v[i] >= t ? BYTE_MAX : 0;
}

PCB_ROW_KERNEL void
pcb_at_least_map_row(const guint8 *restrict v, const guint8 *restrict t, guint8 *restrict o, int n)
{
    for (int i = 0; i < n; i++)
        o[i] = v[i] >= t[i] ? BYTE_MAX : 0;
}

/* The ends of a row for pcb_row_range: neighbours at +-@k clamped to the row. */
static inline void
range_ends(const guint8 *restrict src, int cols, int k, int o, guint8 *restrict mx,
           guint8 *restrict mn)
{
    const int n3 = CH * cols;
    for (int x = 0; x < cols; x++) {
        if (CH * x >= o && CH * x < n3 - o)
            continue;
        for (int c = 0; c < CH; c++) {
            int i = CH * x + c;
            int a = CH * KMAX(0, x - k) + c, b = CH * KMIN(cols - 1, x + k) + c;
            mx[i] = KMAX(mx[i], KMAX(src[a], src[b]));
            mn[i] = KMIN(mn[i], KMIN(src[a], src[b]));
        }
    }
}

PCB_ROW_KERNEL void
pcb_row_range(const guint8 *restrict src, int cols, int radius, guint8 *restrict mx,
              guint8 *restrict mn)
{
    const int n3 = CH * cols;
    memcpy(mx, src, (size_t) n3);
    memcpy(mn, src, (size_t) n3);
    for (int k = 1; k <= radius; k++) {
        const int o = CH * KMIN(k, cols - 1);
        /* interior: both neighbours at +-k exist */
        for (int i = o; i < n3 - o; i++) {
            mx[i] = KMAX(mx[i], KMAX(src[i - o], src[i + o]));
            mn[i] = KMIN(mn[i], KMIN(src[i - o], src[i + o]));
        }
        range_ends(src, cols, k, o, mx, mn);
    }
}
