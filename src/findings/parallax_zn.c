/* The parallax test's representation and threshold: locally normalised luminance (zn), which
 * a smooth change of light (level, colour temperature, soft shadow) leaves as it is and a new
 * object of 1-5 mm does not, and the level below which a matching cost counts as the same. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "core/imgops.h"
#include "core/util.h"
#include "findings/parallax_internal.h"

#define ZN_FLOOR        20.0   /* zn's standard-deviation floor, grey levels (~5 noise sigmas) */
#define ZN_REACH        4.0    /* the Gaussian reads this many sigmas around (OpenCV's kernel) */
#define ZN_SIGMA_MM     0.95   /* zn's Gaussian sigma, mm */
#define ZN_SIGMA_PX     12.0   /* ... reference px when the scale is unknown */
#define NOMINAL_PX_MM   12.655 /* the scale the constants below were measured at, px per mm */
#define MIN_BLOB_PX     60.0   /* least eroded unexplained component at that scale, px */
#define TAU_TILES       8      /* the zero-displacement cost is sampled on TAU_TILES^2 tiles ... */
#define TAU_TILE_PX     64     /* ... this many working px square */
#define TAU_K           3.0    /* tau = median + this many robust sigmas of that cost */
#define MAD_SIGMA       1.4826 /* a normal distribution's sigma per median absolute deviation */
#define TAU_MIN         0.05   /* tau is at least this (noise-free images: every cost is 0) */
#define MIN_TAU_SAMPLES 1000   /* fewer covered samples: no tau, every region is kept */
#define COVERED         255    /* map->valid where the photo covers */

/* One row of the box sum: @out[x] = the sum of @in over x - r .. x + r, reflect-101. */
static void
box_row(const float *in, int w, int r, float *out)
{
    for (int x = 0; x < w; x++) {
        float s = 0;
        if (x >= r && x + r < w) {
            for (int k = -r; k <= r; k++)
                s += in[x + k];
        }
        else {
            for (int k = -r; k <= r; k++) {
                int i = ABS(x + k);
                i = i >= w ? MAX(0, 2 * w - 2 - i) : i;
                s += in[i];
            }
        }
        out[x] = s;
    }
}

static inline int
reflect101(int i, int n)
{
    i = ABS(i);
    return i >= n ? MAX(0, 2 * n - 2 - i) : i;
}

void
pcb_box_mean(const float *in, int w, int h, int r, float *tmp, float *out)
{
    const float norm = 1.0f / (float) ((2 * r + 1) * (2 * r + 1));
    for (int y = 0; y < h; y++)
        box_row(in + (size_t) y * w, w, r, tmp + (size_t) y * w);
    for (int y = 0; y < h; y++) {
        float *o = out + (size_t) y * w;
        memset(o, 0, (size_t) w * sizeof *o);
        for (int k = -r; k <= r; k++) {
            const float *t = tmp + (size_t) reflect101(y + k, h) * w;
            for (int x = 0; x < w; x++)
                o[x] += t[x];
        }
        for (int x = 0; x < w; x++)
            o[x] *= norm;
    }
}

void
pcb_half_range(const float *z, int w, int h, float *lo, float *hi)
{
    for (int y = 0; y < h; y++) {
        const float *up = z + (size_t) MAX(0, y - 1) * w, *row = z + (size_t) y * w;
        const float *down = z + (size_t) MIN(h - 1, y + 1) * w;
        for (int x = 0; x < w; x++) {
            const float v = row[x];
            const float n[4] = { row[MAX(0, x - 1)], row[MIN(w - 1, x + 1)], up[x], down[x] };
            float a = v, b = v;
            for (int k = 0; k < 4; k++) {
                const float m = 0.5f * (v + n[k]);
                a = MIN(a, m);
                b = MAX(b, m);
            }
            lo[(size_t) y * w + x] = a;
            hi[(size_t) y * w + x] = b;
        }
    }
}

void
pcb_zn_costs(const float *a, const float *alo, const float *ahi, const float *b, int w, int h,
             float *work, float *const cost[PCB_COSTS])
{
    const size_t n = (size_t) w * h;
    float *blo = work, *bhi = work + n, *plain = work + 2 * n, *half = work + 3 * n;
    float *tmp = work + 4 * n;
    pcb_half_range(b, w, h, blo, bhi);
    for (size_t i = 0; i < n; i++) {
        plain[i] = fabsf(a[i] - b[i]);
        half[i] = pcb_half_cost(a[i], alo[i], ahi[i], b[i], blo[i], bhi[i]);
    }
    pcb_box_mean(plain, w, h, PCB_PX_COST_RADIUS, tmp, cost[PCB_COST_PLAIN]);
    pcb_box_mean(half, w, h, PCB_PX_COST_RADIUS, tmp, cost[PCB_COST_HALF]);
}

/* zn over the whole of @g (@w x @h grey levels, replaced by scratch), the part @in (crop
 * coordinates) into @out. */
static gboolean
zn_of(float *g, int w, int h, PcbBox in, double sigma, float *out, GError **error)
{
    size_t n = (size_t) w * h;
    g_autofree float *m = g_new(float, n);
    pcbcv_fview gv = { w, h, 1, (size_t) w * sizeof(float), g };
    pcbcv_fview mv = { w, h, 1, (size_t) w * sizeof(float), m };
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_gaussian_f(&gv, &mv, 0, sigma, PCBCV_BORDER_DEFAULT, msg, sizeof msg),
                      msg, "parallax test", PCB_ERROR_BACKEND, error))
        return FALSE;
    for (size_t i = 0; i < n; i++) {
        g[i] -= m[i]; /* g is the deviation from here on, m its square */
        m[i] = g[i] * g[i];
    }
    if (!pcb_cv_check(pcbcv_gaussian_f(&mv, &mv, 0, sigma, PCBCV_BORDER_DEFAULT, msg, sizeof msg),
                      msg, "parallax test", PCB_ERROR_BACKEND, error))
        return FALSE;
    const float floor2 = (float) (ZN_FLOOR * ZN_FLOOR);
    for (int y = 0; y < in.h; y++) {
        size_t row = (size_t) (in.y + y) * w + in.x;
        float *o = out + (size_t) y * in.w;
        for (int x = 0; x < in.w; x++)
            o[x] = g[row + x] / sqrtf(m[row + x] + floor2);
    }
    return TRUE;
}

gboolean
pcb_zn(const PcbImage *rgb, PcbBox box, double sigma, float *out, GError **error)
{
    const PcbBox all = { 0, 0, rgb->width, rgb->height };
    const PcbBox ctx = pcb_box_grow(box, (int) ceil(ZN_REACH * sigma), all);
    const pcbcv_view v = pcb_view(rgb), src = pcb_view_crop(&v, ctx);
    size_t n = (size_t) ctx.w * ctx.h;
    g_autofree guint8 *grey = g_new(guint8, n);
    pcbcv_view gv = { ctx.w, ctx.h, 1, (size_t) ctx.w, grey };
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_gray(&src, &gv, msg, sizeof msg), msg, "parallax test",
                      PCB_ERROR_BACKEND, error))
        return FALSE;
    g_autofree float *g = g_new(float, n);
    for (size_t i = 0; i < n; i++)
        g[i] = grey[i];
    const PcbBox in = { box.x - ctx.x, box.y - ctx.y, box.w, box.h };
    return zn_of(g, ctx.w, ctx.h, in, sigma, out, error);
}

double
pcb_zn_sigma(const PcbDiffMap *map, double px_per_mm)
{
    return px_per_mm > 0 ? ZN_SIGMA_MM * px_per_mm / map->scale : ZN_SIGMA_PX / map->scale;
}

void
pcb_zn_texture(const float *z, int w, int h, float *tmp, float *out)
{
    const size_t n = (size_t) w * h;
    g_autofree float *a = g_new(float, n);
    for (size_t i = 0; i < n; i++)
        a[i] = fabsf(z[i]);
    pcb_box_mean(a, w, h, PCB_PX_COST_RADIUS, tmp, out);
}

gboolean
pcb_zn_appeared(const PcbDiffMap *map, PcbBox box, double sigma, double *share, GError **error)
{
    const PcbBox all = { 0, 0, map->ref->width, map->ref->height };
    const PcbBox c = pcb_box_grow(box, PCB_PX_COST_RADIUS, all);
    const size_t n = (size_t) c.w * c.h;
    g_autofree float *zr = g_new(float, n);
    g_autofree float *zw = g_new(float, n);
    g_autofree float *tmp = g_new(float, n);
    g_autofree float *tr = g_new(float, n);
    g_autofree float *tw = g_new(float, n);
    if (!pcb_zn(map->ref, c, sigma, zr, error) || !pcb_zn(map->photo, c, sigma, zw, error))
        return FALSE;
    pcb_zn_texture(zr, c.w, c.h, tmp, tr);
    pcb_zn_texture(zw, c.w, c.h, tmp, tw);
    guint covered = 0, appeared = 0;
    for (int y = box.y; y < box.y + box.h; y++) {
        const guint8 *v = pcb_image_row(map->valid, y);
        for (int x = box.x; x < box.x + box.w; x++) {
            if (v[x] != COVERED)
                continue;
            const size_t i = (size_t) (y - c.y) * c.w + (x - c.x);
            covered++;
            appeared += tr[i] <= PCB_ZN_FLAT && tw[i] > 2 * PCB_ZN_FLAT;
        }
    }
    *share = covered > 0 ? (double) appeared / covered : 0;
    return TRUE;
}

/* Appends the zero-displacement costs (PCB_COSTS) of the covered pixels of tile @b to
 * @costs[]. */
static gboolean
tile_costs(const PcbParallaxTest *t, PcbBox b, GArray *const costs[PCB_COSTS], GError **error)
{
    const PcbDiffMap *map = t->map;
    const PcbBox all = { 0, 0, map->ref->width, map->ref->height };
    const PcbBox c = pcb_box_grow(b, PCB_PX_COST_RADIUS, all);
    size_t n = (size_t) c.w * c.h;
    g_autofree float *zr = g_new(float, n);
    g_autofree float *zw = g_new(float, n);
    g_autofree float *rlo = g_new(float, n);
    g_autofree float *rhi = g_new(float, n);
    g_autofree float *work = g_new(float, 5 * n);
    g_autofree float *cost = g_new(float, PCB_COSTS *n);
    if (!pcb_zn(map->ref, c, t->sigma, zr, error) || !pcb_zn(map->photo, c, t->sigma, zw, error))
        return FALSE;
    pcb_half_range(zr, c.w, c.h, rlo, rhi);
    float *const per[PCB_COSTS] = { cost, cost + n };
    pcb_zn_costs(zr, rlo, rhi, zw, c.w, c.h, work, per);
    for (int y = b.y; y < b.y + b.h; y++) {
        const guint8 *v = pcb_image_row(map->valid, y);
        for (int x = b.x; x < b.x + b.w; x++)
            for (int k = 0; k < PCB_COSTS && v[x] == COVERED; k++)
                g_array_append_val(costs[k], per[k][(size_t) (y - c.y) * c.w + (x - c.x)]);
    }
    return TRUE;
}

/* The tiles' costs, measured in parallel. */
typedef struct {
    const PcbParallaxTest *t;
    GArray *costs[TAU_TILES * TAU_TILES][PCB_COSTS]; /* of each tile */
    PcbJob job;
} TauJob;

static void
tau_tiles(void *ctx, int begin, int end)
{
    TauJob *j = ctx;
    const int w = j->t->map->ref->width, h = j->t->map->ref->height;
    const PcbBox all = { 0, 0, w, h };
    for (int k = begin; k < end; k++) {
        const int i = k % TAU_TILES, jj = k / TAU_TILES;
        PcbBox b
            = { (int) ((i + 0.5) * w / TAU_TILES) - TAU_TILE_PX / 2,
                (int) ((jj + 0.5) * h / TAU_TILES) - TAU_TILE_PX / 2, TAU_TILE_PX, TAU_TILE_PX };
        b = pcb_box_and(b, all);
        GError *err = NULL;
        if (b.w > 0 && !tile_costs(j->t, b, j->costs[k], &err))
            pcb_job_fail(&j->job, err);
    }
}

/* median + TAU_K robust sigmas of @v (@n values, reordered). */
static double
tau_of(float *v, guint n)
{
    float med = pcb_median_select(v, n);
    for (guint k = 0; k < n; k++)
        v[k] = fabsf(v[k] - med);
    float mad = pcb_median_select(v, n);
    return MAX(TAU_MIN, med + TAU_K * MAD_SIGMA * mad);
}

/* Each cost's tau = median + TAU_K robust sigmas of its zero-displacement value over the
 * covered image (most of it is registered flat board), sampled on a grid of tiles: each cost
 * explains a pixel as often by chance on unchanged board. */
static gboolean
measure_tau(PcbParallaxTest *t, GError **error)
{
    TauJob j = { .t = t };
    for (int k = 0; k < TAU_TILES * TAU_TILES; k++)
        for (int c = 0; c < PCB_COSTS; c++)
            j.costs[k][c] = g_array_new(FALSE, FALSE, sizeof(float));
    gboolean ok
        = pcb_parallel(TAU_TILES * TAU_TILES, tau_tiles, &j, &j.job, "parallax test", error);
    GArray *costs[PCB_COSTS];
    for (int c = 0; c < PCB_COSTS; c++) {
        costs[c] = g_array_new(FALSE, FALSE, sizeof(float));
        for (int k = 0; k < TAU_TILES * TAU_TILES; k++) {
            g_array_append_vals(costs[c], j.costs[k][c]->data, j.costs[k][c]->len);
            g_array_unref(j.costs[k][c]);
        }
    }
    if (ok && costs[0]->len >= MIN_TAU_SAMPLES) { /* too few: not open, every region is kept */
        for (int c = 0; c < PCB_COSTS; c++)
            t->tau[c] = tau_of((float *) (void *) costs[c]->data, costs[c]->len);
        t->open = TRUE;
    }
    for (int c = 0; c < PCB_COSTS; c++)
        g_array_unref(costs[c]);
    return ok;
}

PcbParallaxTest *
pcb_parallax_test_new(const PcbDiffMap *map, const PcbParallax *parallax, double px_per_mm,
                      gboolean same_light, GError **error)
{
    g_autoptr(PcbParallaxTest) t = g_new0(PcbParallaxTest, 1);
    t->map = map;
    t->parallax = parallax;
    t->same_light = same_light;
    /* the golden square to the board at a height of its focal length in reference px (the
     * pose's assumption) sees a point h mm up h px_per_mm / f further from its centre */
    if (parallax != NULL && parallax->valid && parallax->metric && parallax->pose_valid
        && parallax->focal_px > 0 && px_per_mm > 0)
        t->golden_mm = px_per_mm / parallax->focal_px;
    t->centre_x = map->ref->width * map->scale / 2.0;
    t->centre_y = map->ref->height * map->scale / 2.0;
    double work_px_mm = px_per_mm > 0 ? px_per_mm / map->scale : 0;
    t->sigma = pcb_zn_sigma(map, px_per_mm);
    double blob = MIN_BLOB_PX;
    if (work_px_mm > 0)
        blob *= work_px_mm * work_px_mm / (NOMINAL_PX_MM * NOMINAL_PX_MM);
    t->min_blob = MAX(1, (int) lround(blob));
    double t0 = pcb_now_ms();
    if (parallax != NULL && parallax->valid && parallax->seen && !measure_tau(t, error))
        return NULL;
    t->ms = pcb_now_ms() - t0;
    if (t->open)
        g_debug("findings: parallax test: tau %.3f (half-pixel %.3f), sigma %.1f px, blob %d px, "
                "%.0f ms",
                t->tau[PCB_COST_PLAIN], t->tau[PCB_COST_HALF], t->sigma, t->min_blob, t->ms);
    return g_steal_pointer(&t);
}

void
pcb_parallax_test_summary(const PcbParallaxTest *t)
{
    if (t->open)
        g_debug("findings: parallax test: %d regions tested, %d explained, %d cut, %d too large "
                "to test, %.0f ms",
                t->tested, t->explained, t->cut, t->skipped, t->ms);
}

void
pcb_parallax_test_free(PcbParallaxTest *t)
{
    g_free(t);
}
