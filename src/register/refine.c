/* Tile refinement, coarse to fine: phase-correlated tiles on a node grid, a robust then a
 * least-squares homography, tiles inconsistent with their neighbours rejected. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "core/util.h"
#include "register/homography.h"
#include "register/register_internal.h"

/* clang-format off */
#define REFINE_TILE_MID       64    /* tile side at the intermediate level, px */
#define REFINE_TILE_FULL      96    /* tile side at full resolution, px */
#define REFINE_MAX_TILES      300   /* nodes per level at most (the lens model carries the shape) */
#define REFINE_SMALL_SHARE    0.25  /* a last level measuring at most this share of its nodes ... */
#define REFINE_TILE_SMALL     32    /* ... with half-size tiles down to this side ... */
#define REFINE_MAX_DENSE      4800  /* ... and up to this many nodes */
#define REFINE_SPACING        1.05  /* nodes about 1.05 tile sides apart: windows barely overlap */
#define REFINE_SPACING_GROW   1.15  /* the spacing grows by 15% until the grid fits MAX_TILES */
#define REFINE_LEVELS_SIDE    2.5   /* a middle level when the side exceeds 2.5 coarse sides ... */
#define REFINE_LEVELS_SCALE   0.8   /* ... and the reduced copy is below 0.8 of full size */
#define REFINE_RESHIFT_MID    0.5   /* middle level: re-measure tiles whose shift is >= 0.5 px */
#define REFINE_SHIFT_DIV      3.0   /* a shift beyond tile / 3 leaves too little overlap */
#define REFINE_MIN_RESPONSE   0.05  /* phase-correlation peak below this: no measurement */
#define REFINE_MIN_CONTRAST   2.0   /* reference tile std below this (grey levels): too flat */
#define REFINE_FIT_MIN_TILES  8     /* floor for a level's fit (the tuning gate is min_tiles) */
#define REFINE_RANSAC_MIN_PX  2.0   /* robust first fit threshold: at least 2 px ... */
#define REFINE_RANSAC_DIAG    0.006 /* ... or 0.6% of the diagonal (lens distortion: no outlier);
                                       a tight fit (the second attempt) takes the 2 px only */
#define REFINE_AGREE_PX       1.0   /* a tile agrees within 1 px of its neighbours' median ... */
#define REFINE_AGREE_REL      0.1   /* ... plus 10% of that median's length */
#define REFINE_REACH          2     /* a tile's neighbours: the (2 * 2 + 1)^2 nodes around it */
#define REFINE_MIN_NEIGHBOURS 3     /* fewer measured neighbours: no median; kept if it has any */
#define REFINE_SMALL_GRID     9     /* grids under 3 x 3 nodes keep even isolated tiles */
#define PROBE_TILE            48    /* the parallax probe: tiles of 48 px (a few mm: a part's top,
                                       not the board around it, fills them) ... */
#define PROBE_SPACING         0.5   /* ... half a side apart (they overlap) ... */
#define PROBE_NODES           4800  /* ... at most this many (the cost of 1200 full-size tiles) */
#define PROBE_MIN_RESPONSE    0.25  /* a probe tile with a weaker peak is not measured */
#define PROBE_REACH           4     /* a probe tile's surroundings: 4 nodes (2 tiles) each way */
/* clang-format on */

void
pcb_reg_tile_grid_free(TileGrid *g)
{
    g_free(g->tiles);
    g_free(g->res_x);
    g_free(g->res_y);
    g_free(g->good);
    g_free(g->measured);
    g_free(g->raised);
    memset(g, 0, sizeof *g);
}

/* Nodes on a regular grid covering the image, node (0,0) at (0,0) and the last at the far
 * corner; about @spacing px apart, at most @max_nodes in all. */
static void
tile_grid_init(TileGrid *g, int width, int height, double spacing, int max_nodes)
{
    for (;;) {
        g->cols = MAX(2, (int) ceil((width - 1) / spacing) + 1);
        g->rows = MAX(2, (int) ceil((height - 1) / spacing) + 1);
        if (g->cols * g->rows <= max_nodes)
            break;
        spacing *= REFINE_SPACING_GROW;
    }
    g->step_x = (double) (width - 1) / (g->cols - 1);
    g->step_y = (double) (height - 1) / (g->rows - 1);
    int n = g->cols * g->rows;
    g->tiles = g_new0(Tile, n);
    g->res_x = g_new0(double, n);
    g->res_y = g_new0(double, n);
    g->good = g_new0(gboolean, n);
    g->measured = g_new0(gboolean, n);
    g->raised = g_new0(gboolean, n);
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            g->tiles[j * g->cols + i].cx = i * g->step_x;
            g->tiles[j * g->cols + i].cy = j * g->step_y;
        }
}

/* The median residual of the tiles @use marks within @reach nodes of node (@i, @j), itself
 * too when @self, into @mx, @my (@xs, @ys hold (2 @reach + 1)^2 values); returns how many there
 * are (the median only when there is one). */
static int
window_median(const TileGrid *g, const gboolean *use, int i, int j, int reach, gboolean self,
              double *xs, double *ys, double *mx, double *my)
{
    int m = 0;
    for (int jj = MAX(0, j - reach); jj <= MIN(g->rows - 1, j + reach); jj++)
        for (int ii = MAX(0, i - reach); ii <= MIN(g->cols - 1, i + reach); ii++) {
            if ((!self && ii == i && jj == j) || !use[jj * g->cols + ii])
                continue;
            xs[m] = g->res_x[jj * g->cols + ii];
            ys[m] = g->res_y[jj * g->cols + ii];
            m++;
        }
    if (m == 0)
        return 0;
    qsort(xs, (size_t) m, sizeof(double), pcb_reg_cmp_double);
    qsort(ys, (size_t) m, sizeof(double), pcb_reg_cmp_double);
    *mx = xs[m / 2];
    *my = ys[m / 2];
    return m;
}

/* The median residual of the good tiles among the neighbours of node (@i, @j) into @mx, @my;
 * returns how many there are (the median only when >= REFINE_MIN_NEIGHBOURS). */
static int
neighbour_median(const TileGrid *g, int i, int j, double *mx, double *my)
{
    double xs[(2 * REFINE_REACH + 1) * (2 * REFINE_REACH + 1)];
    double ys[(2 * REFINE_REACH + 1) * (2 * REFINE_REACH + 1)];
    double x = 0, y = 0;
    int m = window_median(g, g->good, i, j, REFINE_REACH, FALSE, xs, ys, &x, &y);
    if (m >= REFINE_MIN_NEIGHBOURS) {
        *mx = x;
        *my = y;
    }
    return m;
}

/* Marks tiles whose residual disagrees with the median of their measured neighbours:
 * a real change or a bad measurement, not a registration error. */
static void
reject_inconsistent(TileGrid *g)
{
    int n = g->cols * g->rows;
    g_autofree gboolean *keep = g_new0(gboolean, n);
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            int k = j * g->cols + i;
            if (!g->good[k])
                continue;
            double mx = 0, my = 0;
            int m = neighbour_median(g, i, j, &mx, &my);
            if (m < REFINE_MIN_NEIGHBOURS)
                keep[k] = m >= 1 || n < REFINE_SMALL_GRID;
            else
                keep[k] = hypot(g->res_x[k] - mx, g->res_y[k] - my)
                          <= REFINE_AGREE_PX + REFINE_AGREE_REL * hypot(mx, my);
        }
    memcpy(g->good, keep, (size_t) n * sizeof(gboolean));
}

/* TRUE when reference point (@x, @y) maps inside the photo through @h (reference -> photo). */
static gboolean
maps_inside(const double h[9], double x, double y, int pw, int ph)
{
    double w = 0 + h[6] * x + h[7] * y + h[8];
    if (w <= 1e-12) /* at or behind the horizon */
        return FALSE;
    double px = (0 + h[0] * x + h[1] * y + h[2]) / w, py = (0 + h[3] * x + h[4] * y + h[5]) / w;
    return px >= 0 && py >= 0 && px <= pw - 1 && py <= ph - 1;
}

/* The window of tile @t as a shim job when it lies in the reference and its corners map
 * into the photo; FALSE when it cannot be measured. */
static gboolean
tile_job(const Tile *t, const double hinv[9], int tile, int rw, int rh, int pw, int ph,
         pcbcv_tile *job)
{
    double x0 = floor(t->cx - tile / 2.0), y0 = floor(t->cy - tile / 2.0);
    if (x0 < 0 || y0 < 0 || x0 + tile > rw || y0 + tile > rh)
        return FALSE;
    if (!maps_inside(hinv, x0, y0, pw, ph) || !maps_inside(hinv, x0 + tile, y0, pw, ph)
        || !maps_inside(hinv, x0, y0 + tile, pw, ph)
        || !maps_inside(hinv, x0 + tile, y0 + tile, pw, ph))
        return FALSE;
    memset(job, 0, sizeof *job);
    job->x0 = (int) x0;
    job->y0 = (int) y0;
    return TRUE;
}

/* Measures every tile of @g: phase correlation, then, for a shift within tile / 3 and at
 * least @reshift_px, once more with the window moved by it, so that the estimate converges
 * to the window's centre where the Hanning bias vanishes. @prior (2 per tile, or NULL): the
 * shift each tile is expected at, where its photo window is taken first (a periodic texture's
 * correlation peaks at every period: the one nearest the expected shift is the right one). */
static gboolean
measure_tiles(const PcbImage *ref, const PcbImage *pho, const double hinv[9], int tile,
              double reshift_px, const double *prior, TileGrid *g, GError **error)
{
    const int n = g->cols * g->rows;
    const double max_shift = tile / REFINE_SHIFT_DIV;
    g_autofree pcbcv_tile *jobs = g_new(pcbcv_tile, n);
    g_autofree int *of = g_new(int, n); /* the tile of each job */
    int nj = 0;
    for (int k = 0; k < n; k++) {
        Tile *t = &g->tiles[k];
        t->dx = t->dy = t->response = t->contrast = 0;
        t->ok = FALSE;
        if (!tile_job(&g->tiles[k], hinv, tile, ref->width, ref->height, pho->width, pho->height,
                      &jobs[nj]))
            continue;
        if (prior != NULL) {
            jobs[nj].sx = prior[2 * k];
            jobs[nj].sy = prior[2 * k + 1];
        }
        of[nj++] = k;
    }
    pcbcv_view r = pcb_view(ref), p = pcb_view(pho);
    char msg[256] = "";
    for (int pass = 0; pass < 2 && nj > 0; pass++) {
        if (!pcb_cv_check(pcbcv_tile_shifts(&r, &p, hinv, tile, jobs, nj, msg, sizeof msg), msg,
                          "tile refinement", PCB_ERROR_REGISTER, error))
            return FALSE;
        int again = 0;
        for (int i = 0; i < nj; i++) {
            Tile *t = &g->tiles[of[i]];
            t->dx = jobs[i].sx + jobs[i].dx;
            t->dy = jobs[i].sy + jobs[i].dy;
            t->response = jobs[i].response;
            if (pass == 0)
                t->contrast = jobs[i].contrast;
            t->ok = fabs(t->dx) <= max_shift && fabs(t->dy) <= max_shift;
            const gboolean too_far = fabs(t->dx) > max_shift || fabs(t->dy) > max_shift;
            if (pass == 0 && !too_far && !(hypot(t->dx, t->dy) < reshift_px)) {
                jobs[again] = jobs[i]; /* again, with the window moved by the shift */
                jobs[again].sx = t->dx;
                jobs[again].sy = t->dy;
                jobs[again].remeasure = 1;
                of[again++] = of[i];
            }
        }
        nj = again;
    }
    return TRUE;
}

/* The measured tiles as point pairs: photo point (through @hinv) -> node, and their nodes. */
static int
tile_pairs(const TileGrid *g, const double hinv[9], double *src, double *dst, int *idx)
{
    int m = 0;
    for (int k = 0; k < g->cols * g->rows; k++) {
        const Tile *t = &g->tiles[k];
        if (!t->ok || t->response < REFINE_MIN_RESPONSE || t->contrast < REFINE_MIN_CONTRAST)
            continue;
        pcb_h_apply(hinv, t->cx + t->dx, t->cy + t->dy, &src[2 * m], &src[2 * m + 1]);
        dst[2 * m] = t->cx;
        dst[2 * m + 1] = t->cy;
        idx[m++] = k;
    }
    return m;
}

/* Residuals of pairs @src -> @dst (tiles @idx) through @h into @g; good where @mask says
 * (every pair when @mask is NULL). */
static void
set_residuals(TileGrid *g, const double h[9], const double *src, const double *dst, const int *idx,
              const guchar *mask, int m)
{
    for (int i = 0; i < m; i++) {
        int k = idx[i];
        double x, y;
        pcb_h_apply(h, src[2 * i], src[2 * i + 1], &x, &y);
        g->res_x[k] = x - dst[2 * i];
        g->res_y[k] = y - dst[2 * i + 1];
        g->good[k] = mask == NULL || mask[i] != 0;
    }
}

/* Keeps the pairs whose tile is still good, in order; returns how many. */
static int
keep_good_pairs(const TileGrid *g, double *src, double *dst, int *idx, int m)
{
    int c = 0;
    for (int i = 0; i < m; i++)
        if (g->good[idx[i]]) {
            src[2 * c] = src[2 * i];
            src[2 * c + 1] = src[2 * i + 1];
            dst[2 * c] = dst[2 * i];
            dst[2 * c + 1] = dst[2 * i + 1];
            idx[c++] = idx[i];
        }
    return c;
}

/* One refinement level: tiles of @tile px (at most @max_nodes) over @ref (level grey), photo
 * level grey @pho and H (photo level -> ref level). Refits H by least squares over the
 * consistent tiles; the robust first fit takes the tiles within REFINE_RANSAC_MIN_PX only when
 * @tight. */
static gboolean
refine_level(const PcbImage *ref, const PcbImage *pho, double h[9], int tile, int max_nodes,
             double reshift_px, gboolean tight, TileGrid *g, int *measured, GError **error)
{
    tile_grid_init(g, ref->width, ref->height, tile * REFINE_SPACING, max_nodes);
    int n = g->cols * g->rows;
    double hinv[9];
    if (!pcb_h_invert(h, hinv)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER, "degenerate homography");
        return FALSE;
    }
    if (!measure_tiles(ref, pho, hinv, tile, reshift_px, NULL, g, error))
        return FALSE;
    g_autofree double *src = g_new(double, 2 * n);
    g_autofree double *dst = g_new(double, 2 * n);
    g_autofree int *idx = g_new(int, n);
    g_autofree guchar *mask = g_new0(guchar, n);
    int m = *measured = tile_pairs(g, hinv, src, dst, idx);
    if (m < REFINE_FIT_MIN_TILES) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "refinement measured only %d tiles of %d (limit >= %d): too little overlap, "
                    "texture or focus",
                    m, n, REFINE_FIT_MIN_TILES);
        return FALSE;
    }
    /* robust first fit with a generous threshold (lens distortion is smooth, not outlying) */
    double hr[9];
    char msg[256] = "";
    const double diag = tight ? 0 : REFINE_RANSAC_DIAG * hypot(ref->width, ref->height);
    pcbcv_fit_opts fo
        = { 1, MAX(REFINE_RANSAC_MIN_PX, diag), REG_MAGSAC_MAX_ITERS, REG_MAGSAC_CONFIDENCE };
    if (!pcb_cv_check(pcbcv_fit_homography(src, dst, m, &fo, hr, mask, msg, sizeof msg), msg,
                      "tile homography", PCB_ERROR_REGISTER, error))
        return FALSE;
    set_residuals(g, hr, src, dst, idx, mask, m);
    reject_inconsistent(g);
    /* least squares over the consistent tiles: the best single homography */
    g_autofree double *all_src = g_memdup2(src, 2 * (gsize) m * sizeof(double));
    g_autofree double *all_dst = g_memdup2(dst, 2 * (gsize) m * sizeof(double));
    g_autofree int *all_idx = g_memdup2(idx, (gsize) m * sizeof(int));
    int c = keep_good_pairs(g, src, dst, idx, m);
    if (c < REFINE_FIT_MIN_TILES) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "refinement: only %d of %d measured tiles agree (limit >= %d)", c, m,
                    REFINE_FIT_MIN_TILES);
        return FALSE;
    }
    if (!pcb_cv_check(pcbcv_fit_homography(src, dst, c, NULL, h, NULL, msg, sizeof msg), msg,
                      "tile homography", PCB_ERROR_REGISTER, error))
        return FALSE;
    /* every measured tile's residual against it (parallax is read from the others), the
     * consistent ones good */
    g_autofree gboolean *kept = g_memdup2(g->good, (gsize) n * sizeof(gboolean));
    set_residuals(g, h, all_src, all_dst, all_idx, NULL, m);
    for (int i = 0; i < m; i++)
        g->measured[all_idx[i]] = TRUE;
    memcpy(g->good, kept, (size_t) n * sizeof(gboolean));
    return TRUE;
}

/* Each measured tile's residual less the median of those measured around it (PROBE_REACH
 * nodes each way): what stands out of its surroundings. A smooth displacement that the
 * registration left (lens distortion or bow towards the image's edges) is gone; a part a few
 * millimetres across that moved against the board around it is not. */
static void
probe_local(TileGrid *g)
{
    const int n = g->cols * g->rows;
    g_autofree double *lx = g_new0(double, n);
    g_autofree double *ly = g_new0(double, n);
    double xs[(2 * PROBE_REACH + 1) * (2 * PROBE_REACH + 1)];
    double ys[(2 * PROBE_REACH + 1) * (2 * PROBE_REACH + 1)];
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            const int k = j * g->cols + i;
            double mx, my;
            if (g->measured[k]
                && window_median(g, g->measured, i, j, PROBE_REACH, TRUE, xs, ys, &mx, &my) > 0) {
                lx[k] = g->res_x[k] - mx;
                ly[k] = g->res_y[k] - my;
            }
        }
    memcpy(g->res_x, lx, (size_t) n * sizeof(double));
    memcpy(g->res_y, ly, (size_t) n * sizeof(double));
}

gboolean
pcb_reg_probe(const PcbImage *ref_g, const PcbImage *pho_g, const PcbRegistration *reg, TileGrid *g,
              GError **error)
{
    tile_grid_init(g, ref_g->width, ref_g->height, PROBE_TILE * PROBE_SPACING, PROBE_NODES);
    const double *h = reg->h;
    double hinv[9];
    if (!pcb_h_invert(h, hinv))
        return TRUE; /* nothing measured */
    /* one measurement a tile, its window where the registration's field puts it: a tall
     * part's shift is pixels, the window's bias a fraction */
    const int n = g->cols * g->rows;
    g_autofree double *prior = g_new(double, 2 * n);
    for (int k = 0; k < n; k++)
        pcb_reg_field_at(reg, g->tiles[k].cx, g->tiles[k].cy, &prior[2 * k], &prior[2 * k + 1]);
    if (!measure_tiles(ref_g, pho_g, hinv, PROBE_TILE, INFINITY, prior, g, error))
        return FALSE;
    g_autofree double *src = g_new(double, 2 * n);
    g_autofree double *dst = g_new(double, 2 * n);
    g_autofree int *idx = g_new(int, n);
    const int m = tile_pairs(g, hinv, src, dst, idx);
    set_residuals(g, h, src, dst, idx, NULL, m);
    for (int i = 0; i < m; i++) { /* a clear peak only: a small tile's weak one is mostly noise */
        const int k = idx[i];
        g->measured[k] = g->tiles[k].response >= PROBE_MIN_RESPONSE;
        /* against the whole model: lens distortion and bow are no parallax */
        g->res_x[k] -= prior[2 * k];
        g->res_y[k] -= prior[2 * k + 1];
    }
    probe_local(g);
    for (int k = 0; k < n; k++) /* none is consistent: each stands or not on its own */
        g->good[k] = FALSE;
    return TRUE;
}

/* The last level again with tiles half the size (*@tile) and as many nodes as put the first
 * grid's share of measured nodes at REFINE_MAX_TILES (at most REFINE_MAX_DENSE), when the
 * first failed for want of tiles or measured fewer than @min_tiles, on at most
 * REFINE_SMALL_SHARE of its nodes: into @grid, @hl and *@measured when it measures more and
 * succeeds, or when the first failed (*@ok, *@error: the first's outcome, then the dense
 * one's). */
static void
refine_small_board(const PcbImage *rl, const PcbImage *pl, double hl[9], const double h0[9],
                   int min_tiles, gboolean tight, int *tile, TileGrid *grid, int *measured,
                   gboolean *ok, GError **error)
{
    const int nodes = grid->cols * grid->rows, first = *measured;
    if (*tile / 2 < REFINE_TILE_SMALL || first > REFINE_SMALL_SHARE * nodes
        || (*ok ? first >= min_tiles : !g_error_matches(*error, PCB_ERROR, PCB_ERROR_REGISTER)))
        return;
    const int dense = (int) MIN((double) REFINE_MAX_DENSE, (double) REFINE_MAX_TILES * nodes
                                                               / MAX(first, REFINE_FIT_MIN_TILES));
    g_debug("register: %d of %d nodes measured (%s): again with tiles of %d px, up to %d nodes",
            first, nodes, *ok ? "a small board in the view" : (*error)->message, *tile / 2, dense);
    TileGrid g2 = { 0 };
    double h2[9];
    int m2 = 0;
    g_autoptr(GError) e2 = NULL;
    memcpy(h2, h0, sizeof h2);
    gboolean ok2 = refine_level(rl, pl, h2, *tile / 2, dense, 0.0, tight, &g2, &m2, &e2);
    if (ok2 ? *ok && m2 <= first : *ok) { /* the first stands */
        pcb_reg_tile_grid_free(&g2);
        return;
    }
    pcb_reg_tile_grid_free(grid);
    *grid = g2;
    memcpy(hl, h2, sizeof h2);
    *measured = m2;
    *tile /= 2;
    *ok = ok2;
    g_clear_error(error);
    if (!ok2)
        g_propagate_error(error, g_steal_pointer(&e2));
}

gboolean
pcb_reg_refine(const PcbImage *ref_g, const PcbImage *pho_g, const PcbReduced *rr,
               const PcbReduced *pr, int coarse_side, int min_tiles, gboolean tight, double h[9],
               TileGrid *grid, int *measured, GError **error)
{
    /* coarse to fine: the reduced images as an intermediate level when the coarse step to
     * full size is large, then full size */
    int ref_side = MAX(ref_g->width, ref_g->height);
    int nlevels
        = ref_side > REFINE_LEVELS_SIDE * coarse_side && rr->scale < REFINE_LEVELS_SCALE ? 2 : 1;
    memset(grid, 0, sizeof *grid);
    *measured = 0;
    for (int l = 0; l < nlevels; l++) {
        double t0 = pcb_now_ms();
        const gboolean last = l + 1 == nlevels;
        const PcbImage *rl = last ? ref_g : rr->image, *pl = last ? pho_g : pr->image;
        double a = last ? 1.0 : rr->scale, b = last ? 1.0 : pr->scale;
        double A[9], Ainv[9], B[9], Binv[9], t[9], hl[9];
        pcb_h_scaling(a, a, A);
        pcb_h_scaling(1 / a, 1 / a, Ainv);
        pcb_h_scaling(b, b, B);
        pcb_h_scaling(1 / b, 1 / b, Binv);
        pcb_h_mul(A, h, t);
        pcb_h_mul(t, Binv, hl);
        int tile = last ? REFINE_TILE_FULL : REFINE_TILE_MID;
        pcb_reg_tile_grid_free(grid);
        double h0[9];
        memcpy(h0, hl, sizeof h0);
        /* the final level always re-measures at its first estimate: sub-pixel accuracy */
        gboolean ok = refine_level(rl, pl, hl, tile, REFINE_MAX_TILES,
                                   last ? 0.0 : REFINE_RESHIFT_MID, tight, grid, measured, error);
        if (last)
            refine_small_board(rl, pl, hl, h0, min_tiles, tight, &tile, grid, measured, &ok, error);
        if (!ok) {
            pcb_reg_tile_grid_free(grid);
            return FALSE;
        }
        pcb_h_mul(Ainv, hl, t);
        pcb_h_mul(t, B, h);
        pcb_h_normalise(h);
        g_debug("register: level %.3f, %d x %d tiles of %d px, %.0f ms", a, grid->cols, grid->rows,
                tile, pcb_now_ms() - t0);
    }
    return TRUE;
}
