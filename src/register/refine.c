/* Tile refinement: phase-correlated tiles on a node grid, a robust then a least-squares
 * homography, tiles inconsistent with their neighbours rejected. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "core/util.h"
#include "register/homography.h"
#include "register/register_internal.h"

void
pcb_reg_tile_grid_free(TileGrid *g)
{
    g_free(g->tiles);
    g_free(g->res_x);
    g_free(g->res_y);
    g_free(g->good);
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
        spacing *= 1.15;
    }
    g->step_x = (double) (width - 1) / (g->cols - 1);
    g->step_y = (double) (height - 1) / (g->rows - 1);
    int n = g->cols * g->rows;
    g->tiles = g_new0(pcbcv_tile, n);
    g->res_x = g_new0(double, n);
    g->res_y = g_new0(double, n);
    g->good = g_new0(gboolean, n);
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            g->tiles[j * g->cols + i].cx = i * g->step_x;
            g->tiles[j * g->cols + i].cy = j * g->step_y;
        }
}

/* Marks tiles whose residual disagrees with the median of their measured neighbours:
 * a real change or a bad measurement, not a registration error. */
static int
reject_inconsistent(TileGrid *g, double tol)
{
    int n = g->cols * g->rows, kept = 0;
    gboolean *keep = g_new0(gboolean, n);
    double xs[25], ys[25];
    for (int j = 0; j < g->rows; j++)
        for (int i = 0; i < g->cols; i++) {
            int k = j * g->cols + i;
            if (!g->good[k])
                continue;
            int m = 0;
            for (int dj = -2; dj <= 2; dj++)
                for (int di = -2; di <= 2; di++) {
                    int ii = i + di, jj = j + dj;
                    if ((di || dj) && ii >= 0 && jj >= 0 && ii < g->cols && jj < g->rows
                        && g->good[jj * g->cols + ii]) {
                        xs[m] = g->res_x[jj * g->cols + ii];
                        ys[m] = g->res_y[jj * g->cols + ii];
                        m++;
                    }
                }
            if (m < 3) {
                keep[k] = m >= 1 || g->rows * g->cols < 9;
                kept += keep[k];
                continue;
            }
            qsort(xs, (size_t) m, sizeof(double), pcb_reg_cmp_double);
            qsort(ys, (size_t) m, sizeof(double), pcb_reg_cmp_double);
            double mx = xs[m / 2], my = ys[m / 2];
            double dev = hypot(g->res_x[k] - mx, g->res_y[k] - my);
            keep[k] = dev <= tol + 0.1 * hypot(mx, my);
            kept += keep[k];
        }
    memcpy(g->good, keep, (size_t) n * sizeof(gboolean));
    g_free(keep);
    return kept;
}

/* One refinement level: tiles of @tile px over @ref (level grey), photo level grey @pho and
 * H (photo level -> ref level). Refits H by least squares over the consistent tiles.
 * Returns the number of consistent tiles, fills @g's residuals. */
gboolean
pcb_reg_refine_level(const PcbImage *ref, const PcbImage *pho, double h[9], int tile, int max_tiles,
                     double reshift_px, TileGrid *g, int *measured, GError **error)
{
    tile_grid_init(g, ref->width, ref->height, tile * 1.05, max_tiles);
    int n = g->cols * g->rows;
    double hinv[9];
    if (!pcb_h_invert(h, hinv)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER, "degenerate homography");
        return FALSE;
    }
    char msg[256] = "";
    pcbcv_view r = pcb_view(ref), p = pcb_view(pho);
    if (!pcb_cv_check(
            pcbcv_tile_shifts(&r, &p, hinv, tile, reshift_px, g->tiles, n, msg, sizeof msg), msg,
            "tile refinement", PCB_ERROR_REGISTER, error))
        return FALSE;
    g_autofree double *src = g_new(double, 2 * n);
    g_autofree double *dst = g_new(double, 2 * n);
    g_autofree int *idx = g_new(int, n);
    g_autofree guchar *mask = g_new0(guchar, n);
    int m = 0;
    for (int k = 0; k < n; k++) {
        const pcbcv_tile *t = &g->tiles[k];
        if (!t->ok || t->response < 0.05 || t->contrast < 2.0)
            continue;
        double q[2] = { t->cx + t->dx, t->cy + t->dy }, pp[2];
        pcb_h_apply(hinv, q[0], q[1], &pp[0], &pp[1]);
        src[2 * m] = pp[0];
        src[2 * m + 1] = pp[1];
        dst[2 * m] = t->cx;
        dst[2 * m + 1] = t->cy;
        idx[m++] = k;
    }
    *measured = m;
    if (m < 8) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "refinement measured only %d tiles of %d (limit >= 8): too little overlap, "
                    "texture or focus",
                    m, n);
        return FALSE;
    }
    /* robust first fit with a generous threshold (lens distortion is smooth, not outlying) */
    double hr[9];
    double thresh = MAX(2.0, 0.006 * hypot(ref->width, ref->height));
    if (!pcb_cv_check(pcbcv_fit_homography(src, dst, m, 1, thresh, hr, mask, msg, sizeof msg), msg,
                      "tile homography", PCB_ERROR_REGISTER, error))
        return FALSE;
    for (int i = 0; i < m; i++) {
        int k = idx[i];
        double x, y;
        pcb_h_apply(hr, src[2 * i], src[2 * i + 1], &x, &y);
        g->res_x[k] = x - dst[2 * i];
        g->res_y[k] = y - dst[2 * i + 1];
        g->good[k] = mask[i] != 0;
    }
    reject_inconsistent(g, 1.0);
    /* least squares over the consistent tiles: the best single homography */
    int c = 0;
    for (int i = 0; i < m; i++)
        if (g->good[idx[i]]) {
            src[2 * c] = src[2 * i];
            src[2 * c + 1] = src[2 * i + 1];
            dst[2 * c] = dst[2 * i];
            dst[2 * c + 1] = dst[2 * i + 1];
            idx[c++] = idx[i];
        }
    if (c < 8) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "refinement: only %d of %d measured tiles agree (limit >= 8)", c, m);
        return FALSE;
    }
    if (!pcb_cv_check(pcbcv_fit_homography(src, dst, c, 0, 0, h, NULL, msg, sizeof msg), msg,
                      "tile homography", PCB_ERROR_REGISTER, error))
        return FALSE;
    for (int k = 0; k < n; k++)
        g->good[k] = FALSE;
    for (int i = 0; i < c; i++) {
        int k = idx[i];
        double x, y;
        pcb_h_apply(h, src[2 * i], src[2 * i + 1], &x, &y);
        g->res_x[k] = x - dst[2 * i];
        g->res_y[k] = y - dst[2 * i + 1];
        g->good[k] = TRUE;
    }
    return TRUE;
}
