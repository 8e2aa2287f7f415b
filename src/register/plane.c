/* The board plane: the homography fitted to the board, not to the tops of tall parts.
 *
 * Tiles on a part large enough to span several of them agree with their neighbours and are
 * kept for the fit, pulling the homography (and the local field) towards the parts' tops. Once
 * the parallax field is known, a kept tile that moved along it, further than the other kept
 * tiles do, stands above the board: it leaves the fit (it still counts as agreeing: parallax
 * explains it), and the homography is fitted again. This runs only when the tiles that disagree
 * with their neighbours show parallax (PcbParallax.seen): on a flat board the plane fit's
 * residuals are lens distortion and bow, smooth and large, and no tile stands above another. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "core/imgops.h"
#include "register/homography.h"
#include "register/register_internal.h"

/* clang-format off */
#define PLANE_ROUNDS    3   /* fit, find the raised tiles, fit again: at most this often */
#define PLANE_RAISED_PX 0.5 /* a kept tile moved this much (px) further along the parallax than
                               the median kept tile stands above the board */
#define PLANE_MIN_KEEP  0.5 /* never drop more than half the kept tiles */
/* clang-format on */

/* How far each kept tile's residual goes along the parallax direction into @along (valid where
 * @has). Returns how many kept tiles there are. */
static int
along_parallax(const TileGrid *g, const PcbParallax *par, double *along, gboolean *has)
{
    int n = g->cols * g->rows, m = 0;
    for (int k = 0; k < n; k++) {
        double ux, uy, smax;
        along[k] = 0;
        has[k]
            = g->good[k] && pcb_parallax_at(par, g->tiles[k].cx, g->tiles[k].cy, &ux, &uy, &smax);
        if (has[k]) {
            along[k] = g->res_x[k] * ux + g->res_y[k] * uy;
            m++;
        }
    }
    return m;
}

/* Marks in @up the kept tiles that moved along the parallax further than the median kept tile;
 * returns how many. */
static int
raised_tiles(const TileGrid *g, const double *along, const gboolean *has, gboolean *up)
{
    const int n = g->cols * g->rows;
    g_autofree double *sorted = g_new(double, n);
    int m = 0;
    for (int k = 0; k < n; k++)
        if (has[k])
            sorted[m++] = along[k];
    if (m == 0)
        return 0;
    qsort(sorted, (size_t) m, sizeof(double), pcb_reg_cmp_double);
    const double median = sorted[m / 2];
    int raised = 0;
    for (int k = 0; k < n; k++) {
        up[k] = has[k] && along[k] > median + PLANE_RAISED_PX;
        raised += up[k];
    }
    return raised;
}

/* Refits @h by least squares over the kept tiles and sets every measured tile's residual
 * against it. */
static gboolean
refit(TileGrid *g, double h[9], GError **error)
{
    int n = g->cols * g->rows, m = 0;
    g_autofree double *src = g_new(double, 2 * (size_t) n);
    g_autofree double *dst = g_new(double, 2 * (size_t) n);
    double hinv[9];
    if (!pcb_h_invert(h, hinv))
        return FALSE;
    /* the photo point of each measured tile: h (src) = node + residual */
    g_autofree double *psrc = g_new(double, 2 * (size_t) n);
    for (int k = 0; k < n; k++) {
        if (!g->measured[k])
            continue;
        pcb_h_apply(hinv, g->tiles[k].cx + g->res_x[k], g->tiles[k].cy + g->res_y[k], &psrc[2 * k],
                    &psrc[2 * k + 1]);
        if (!g->good[k])
            continue;
        src[2 * m] = psrc[2 * k];
        src[2 * m + 1] = psrc[2 * k + 1];
        dst[2 * m] = g->tiles[k].cx;
        dst[2 * m + 1] = g->tiles[k].cy;
        m++;
    }
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_fit_homography(src, dst, m, NULL, h, NULL, msg, sizeof msg), msg,
                      "board-plane homography", PCB_ERROR_REGISTER, error))
        return FALSE;
    for (int k = 0; k < n; k++) {
        double x, y;
        if (g->measured[k] && pcb_h_apply(h, psrc[2 * k], psrc[2 * k + 1], &x, &y)) {
            g->res_x[k] = x - g->tiles[k].cx;
            g->res_y[k] = y - g->tiles[k].cy;
        }
    }
    return TRUE;
}

gboolean
pcb_reg_board_plane(TileGrid *g, double h[9], int rw, int rh, int pw, int ph,
                    const PcbRegisterParams *params, GError **error)
{
    const int n = g->cols * g->rows;
    g_autofree double *along = g_new(double, n);
    g_autofree gboolean *has = g_new(gboolean, n);
    g_autofree gboolean *up = g_new(gboolean, n);
    for (int round = 0; round < PLANE_ROUNDS; round++) {
        PcbParallax par;
        pcb_reg_parallax(g, h, rw, rh, pw, ph, params, NULL, &par);
        /* only where the tiles that disagree with their neighbours show parallax: a smooth
         * displacement (lens distortion, bow) is no height */
        int kept = par.valid && (round > 0 || par.seen) ? along_parallax(g, &par, along, has) : 0;
        int raised = kept > 0 ? raised_tiles(g, along, has, up) : 0;
        g_debug("register: board plane, round %d: %d of %d kept tiles stand above the board", round,
                raised, kept);
        if (raised == 0 || kept - raised < PLANE_MIN_KEEP * kept
            || kept - raised < params->min_tiles)
            return TRUE;
        for (int k = 0; k < n; k++)
            if (up[k]) {
                g->good[k] = FALSE;
                g->raised[k] = TRUE;
            }
        if (!refit(g, h, error))
            return FALSE;
    }
    return TRUE;
}
