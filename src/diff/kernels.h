/* Internal: the per-pixel row kernels of differencing and findings (kernels.c, built -O3).
 *
 * Each is a plain loop over restrict-qualified rows that GCC vectorises; GCC also builds an
 * AVX2 clone of each, picked at load time where the CPU has it (the baseline build is SSE2). */
#ifndef PCB_DIFF_KERNELS_H
#define PCB_DIFF_KERNELS_H

#include <glib.h>

G_BEGIN_DECLS

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define PCB_ROW_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define PCB_ROW_KERNEL
#endif

/* The largest of @n bytes. */
guint8 pcb_row_max(const guint8 *restrict p, int n);

/* sum[i] += row[i] */
void pcb_add_row(const guint8 *restrict row, guint32 *restrict sum, int n);

/* p = p * gain + offset, rounded and clamped to 0..255. */
void pcb_apply_row(guint8 *restrict p, const float *restrict gain, const float *restrict offs,
                   int n);

/* Grows the running column ranges @acc (four rows of @n: ref max, ref min, photo max, photo
 * min) by one more row of row ranges @h laid out the same way. */
void pcb_window_rows(const guint8 *restrict h, guint8 *restrict acc, int n);

/* Scales the chroma distances (a*, b*) of @n pixels in @d by (L / @dark)^2 where neither
 * image's pixel (Lab rows @r, @p) is as light as @dark (8-bit L): the chroma of a dark colour
 * says little (an RGB error moves a* and b* about 1 / L*^2 as far there). */
void pcb_dark_chroma_row(const guint8 *restrict r, const guint8 *restrict p, guint8 *restrict d,
                         int dark, int n);

/* Noise-unit distances of one row of @cols pixels: the root of the channels' squared
 * differences @d, each divided by its noise sigma (@inv: 1 / sigma per channel). */
void pcb_sigma_row(const guint8 *restrict d, const float *restrict inv, float *restrict o,
                   int cols);

/* The smoothed score @s in units of 1 / @unit sigma, capped at 255, 0 where @valid is not set. */
void pcb_quantise_row(const float *restrict s, const guint8 *restrict valid, float unit,
                      guint8 *restrict o, int cols);

/* Per byte: how far each image's value (@r, @p) lies outside the other's window range (@rx,
 * @rn: the reference's max and min; @px, @pn: the photo's). A value differs both ways by the
 * smaller of the two distances; with @w256 / 256 weight, also by the larger one (it differs
 * one way) where that counts: the photo's where the reference is plain around it (@rf, 255 or
 * 0 per byte), the reference's where the photo is (@pf). A stroke narrower than the window in
 * one image only (a marking, a scratch, an open) differs one way only, and lies on a plain
 * surface in the other image; an edge that moved or a trace that grew has an edge of the other
 * image next to it. With @rf = @pf = 255 and @w256 = 256, @d gets the larger of the two
 * distances. Unsigned saturating arithmetic throughout: the loop vectorises. */
void pcb_distance_row(const guint8 *restrict r, const guint8 *restrict p, const guint8 *restrict rx,
                      const guint8 *restrict rn, const guint8 *restrict px,
                      const guint8 *restrict pn, const guint8 *restrict rf,
                      const guint8 *restrict pf, int w256, guint8 *restrict d, int n);

/* 255 in each of a pixel's three bytes where @hi - @lo is at most @gate, else 0. */
void pcb_flat_row(const guint8 *restrict hi, const guint8 *restrict lo, int gate,
                  guint8 *restrict o, int cols);

/* Per channel of an interleaved 3-channel row: the max and min within +-@radius pixels along
 * the row, the row's ends replicated. */
void pcb_row_range(const guint8 *restrict src, int cols, int radius, guint8 *restrict mx,
                   guint8 *restrict mn);

/* a[i] -= b[i], saturating at 0. */
void pcb_subtract_row(guint8 *restrict a, const guint8 *restrict b, int n);

/* 255 where @v[i] >= @t, else 0. */
void pcb_at_least_row(const guint8 *restrict v, guint8 t, guint8 *restrict o, int n);

/* 255 where @v[i] >= @t[i], else 0. */
void pcb_at_least_map_row(const guint8 *restrict v, const guint8 *restrict t, guint8 *restrict o,
                          int n);

G_END_DECLS

#endif
