/* Pixel rearrangements for the loaders: EXIF orientation and box reduction. */
#include <string.h>
#include "pcbdiff/error.h"
#include "io/io_internal.h"

PcbImage *
pcb_io_orient(const PcbImage *src, int orientation, GError **error)
{
    if (orientation < 2 || orientation > 8)
        return pcb_image_copy(src, error);

    const gboolean swap = orientation >= 5;
    const int w = src->width, h = src->height;
    g_autoptr(PcbImage) dst = pcb_image_new(swap ? h : w, swap ? w : h, src->format, error);
    if (dst == NULL)
        return NULL;

    /* The source pixel of dst (dx, dy) is at (sx, sy) = (x0 + ax*dx + bx*dy,
     * y0 + ay*dx + by*dy); walk it as byte offsets: origin, step per dx, step per dy. */
    int x0 = 0, y0 = 0, ax = 0, bx = 0, ay = 0, by = 0;
    switch (orientation) {
    case 2: /* mirror horizontally */
        x0 = w - 1, ax = -1, by = 1;
        break;
    case 3: /* rotate 180 */
        x0 = w - 1, y0 = h - 1, ax = -1, by = -1;
        break;
    case 4: /* mirror vertically */
        y0 = h - 1, ax = 1, by = -1;
        break;
    case 5: /* transpose */
        bx = 1, ay = 1;
        break;
    case 6: /* rotate 90 clockwise */
        y0 = h - 1, bx = 1, ay = -1;
        break;
    case 7: /* transverse */
        x0 = w - 1, y0 = h - 1, bx = -1, ay = -1;
        break;
    case 8: /* rotate 90 counter-clockwise */
        x0 = w - 1, bx = -1, ay = 1;
        break;
    default:
        g_assert_not_reached();
    }
    const ptrdiff_t bpp = (ptrdiff_t) src->format;
    const ptrdiff_t stride = (ptrdiff_t) src->stride;
    const ptrdiff_t step_dx = ax * bpp + ay * stride;
    const ptrdiff_t step_dy = bx * bpp + by * stride;
    const guint8 *origin = src->data + (ptrdiff_t) y0 * stride + (ptrdiff_t) x0 * bpp;

    for (int dy = 0; dy < dst->height; dy++) {
        const guint8 *s = origin + (ptrdiff_t) dy * step_dy;
        guint8 *d = pcb_image_row(dst, dy);
        if (bpp == 1) {
            for (int dx = 0; dx < dst->width; dx++, s += step_dx)
                d[dx] = *s;
        }
        else {
            for (int dx = 0; dx < dst->width; dx++, s += step_dx, d += 3) {
                d[0] = s[0];
                d[1] = s[1];
                d[2] = s[2];
            }
        }
    }
    return g_steal_pointer(&dst);
}

PcbImage *
pcb_io_reduce(const PcbImage *src, int denom, GError **error)
{
    if (denom <= 1)
        return pcb_image_copy(src, error);

    const int bpp = (int) src->format;
    const int dw = (src->width + denom - 1) / denom;
    const int dh = (src->height + denom - 1) / denom;
    g_autoptr(PcbImage) dst = pcb_image_new(dw, dh, src->format, error);
    if (dst == NULL)
        return NULL;

    /* one row of column sums per output row; a block is at most 8 x 8 x 255, so guint32 */
    g_autofree guint32 *acc = g_new(guint32, (gsize) dw * (gsize) bpp);
    for (int oy = 0; oy < dh; oy++) {
        const int y_end = MIN(src->height, (oy + 1) * denom);
        const int rows = y_end - oy * denom;
        memset(acc, 0, sizeof *acc * (gsize) dw * (gsize) bpp);
        for (int y = oy * denom; y < y_end; y++) {
            const guint8 *s = pcb_image_row(src, y);
            for (int x = 0; x < src->width; x++) {
                guint32 *a = acc + (gsize) (x / denom) * (gsize) bpp;
                for (int c = 0; c < bpp; c++)
                    a[c] += s[(gsize) x * (gsize) bpp + (gsize) c];
            }
        }
        guint8 *d = pcb_image_row(dst, oy);
        for (int ox = 0; ox < dw; ox++) {
            const int cols = MIN(src->width, (ox + 1) * denom) - ox * denom;
            const guint32 n = (guint32) (cols * rows);
            for (int c = 0; c < bpp; c++) {
                gsize i = (gsize) ox * (gsize) bpp + (gsize) c;
                d[i] = (guint8) ((acc[i] + n / 2) / n);
            }
        }
    }
    return g_steal_pointer(&dst);
}
