/* Blur matching: the golden and the photo are rarely equally sharp (another lens, focus, the
 * warp's interpolation) and the sharpness varies over a photo. Per cell, the sharper image is
 * blurred to match the other as the score reads it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "diff/diff_internal.h"
#include "diff/kernels.h"

#define MIN_SIGMA     0.05f /* blurs below this sigma are not applied */
#define MIN_CELL      32    /* smallest cell accepted, px */
#define PATCH         48    /* side of the patch a cell is measured on, px */
#define PATCH_MARGIN  3     /* patch border left out of the cost beyond the radius, px */
#define CANDIDATES    3     /* candidate patches per cell side (a 3 x 3 grid) */
#define PATCH_COVERED 250   /* a patch is measured only where this covered */
#define MIN_EDGES     16.0  /* mean central difference (8 levels per px over two) to judge by */
#define SIGMA_STEPS   4     /* the search steps through a quarter of the range at a time */
#define MIN_GAIN      0.8   /* a blur must cut the cost below this share to count */
#define TINY_SIGMA    1e-9  /* a half step landing here is no blur */
#define ALL           255   /* a mask byte that lets everything through */
#define WHOLE_WEIGHT  256   /* pcb_distance_row's weight 1 */

/* The signed sigma of a cell. */
static inline float
cell_sigma(const PcbBlurMap *bm, int sign, int gx, int gy)
{
    return sign * bm->sigma[(size_t) gy * bm->cols + gx];
}

/* Whether any cell of the grid range blurs this image. */
static gboolean
any_blur(const PcbBlurMap *bm, int sign, int gx0, int gx1, int gy0, int gy1)
{
    for (int gy = gy0; gy <= gy1; gy++)
        for (int gx = gx0; gx <= gx1; gx++)
            if (cell_sigma(bm, sign, gx, gy) >= MIN_SIGMA)
                return TRUE;
    return FALSE;
}

/* One row of cells of pcb_matched: each run of cells with the same sigma in one call (a
 * filter call has a fixed cost that cell-sized calls on a band of rows would multiply). */
static gboolean
matched_row(const pcbcv_view *img, PcbBox r, const PcbBlurMap *bm, int sign, int gy, int gx0,
            int gx1, pcbcv_view *out, GError **error)
{
    const int c = bm->cell;
    const int cy1 = gy == bm->rows - 1 ? img->height : (gy + 1) * c; /* the last takes the rest */
    char msg[256] = "";
    for (int gx = gx0; gx <= gx1;) {
        const float s = cell_sigma(bm, sign, gx, gy);
        int end = gx + 1;
        while (end <= gx1 && cell_sigma(bm, sign, end, gy) == s)
            end++;
        const int cx1 = end - 1 == bm->cols - 1 ? img->width : end * c;
        const PcbBox cr = pcb_box_and((PcbBox){ gx * c, gy * c, cx1 - gx * c, cy1 - gy * c }, r);
        gx = end;
        if (cr.w <= 0 || cr.h <= 0)
            continue;
        pcbcv_view dst = pcb_view_crop(out, (PcbBox){ cr.x - r.x, cr.y - r.y, cr.w, cr.h });
        if (s < MIN_SIGMA) {
            const pcbcv_view src = pcb_view_crop(img, cr);
            for (int y = 0; y < cr.h; y++)
                memcpy(pcb_view_row(&dst, y), pcb_view_row(&src, y),
                       (size_t) cr.w * (size_t) img->channels);
        }
        else if (!pcb_cv_check(pcbcv_gaussian(img, cr.x, cr.y, &dst, 0, s, PCBCV_BORDER_REPLICATE,
                                              msg, sizeof msg),
                               msg, "blur matching", PCB_ERROR_BACKEND, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
pcb_matched(const pcbcv_view *img, PcbBox r, const PcbBlurMap *bm, int sign, PcbBuf *buf,
            pcbcv_view *out, GError **error)
{
    *out = pcb_view_crop(img, r);
    if (bm == NULL || bm->sigma == NULL || r.w <= 0 || r.h <= 0)
        return TRUE;
    const int c = bm->cell;
    const int gx0 = MIN(r.x / c, bm->cols - 1), gx1 = MIN((r.x + r.w - 1) / c, bm->cols - 1);
    const int gy0 = MIN(r.y / c, bm->rows - 1), gy1 = MIN((r.y + r.h - 1) / c, bm->rows - 1);
    if (!any_blur(bm, sign, gx0, gx1, gy0, gy1))
        return TRUE;
    *out = pcb_buf_view(buf, r.w, r.h, img->channels);
    for (int gy = gy0; gy <= gy1; gy++)
        if (!matched_row(img, r, bm, sign, gy, gx0, gx1, out, error))
            return FALSE;
    return TRUE;
}

gboolean
pcb_matched_crop(const pcbcv_view *img, const PcbBlurMap *bm, int sign, int x, int y,
                 pcbcv_view *out, GError **error)
{
    const PcbBox r = { x, y, out->width, out->height };
    if (img->channels != out->channels || x < 0 || y < 0 || x + out->width > img->width
        || y + out->height > img->height) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "matched crop: bad arguments");
        return FALSE;
    }
    PcbBuf buf = { 0 };
    pcbcv_view m;
    gboolean ok = pcb_matched(img, r, bm, sign, &buf, &m, error);
    for (int k = 0; ok && k < r.h; k++)
        memcpy(pcb_view_row(out, k), pcb_view_row(&m, k), (size_t) r.w * (size_t) img->channels);
    pcb_buf_clear(&buf);
    return ok;
}

/* ---- the estimate ---- */

typedef struct {
    const pcbcv_view *ref, *pho, *val;
    int radius, cell, gw, gh, patch, margin;
    double max_sigma;
    float *sig;    /* gw x gh */
    guint8 *known; /* gw x gh: 1 where measured */
    PcbJob job;
} BlurJob;

/* A grey patch and its ranges within the tolerance window. */
typedef struct {
    pcbcv_view g, mx, mn;
    PcbBuf gb, xb, nb;
} Patch;

static gboolean
patch_ranges(BlurJob *j, Patch *p)
{
    char msg[256] = "";
    const int k = 2 * j->radius + 1;
    p->mx = pcb_buf_view(&p->xb, p->g.width, p->g.height, 1);
    p->mn = pcb_buf_view(&p->nb, p->g.width, p->g.height, 1);
    return pcb_job_check(&j->job,
                         pcbcv_morph(&p->g, &p->mx, 1, k, PCBCV_BORDER_DEFAULT, msg, sizeof msg),
                         msg, "blur matching")
           && pcb_job_check(&j->job,
                            pcbcv_morph(&p->g, &p->mn, 0, k, PCBCV_BORDER_DEFAULT, msg, sizeof msg),
                            msg, "blur matching");
}

/* What a blur difference costs a two-way comparison of two grey patches: the sum over the
 * inner pixels of how far each image's value lies outside the other's window range (the
 * larger of the two distances of the score's pcb_distance_row). */
static double
blur_cost(const Patch *a, const Patch *b, int margin)
{
    const int n = a->g.width - 2 * margin;
    guint8 all[PATCH], d[PATCH];
    memset(all, ALL, sizeof all);
    double sum = 0;
    for (int y = margin; y < a->g.height - margin && n > 0; y++) {
        const size_t o = (size_t) margin;
        pcb_distance_row(pcb_view_row(&a->g, y) + o, pcb_view_row(&b->g, y) + o,
                         pcb_view_row(&a->mx, y) + o, pcb_view_row(&a->mn, y) + o,
                         pcb_view_row(&b->mx, y) + o, pcb_view_row(&b->mn, y) + o, all, all,
                         WHOLE_WEIGHT, d, n);
        for (int x = 0; x < n; x++)
            sum += d[x];
    }
    return sum;
}

/* The cost of blurring one side of a patch pair by @s (> 0: the reference, < 0: the photo);
 * @t is scratch for the blurred side. */
static double
signed_blur_cost(BlurJob *j, const Patch *a, const Patch *b, double s, Patch *t)
{
    if (s == 0)
        return blur_cost(a, b, j->margin);
    const Patch *src = s > 0 ? a : b;
    char msg[256] = "";
    t->g = pcb_buf_view(&t->gb, src->g.width, src->g.height, 1);
    if (!pcb_job_check(&j->job,
                       pcbcv_gaussian(&src->g, 0, 0, &t->g, 0, fabs(s), PCBCV_BORDER_REPLICATE, msg,
                                      sizeof msg),
                       msg, "blur matching")
        || !patch_ranges(j, t))
        return INFINITY;
    return s > 0 ? blur_cost(t, b, j->margin) : blur_cost(a, t, j->margin);
}

/* The candidate patch of cell box @c with the most edges (a 3 x 3 grid over the cell; edge
 * content from central differences of the green channel on every second pixel), fully
 * covered; its mean edge content in *@best_e (-1 when none). */
static PcbBox
edged_patch(const BlurJob *j, PcbBox c, double *best_e)
{
    const int P = j->patch, last = CANDIDATES - 1;
    PcbBox best = { 0, 0, 0, 0 };
    *best_e = -1;
    for (int k = 0; k < CANDIDATES * CANDIDATES; k++) {
        const PcbBox q = { c.x + (k % CANDIDATES) * (c.w - P) / last,
                           c.y + (k / CANDIDATES) * (c.h - P) / last, P, P };
        long e = 0, n = 0;
        gboolean covered = TRUE;
        for (int y = q.y + 1; y < q.y + q.h - 1 && covered; y += 2) {
            const guint8 *g0 = pcb_view_row(j->ref, y - 1), *g1 = pcb_view_row(j->ref, y),
                         *g2 = pcb_view_row(j->ref, y + 1), *v = pcb_view_row(j->val, y);
            for (int x = q.x + 1; x < q.x + q.w - 1; x += 2, n++) {
                covered = covered && v[x] >= PATCH_COVERED;
                e += abs(g1[3 * x + 4] - g1[3 * x - 2]) + abs(g2[3 * x + 1] - g0[3 * x + 1]);
            }
        }
        if (covered && n > 0 && (double) e / (double) n > *best_e) {
            *best_e = (double) e / (double) n;
            best = q;
        }
    }
    return best;
}

/* The signed sigma that best matches the patches: the cost is close to unimodal in it, so
 * which image to blur first, then how much, in steps of a quarter of the range, then half a
 * step. A blur that helps only a little is noise being smoothed, not sharpness matched: 0. */
static double
best_sigma(BlurJob *j, const Patch *a, const Patch *b, Patch *t)
{
    const double step = j->max_sigma / SIGMA_STEPS;
    const double c0 = signed_blur_cost(j, a, b, 0, t);
    double bs = 0, bc = c0;
    int dir = 0;
    for (int sgn = 1; sgn >= -1; sgn -= 2) {
        const double cst = signed_blur_cost(j, a, b, sgn * step, t);
        if (cst < bc) {
            bc = cst;
            bs = sgn * step;
            dir = sgn;
        }
    }
    for (int k = 2; dir != 0 && k <= SIGMA_STEPS; k++) {
        const double cst = signed_blur_cost(j, a, b, dir * k * step, t);
        if (cst >= bc)
            break;
        bc = cst;
        bs = dir * k * step;
    }
    const double halves[2] = { bs - step / 2, bs + step / 2 };
    for (int k = 0; k < 2; k++) {
        const double s = halves[k];
        if (fabs(s) > j->max_sigma || fabs(s) < TINY_SIGMA)
            continue;
        const double cst = signed_blur_cost(j, a, b, s, t);
        if (cst < bc) {
            bc = cst;
            bs = s;
        }
    }
    return bc > MIN_GAIN * c0 ? 0 : bs;
}

/* Measures cell @i; FALSE when it has too few edges (or a backend call failed). */
static gboolean
measure_cell(BlurJob *j, int i, Patch *pa, Patch *pb, Patch *t)
{
    const PcbBox img = { 0, 0, j->ref->width, j->ref->height };
    const PcbBox c = pcb_box_and(
        (PcbBox){ (i % j->gw) * j->cell, (i / j->gw) * j->cell, j->cell, j->cell }, img);
    if (c.w < j->patch || c.h < j->patch)
        return FALSE;
    double best_e;
    const PcbBox best = edged_patch(j, c, &best_e);
    if (best_e < MIN_EDGES)
        return FALSE;
    char msg[256] = "";
    pcbcv_view rc = pcb_view_crop(j->ref, best), pc = pcb_view_crop(j->pho, best);
    pa->g = pcb_buf_view(&pa->gb, best.w, best.h, 1);
    pb->g = pcb_buf_view(&pb->gb, best.w, best.h, 1);
    if (!pcb_job_check(&j->job, pcbcv_gray(&rc, &pa->g, msg, sizeof msg), msg, "blur matching")
        || !pcb_job_check(&j->job, pcbcv_gray(&pc, &pb->g, msg, sizeof msg), msg, "blur matching")
        || !patch_ranges(j, pa) || !patch_ranges(j, pb))
        return FALSE;
    j->sig[i] = (float) best_sigma(j, pa, pb, t);
    j->known[i] = 1;
    return TRUE;
}

static void
patch_clear(Patch *p)
{
    pcb_buf_clear(&p->gb);
    pcb_buf_clear(&p->xb);
    pcb_buf_clear(&p->nb);
}

static void
measure_cells(void *ctx, int begin, int end)
{
    BlurJob *j = ctx;
    Patch a = { 0 }, b = { 0 }, t = { 0 };
    for (int i = begin; i < end; i++)
        measure_cell(j, i, &a, &b, &t);
    patch_clear(&a);
    patch_clear(&b);
    patch_clear(&t);
}

/* The median of the known cells nearest (@x, @y) (growing rings), 0 when none is known. */
static float
nearest_median(const BlurJob *j, int x, int y, float *near)
{
    size_t n = 0;
    for (int rad = 1; n == 0 && rad <= MAX(j->gw, j->gh); rad++)
        for (int v = MAX(0, y - rad); v <= MIN(j->gh - 1, y + rad); v++)
            for (int u = MAX(0, x - rad); u <= MIN(j->gw - 1, x + rad); u++)
                if (j->known[(size_t) v * j->gw + u])
                    near[n++] = j->sig[(size_t) v * j->gw + u];
    if (n == 0)
        return 0;
    return pcb_median_select(near, n);
}

/* The median of a cell's 3 x 3 neighbourhood, the grid's edges replicated (medianBlur's). */
static float
median3(const float *g, int gw, int gh, int x, int y)
{
    float v[3 * 3];
    int n = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            v[n++] = g[(size_t) CLAMP(y + dy, 0, gh - 1) * gw + CLAMP(x + dx, 0, gw - 1)];
    return pcb_median_select(v, G_N_ELEMENTS(v));
}

/* Cells without edges take the median of the known ones nearest them; then a 3 x 3 median
 * evens out single odd cells. The result replaces j->sig. */
static void
fill_cells(BlurJob *j)
{
    const size_t n = (size_t) j->gw * j->gh;
    g_autofree float *filled = g_memdup2(j->sig, n * sizeof(float));
    g_autofree float *near = g_new(float, n);
    for (int y = 0; y < j->gh; y++)
        for (int x = 0; x < j->gw; x++)
            if (!j->known[(size_t) y * j->gw + x])
                filled[(size_t) y * j->gw + x] = nearest_median(j, x, y, near);
    for (int y = 0; y < j->gh; y++)
        for (int x = 0; x < j->gw; x++)
            j->sig[(size_t) y * j->gw + x] = j->gw >= 3 && j->gh >= 3
                                                 ? median3(filled, j->gw, j->gh, x, y)
                                                 : filled[(size_t) y * j->gw + x];
}

/* The measured cells' median and the map's range. */
static void
blur_stats(const BlurJob *j, PcbBlurStats *stats)
{
    const size_t n = (size_t) j->gw * j->gh;
    g_autofree float *all = g_new(float, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (j->known[i])
            all[m++] = j->sig[i];
    stats->cells = (int) n;
    stats->measured = (int) m;
    stats->median = m == 0 ? 0 : pcb_median_select(all, m);
}

gboolean
pcb_estimate_blur(const pcbcv_view *reference, const pcbcv_view *photo, const pcbcv_view *valid,
                  int radius, int cell, double max_sigma, PcbBlurMap *map, PcbBlurStats *stats,
                  GError **error)
{
    *map = (PcbBlurMap){ 0, 0, 0, NULL };
    if (reference->channels != 3 || photo->channels != 3 || valid->channels != 1
        || reference->width != photo->width || reference->height != photo->height
        || valid->width != reference->width || valid->height != reference->height || radius < 0
        || cell < MIN_CELL || !(max_sigma > 0)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "blur estimate: bad arguments");
        return FALSE;
    }
    BlurJob j = { .ref = reference, .pho = photo, .val = valid, .radius = radius, .cell = cell };
    j.gw = (reference->width + cell - 1) / cell;
    j.gh = (reference->height + cell - 1) / cell;
    j.patch = MIN(PATCH, cell);
    j.margin = radius + PATCH_MARGIN;
    j.max_sigma = max_sigma;
    g_autofree float *sig = j.sig = g_new0(float, (size_t) j.gw *j.gh);
    j.known = g_new0(guint8, (size_t) j.gw * j.gh);
    if (!pcb_parallel(j.gw * j.gh, measure_cells, &j, &j.job, "blur matching", error)) {
        g_free(j.known);
        return FALSE;
    }
    blur_stats(&j, stats);
    fill_cells(&j);
    g_free(j.known);
    float lo = 0, hi = 0;
    for (size_t i = 0; i < (size_t) j.gw * j.gh; i++) {
        lo = MIN(lo, j.sig[i]);
        hi = MAX(hi, j.sig[i]);
    }
    *map = (PcbBlurMap){ cell, j.gw, j.gh, g_steal_pointer(&sig) };
    stats->min = lo;
    stats->max = hi;
    return TRUE;
}
