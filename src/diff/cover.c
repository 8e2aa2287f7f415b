/* Where one image lost the other's texture: a plain surface (a module, a shield, a sticker)
 * put over parts and traces, or taken off them. A change of light scales a surface's texture
 * with its lightness (shade, a lamp from another side) or adds to it (glare), but does not
 * wipe it out; so, cell by cell, the texture an image shows is held to what the other's,
 * under the cells' lightness ratio, would give it. Measured on the photo before the light
 * normalisation, whose contrast gain would stretch a plain surface's noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/imgops.h"
#include "core/util.h"
#include "pcbdiff/error.h"
#include "diff/diff_internal.h"

#define KEEP2          0.05 /* plain: texture energy under this share of the expected ... */
#define SNR2           25.0 /* ... where that is this many noise floors (22% of the contrast, 5 sigmas) */
#define FLOOR_QUANTILE 0.1 /* an image's noise floor: this quantile of its cells' energies */
#define DARK           8.0 /* grey levels added to a cell's mean before a ratio: dark noise */
#define SAMPLE         2   /* the steps are sampled at every second pixel each way */

typedef struct {
    const pcbcv_view *r, *p, *v;
    int cell, cols, rows;
    float *energy[2], *mean[2]; /* per cell, of the reference and the photo */
    guint8 *ok;                 /* per cell: at least half of it covered */
} CellJob;

/* Per cell: the mean squared grey step (right and down) and the mean grey of both images, at
 * every SAMPLE-th pixel each way that is covered with its right and lower neighbours. Grey is
 * the channels' sum. */
static void
cell_rows(void *ctx, int begin, int end)
{
    CellJob *j = ctx;
    for (int cy = begin; cy < end; cy++)
        for (int cx = 0; cx < j->cols; cx++) {
            const int y1 = MIN(j->r->height - 1, (cy + 1) * j->cell);
            const int x1 = MIN(j->r->width - 1, (cx + 1) * j->cell);
            gint64 e[2] = { 0, 0 }, m[2] = { 0, 0 };
            long n = 0;
            for (int y = cy * j->cell; y < y1; y += SAMPLE) {
                const guint8 *v = pcb_view_row(j->v, y), *vd = pcb_view_row(j->v, y + 1);
                for (int x = cx * j->cell; x < x1; x += SAMPLE) {
                    if (!v[x] || !v[x + 1] || !vd[x])
                        continue;
                    for (int k = 0; k < 2; k++) {
                        const pcbcv_view *im = k ? j->p : j->r;
                        const guint8 *a = pcb_view_row(im, y) + 3 * x;
                        const guint8 *b = pcb_view_row(im, y + 1) + 3 * x;
                        const int g = a[0] + a[1] + a[2], gr = a[3] + a[4] + a[5];
                        const int gd = b[0] + b[1] + b[2];
                        e[k] += (gr - g) * (gr - g) + (gd - g) * (gd - g);
                        m[k] += g;
                    }
                    n++;
                }
            }
            const size_t i = (size_t) cy * j->cols + cx;
            const long area
                = (long) ((j->cell + SAMPLE - 1) / SAMPLE) * ((j->cell + SAMPLE - 1) / SAMPLE);
            j->ok[i] = 2 * n >= area;
            for (int k = 0; k < 2 && n > 0; k++) {
                j->energy[k][i] = (float) ((double) e[k] / (9.0 * n)); /* grey = sum / 3 */
                j->mean[k][i] = (float) ((double) m[k] / (3.0 * n));
            }
        }
}

/* The FLOOR_QUANTILE of @e over the cells @ok holds (at least 1). */
static double
noise_floor(const float *e, const guint8 *ok, size_t n)
{
    g_autofree float *v = g_new(float, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ok[i])
            v[m++] = e[i];
    if (m == 0)
        return 1.0;
    return MAX(1.0, pcb_nth_select(v, m, (size_t) (FLOOR_QUANTILE * m)));
}

gboolean
pcb_cover_map(const pcbcv_view *reference, const pcbcv_view *photo, const pcbcv_view *valid,
              int cell, int window, PcbCoverMap *out, GError **error)
{
    memset(out, 0, sizeof *out);
    if (cell < 2 || reference->width < 2 || reference->height < 2)
        return TRUE; /* too small to judge: no cells */
    CellJob j = { .r = reference,
                  .p = photo,
                  .v = valid,
                  .cell = cell,
                  .cols = (reference->width + cell - 1) / cell,
                  .rows = (reference->height + cell - 1) / cell };
    const size_t n = (size_t) j.cols * j.rows;
    g_autofree float *buf = g_new0(float, 4 * n);
    g_autofree guint8 *ok = g_new0(guint8, n);
    j.energy[0] = buf;
    j.energy[1] = buf + n;
    j.mean[0] = buf + 2 * n;
    j.mean[1] = buf + 3 * n;
    j.ok = ok;
    PcbJob job;
    if (!pcb_parallel(j.rows, cell_rows, &j, &job, "texture cover", error))
        return FALSE;
    const double floor_r = noise_floor(j.energy[0], ok, n),
                 floor_p = noise_floor(j.energy[1], ok, n);
    out->cols = j.cols;
    out->rows = j.rows;
    out->cell = cell;
    out->window = window;
    out->sign = g_new0(signed char, n);
    size_t plain_photo = 0, plain_ref = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ok[i])
            continue;
        /* the lightness ratio photo / reference, and the texture each would show under it */
        const double k = (j.mean[1][i] + DARK) / (j.mean[0][i] + DARK);
        const double in_photo = k * k * MAX(0.0, j.energy[0][i] - floor_r);
        const double in_ref = MAX(0.0, j.energy[1][i] - floor_p) / (k * k);
        if (in_photo >= SNR2 * floor_p && j.energy[1][i] <= KEEP2 * in_photo) {
            out->sign[i] = 1; /* plain in the photo: something covers what the golden showed */
            plain_photo++;
        }
        else if (in_ref >= SNR2 * floor_r && j.energy[0][i] <= KEEP2 * in_ref) {
            out->sign[i] = -1; /* plain in the golden: a cover taken off */
            plain_ref++;
        }
    }
    g_debug("difference: texture cover: noise floors %.1f / %.1f, of %zu cells %zu plain in the "
            "photo only, %zu in the reference only",
            floor_r, floor_p, n, plain_photo, plain_ref);
    return TRUE;
}

void
pcb_cover_map_clear(PcbCoverMap *map)
{
    g_clear_pointer(&map->sign, g_free);
    memset(map, 0, sizeof *map);
}
