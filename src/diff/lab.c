/* sRGB (8 bits) to CIELab, the colour space the difference is measured in.
 *
 * OpenCV's 8-bit RGB2Lab spends ~0.1 s of CPU building its tables on first use in each process
 * and ~120 ms per 24 MP image on this machine; this conversion needs no set-up beyond a
 * 256-entry table. Output uses OpenCV's 8-bit scaling (L* * 255 / 100, a* + 128, b* + 128)
 * and stays within 1 of the textbook formula (tests/unit/test-diff.c checks it over a grid of
 * colours).
 *
 * Built with -O3 -fno-trapping-math (Makefile) so GCC vectorises the selects; the arithmetic
 * loop is a row kernel (cloned for AVX2). */
#include <math.h>
#include <stdint.h>
#include "diff/diff_internal.h"
#include "diff/kernels.h"

#define LEVELS          256     /* sRGB byte values */
#define CHUNK           1024    /* pixels converted at a time: the planes stay in L1 */
#define SRGB_KNEE       0.04045 /* sRGB's linear segment ends here (encoded) */
#define SRGB_SLOPE      12.92   /* ... with this slope */
#define SRGB_A          0.055   /* the power segment: ((s + a) / (1 + a)) ^ gamma */
#define SRGB_A1         1.055   /* 1 + a */
#define SRGB_GAMMA      2.4
#define LAB_KNEE        0.008856f /* (6/29)^3: Lab's f(t) is the cube root above, a line below */
#define LAB_LINE_SLOPE  7.787f    /* the line's slope, (29/6)^2 / 3 */
#define LAB_LINE_OFFSET (16.0f / 116)  /* and offset */
#define CBRT_MAGIC      0x54a2fa8c     /* bit-level first guess of t^(-1/3) */
#define L_SCALE         (255.0f / 100) /* OpenCV's 8-bit L: L* * 255 / 100 */
#define AB_OFFSET       128.5f         /* a*, b* + 128, plus a half for rounding */

/* sRGB byte -> linear light; filled once, on first use */
static float linear[LEVELS];

static void
fill_linear(void)
{
    static gsize done = 0;
    if (!g_once_init_enter(&done))
        return;
    for (int i = 0; i < LEVELS; i++) {
        double s = i / 255.0;
        linear[i]
            = (float) (s <= SRGB_KNEE ? s / SRGB_SLOPE : pow((s + SRGB_A) / SRGB_A1, SRGB_GAMMA));
    }
    g_once_init_leave(&done, 1);
}

/* Lab's f(t): the cube root above (6/29)^3, its tangent line below. The root comes from
 * t^(-1/3) (a bit-level first guess, then two Newton steps that need no division). */
static inline float
lab_f(float t)
{
    float u = t < LAB_KNEE ? LAB_KNEE : t;
    union {
        float f;
        int32_t i;
    } b;
    b.f = u;
    b.i = CBRT_MAGIC - (int32_t) ((float) b.i * (1.0f / 3));
    float y = b.f;
    y = y * (4.0f - u * y * y * y) * (1.0f / 3);
    y = y * (4.0f - u * y * y * y) * (1.0f / 3);
    return t > LAB_KNEE ? u * y * y : LAB_LINE_SLOPE * t + LAB_LINE_OFFSET;
}

static inline guint8
to_byte(float v)
{
    float c = v < 0.0f ? 0.0f : v;
    return (guint8) (int) (255.0f < c ? 255.0f : c);
}

PCB_ROW_KERNEL static void
lab_planes(const float *restrict r, const float *restrict g, const float *restrict b,
           guint8 *restrict lo, guint8 *restrict ao, guint8 *restrict bo, int n)
{
    /* linear sRGB (D65) -> XYZ, each row divided by the white point's component */
    const float m0 = 0.412453f / 0.950456f, m1 = 0.357580f / 0.950456f, m2 = 0.180423f / 0.950456f;
    const float m3 = 0.212671f, m4 = 0.715160f, m5 = 0.072169f;
    const float m6 = 0.019334f / 1.088754f, m7 = 0.119193f / 1.088754f, m8 = 0.950227f / 1.088754f;
    for (int i = 0; i < n; i++) {
        float fx = lab_f(m0 * r[i] + m1 * g[i] + m2 * b[i]);
        float fy = lab_f(m3 * r[i] + m4 * g[i] + m5 * b[i]);
        float fz = lab_f(m6 * r[i] + m7 * g[i] + m8 * b[i]);
        lo[i] = to_byte((116.0f * fy - 16.0f) * L_SCALE + 0.5f);
        ao[i] = to_byte(500.0f * (fx - fy) + AB_OFFSET);
        bo[i] = to_byte(200.0f * (fy - fz) + AB_OFFSET);
    }
}

/* One row of @cols pixels. */
static void
lab_row(const guint8 *s, guint8 *d, int cols)
{
    float planes[3][CHUNK];
    guint8 out[3][CHUNK];
    for (int x0 = 0; x0 < cols; x0 += CHUNK) {
        const int n = MIN(CHUNK, cols - x0);
        const guint8 *sp = s + 3 * x0;
        for (int i = 0; i < n; i++) {
            planes[0][i] = linear[sp[3 * i]];
            planes[1][i] = linear[sp[3 * i + 1]];
            planes[2][i] = linear[sp[3 * i + 2]];
        }
        lab_planes(planes[0], planes[1], planes[2], out[0], out[1], out[2], n);
        guint8 *dp = d + 3 * x0;
        for (int i = 0; i < n; i++) {
            dp[3 * i] = out[0][i];
            dp[3 * i + 1] = out[1][i];
            dp[3 * i + 2] = out[2][i];
        }
    }
}

void
pcb_rgb_to_lab(const pcbcv_view *rgb, pcbcv_view *lab)
{
    g_return_if_fail(rgb->channels == 3 && lab->channels == 3 && rgb->width == lab->width
                     && rgb->height == lab->height);
    fill_linear();
    for (int y = 0; y < rgb->height; y++)
        lab_row(pcb_view_row(rgb, y), pcb_view_row(lab, y), rgb->width);
}
