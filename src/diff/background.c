/* The score's local background: what the smooth normalisation cannot follow (glare, tone
 * curves over mixed blocks, dark noise) lifts the score over whole areas; a finding must stand
 * out of the evidence around it. */
#include <math.h>
#include <string.h>
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "diff/diff_internal.h"
#include "diff/kernels.h"

#define LEVELS          256 /* score values */
#define MIN_NEIGHBOURS  4   /* cells with a quantile a background median needs */
#define BG_SMOOTH_SIGMA 1.0 /* smoothing of the background grid, cells */

typedef struct {
    const pcbcv_view *s, *val;
    int cell, radius, cw, ch;
    double quantile;
    float *q, *bg; /* cw x ch */
    guint8 *has;   /* cw x ch: 1 where the cell has a quantile */
} BgJob;

/* The @quantile of a cell's covered pixels, or -1 when less than half of it is covered. */
static int
cell_quantile(const BgJob *j, int cx, int cy, int *hist)
{
    const pcbcv_view *s = j->s;
    memset(hist, 0, LEVELS * sizeof *hist);
    int n = 0;
    const int y1 = MIN(s->height, (cy + 1) * j->cell), x1 = MIN(s->width, (cx + 1) * j->cell);
    for (int y = cy * j->cell; y < y1; y++) {
        const guint8 *a = pcb_view_row(s, y), *v = pcb_view_row(j->val, y);
        for (int x = cx * j->cell; x < x1; x++)
            if (v[x]) {
                hist[a[x]]++;
                n++;
            }
    }
    if (2 * n < j->cell * j->cell)
        return -1;
    int acc = 0, i = 0;
    for (; i < LEVELS - 1 && acc + hist[i] < j->quantile * n; i++)
        acc += hist[i];
    return i;
}

static void
quantile_rows(void *ctx, int begin, int end)
{
    BgJob *j = ctx;
    int hist[LEVELS];
    for (int cy = begin; cy < end; cy++)
        for (int cx = 0; cx < j->cw; cx++) {
            int i = cell_quantile(j, cx, cy, hist);
            if (i < 0)
                continue;
            j->q[(size_t) cy * j->cw + cx] = (float) i;
            j->has[(size_t) cy * j->cw + cx] = 1;
        }
}

/* The known quantiles within the radius around cell (@cx, @cy) into @vals; their count. */
static size_t
neighbours(const BgJob *j, int cx, int cy, float *vals)
{
    size_t n = 0;
    for (int y = MAX(0, cy - j->radius); y <= MIN(j->ch - 1, cy + j->radius); y++)
        for (int x = MAX(0, cx - j->radius); x <= MIN(j->cw - 1, cx + j->radius); x++)
            if (j->has[(size_t) y * j->cw + x])
                vals[n++] = j->q[(size_t) y * j->cw + x];
    return n;
}

/* The median of the known quantiles within the radius around each cell (a change covers few
 * of them). */
static void
median_rows(void *ctx, int begin, int end)
{
    BgJob *j = ctx;
    const int side = 2 * j->radius + 1;
    float *vals = g_new(float, (size_t) side *side);
    for (int cy = begin; cy < end; cy++)
        for (int cx = 0; cx < j->cw; cx++) {
            size_t n = neighbours(j, cx, cy, vals);
            if (n < MIN_NEIGHBOURS)
                continue;
            j->bg[(size_t) cy * j->cw + cx] = pcb_median_select(vals, n);
        }
    g_free(vals);
}

/* Smooths the background grid, brings it to full size in 8 bits (half a score unit is 1/32
 * sigma) and takes it off the score with a saturating subtraction. */
static gboolean
subtract_background(BgJob *j, GError **error)
{
    char msg[256] = "";
    pcbcv_fview bg = { j->cw, j->ch, 1, (size_t) j->cw * sizeof(float), j->bg };
    if (!pcb_cv_check(
            pcbcv_gaussian_f(&bg, &bg, 0, BG_SMOOTH_SIGMA, PCBCV_BORDER_DEFAULT, msg, sizeof msg),
            msg, "local background", PCB_ERROR_BACKEND, error))
        return FALSE;
    g_autofree guint8 *small = g_new(guint8, (size_t) j->cw * j->ch);
    for (size_t i = 0; i < (size_t) j->cw * j->ch; i++) /* saturate_cast<uchar>: round to even */
        small[i] = (guint8) CLAMP(lrintf(j->bg[i]), 0, LEVELS - 1);
    const pcbcv_view *s = j->s;
    g_autofree guint8 *full = g_new(guint8, (size_t) s->width * s->height);
    pcbcv_view sv = { j->cw, j->ch, 1, (size_t) j->cw, small };
    pcbcv_view fv = { s->width, s->height, 1, (size_t) s->width, full };
    if (!pcb_cv_check(pcbcv_resize(&sv, &fv, msg, sizeof msg), msg, "local background",
                      PCB_ERROR_BACKEND, error))
        return FALSE;
    for (int y = 0; y < s->height; y++)
        pcb_subtract_row(pcb_view_row(s, y), pcb_view_row(&fv, y), s->width);
    return TRUE;
}

gboolean
pcb_local_background(pcbcv_view *score, const pcbcv_view *valid, int cell, int radius,
                     double quantile, GError **error)
{
    if (score->channels != 1 || valid->channels != 1 || score->width != valid->width
        || score->height != valid->height || cell < 2 || radius < 1
        || !(quantile > 0 && quantile < 1)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "local background: bad arguments");
        return FALSE;
    }
    BgJob j = { .s = score, .val = valid, .cell = cell, .radius = radius, .quantile = quantile };
    j.cw = (score->width + cell - 1) / cell;
    j.ch = (score->height + cell - 1) / cell;
    const size_t n = (size_t) j.cw * j.ch;
    j.q = g_new0(float, n);
    j.bg = g_new0(float, n);
    j.has = g_new0(guint8, n);
    PcbJob job;
    gboolean ok = pcb_parallel(j.ch, quantile_rows, &j, &job, "local background", error)
                  && pcb_parallel(j.ch, median_rows, &j, &job, "local background", error)
                  && subtract_background(&j, error);
    g_free(j.q);
    g_free(j.bg);
    g_free(j.has);
    return ok;
}
