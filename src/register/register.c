/* Registration: coarse features -> tile refinement (coarse to fine) -> local field -> gates.
 * Policy lives here; OpenCV is reached only through the shim. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "core/util.h"
#include "register/homography.h"

typedef struct {
    double h[9]; /* photo -> reference, full resolution */
    int matches, inliers, ref_kp, photo_kp;
    double spread;
    const char *detector;
} Coarse;

/* @src at about @side px on its longer side (never enlarged): @src itself when it is already
 * that small, else a reduced copy owned through *@owned. NULL on error. */
static const PcbImage *
at_side(const PcbImage *src, int side, PcbImage **owned, GError **error)
{
    *owned = NULL;
    double f = (double) side / MAX(src->width, src->height);
    if (f >= 0.999)
        return src;
    *owned = pcb_image_resize(src, MAX(1, (int) lround(src->width * f)),
                              MAX(1, (int) lround(src->height * f)), error);
    return *owned;
}

/* Coarse estimate on reduced grey images: ORB first, SIFT when ORB finds too little. */
static gboolean
coarse_register(const PcbReduced *ref_r, const PcbReduced *pho_r, const PcbRegisterParams *params,
                Coarse *out, GError **error)
{
    g_autoptr(PcbImage) rc_owned = NULL;
    g_autoptr(PcbImage) pc_owned = NULL;
    const PcbImage *rc = at_side(ref_r->image, params->coarse_side, &rc_owned, error);
    if (rc == NULL)
        return FALSE;
    const PcbImage *pc = at_side(pho_r->image, params->coarse_side, &pc_owned, error);
    if (pc == NULL)
        return FALSE;
    /* full resolution -> coarse, per axis */
    double srx = ref_r->scale * rc->width / ref_r->image->width;
    double sry = ref_r->scale * rc->height / ref_r->image->height;
    double spx = pho_r->scale * pc->width / pho_r->image->width;
    double spy = pho_r->scale * pc->height / pho_r->image->height;

    pcbcv_view r = pcb_view(rc), p = pcb_view(pc);
    static const pcbcv_detector detectors[] = { PCBCV_DETECT_ORB, PCBCV_DETECT_SIFT };
    static const char *names[] = { "ORB", "SIFT" };
    pcbcv_homography best = { 0 };
    int best_d = -1;
    char msg[256] = "";
    for (int d = 0; d < 2; d++) {
        pcbcv_match_opts o
            = { detectors[d], params->max_features, 8, params->ratio, 3.0, params->seed };
        if (d == 1)
            o.max_features = params->max_features / 2;
        pcbcv_homography hm;
        msg[0] = '\0';
        pcbcv_status st = pcbcv_match_homography(&r, &p, &o, &hm, msg, sizeof msg);
        if (st != PCBCV_OK && st != PCBCV_E_NOMATCH)
            return pcb_cv_check(st, msg, "feature matching", PCB_ERROR_REGISTER, error);
        if (st == PCBCV_OK && hm.inliers > best.inliers) {
            best = hm;
            best_d = d;
        }
        else if (st != PCBCV_OK && best_d < 0) {
            best.ref_keypoints = MAX(best.ref_keypoints, hm.ref_keypoints);
            best.photo_keypoints = MAX(best.photo_keypoints, hm.photo_keypoints);
            best.matches = MAX(best.matches, hm.matches);
        }
        g_debug("coarse %s: %d/%d keypoints, %d matches, %d inliers, rms %.2f, spread %.2f",
                names[d], hm.ref_keypoints, hm.photo_keypoints, hm.matches, hm.inliers, hm.rms_px,
                hm.spread);
        /* enough, well spread: no need for the slower detector */
        if (best.inliers >= 3 * params->min_inliers && best.spread >= 0.5)
            break;
    }
    out->matches = best.matches;
    out->inliers = best.inliers;
    out->ref_kp = best.ref_keypoints;
    out->photo_kp = best.photo_keypoints;
    out->spread = best.spread;
    out->detector = best_d >= 0 ? names[best_d] : "none";
    if (best_d < 0 || best.inliers < params->min_inliers) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "photo does not match the reference: %d coarse inliers (limit >= %d; "
                    "%d matches, %d/%d keypoints)",
                    best.inliers, params->min_inliers, best.matches, best.ref_keypoints,
                    best.photo_keypoints);
        return FALSE;
    }
    double ratio = (double) best.inliers / MAX(1, best.matches);
    if (ratio < params->min_inlier_ratio) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "photo does not match the reference: inlier ratio %.3f (limit >= %.3f; %d "
                    "of %d matches)",
                    ratio, params->min_inlier_ratio, best.inliers, best.matches);
        return FALSE;
    }
    /* full resolution: H = Sr^-1 * Hc * Sp */
    double sr_inv[9], sp_m[9], t[9];
    pcb_h_scaling(1 / srx, 1 / sry, sr_inv);
    pcb_h_scaling(spx, spy, sp_m);
    pcb_h_mul(sr_inv, best.h, t);
    pcb_h_mul(t, sp_m, out->h);
    pcb_h_normalise(out->h);
    return TRUE;
}

typedef struct {
    int cols, rows;
    double step_x, step_y;
    pcbcv_tile *tiles; /* cols * rows, on the node grid */
    double *res_x, *res_y;
    gboolean *good;
} TileGrid;

static void
tile_grid_free(TileGrid *g)
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

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
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
            qsort(xs, (size_t) m, sizeof(double), cmp_double);
            qsort(ys, (size_t) m, sizeof(double), cmp_double);
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
static gboolean
refine_level(const PcbImage *ref, const PcbImage *pho, double h[9], int tile, int max_tiles,
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

/* Radial lens distortion about the photo centre (one-parameter Brown model): the ideal point
 * u = c + (p - c) (1 + k |p - c|^2 / r2); the reference point q = G(u). */
typedef struct {
    double k, cx, cy, r2;
    double g[9], ginv[9];
} Radial;

static void
radial_undistort(const Radial *m, double px, double py, double *ux, double *uy)
{
    double dx = px - m->cx, dy = py - m->cy, f = 1 + m->k * (dx * dx + dy * dy) / m->r2;
    *ux = m->cx + dx * f;
    *uy = m->cy + dy * f;
}

static void
radial_distort(const Radial *m, double ux, double uy, double *px, double *py)
{
    double x = ux, y = uy;
    for (int i = 0; i < 40; i++) { /* fixed point of u = c + (p - c) f(p) */
        double f = 1 + m->k * ((x - m->cx) * (x - m->cx) + (y - m->cy) * (y - m->cy)) / m->r2;
        if (f < 0.2)
            f = 0.2;
        x = m->cx + (ux - m->cx) / f;
        y = m->cy + (uy - m->cy) / f;
    }
    *px = x;
    *py = y;
}

/* Least-squares G for a given k over the tile pairs; returns the RMS (reference px) or a
 * negative value when the fit fails. */
static double
radial_fit_k(Radial *m, const double *p, const double *q, int n, double *u)
{
    for (int i = 0; i < n; i++)
        radial_undistort(m, p[2 * i], p[2 * i + 1], &u[2 * i], &u[2 * i + 1]);
    char msg[64];
    if (pcbcv_fit_homography(u, q, n, 0, 0, m->g, NULL, msg, sizeof msg) != PCBCV_OK)
        return -1;
    double ss = 0;
    for (int i = 0; i < n; i++) {
        double x, y;
        if (!pcb_h_apply(m->g, u[2 * i], u[2 * i + 1], &x, &y))
            return -1;
        ss += (x - q[2 * i]) * (x - q[2 * i]) + (y - q[2 * i + 1]) * (y - q[2 * i + 1]);
    }
    return sqrt(ss / n);
}

/* Fits the radial model to the consistent tiles (photo point H^-1(q + residual) -> q).
 * Returns TRUE when it explains the tiles clearly better than the homography alone: lens
 * distortion grows with the cube of the radius, which a field filled from the inner tiles
 * cannot follow to the corners. */
static gboolean
radial_fit(const TileGrid *g, const double h[9], int pw, int ph, Radial *m)
{
    int n = g->cols * g->rows, c = 0;
    double hinv[9];
    if (!pcb_h_invert(h, hinv))
        return FALSE;
    g_autofree double *p = g_new(double, 2 * n);
    g_autofree double *q = g_new(double, 2 * n);
    g_autofree double *u = g_new(double, 2 * n);
    double ss0 = 0;
    for (int k = 0; k < n; k++) {
        if (!g->good[k])
            continue;
        q[2 * c] = g->tiles[k].cx;
        q[2 * c + 1] = g->tiles[k].cy;
        if (!pcb_h_apply(hinv, q[2 * c] + g->res_x[k], q[2 * c + 1] + g->res_y[k], &p[2 * c],
                         &p[2 * c + 1]))
            continue;
        ss0 += g->res_x[k] * g->res_x[k] + g->res_y[k] * g->res_y[k];
        c++;
    }
    if (c < 12)
        return FALSE;
    double rms0 = sqrt(ss0 / c);
    m->cx = (pw - 1) / 2.0;
    m->cy = (ph - 1) / 2.0;
    m->r2 = 0.25 * ((double) pw * pw + (double) ph * ph);
    /* scan, then golden-section search around the best */
    double best_k = 0, best = -1;
    for (int i = -20; i <= 20; i++) {
        m->k = 0.01 * i;
        double r = radial_fit_k(m, p, q, c, u);
        if (r >= 0 && (best < 0 || r < best)) {
            best = r;
            best_k = m->k;
        }
    }
    if (best < 0)
        return FALSE;
    const double gr = 0.5 * (sqrt(5.0) - 1);
    double a = best_k - 0.01, b = best_k + 0.01;
    for (int it = 0; it < 24; it++) {
        double x1 = b - gr * (b - a), x2 = a + gr * (b - a);
        m->k = x1;
        double f1 = radial_fit_k(m, p, q, c, u);
        m->k = x2;
        double f2 = radial_fit_k(m, p, q, c, u);
        if (f1 < 0 || f2 < 0)
            break;
        if (f1 < f2)
            b = x2;
        else
            a = x1;
    }
    m->k = 0.5 * (a + b);
    double rms = radial_fit_k(m, p, q, c, u);
    if (rms < 0 || !pcb_h_invert(m->g, m->ginv))
        return FALSE;
    g_debug("radial model: k %.4f, tile rms %.3f px (homography alone %.3f px)", m->k, rms, rms0);
    return rms < 0.8 * rms0 && rms0 - rms > 0.05;
}

/* The local field from the consistent tiles' residuals: holes filled from neighbours, one
 * smoothing pass. With a radial model (lens distortion) the field is the model's plus the
 * tiles' residual to it, filled and smoothed. Returns the RMS of the kept tiles against the
 * smoothed field. */
static double
build_field(const TileGrid *g, const double h[9], int pw, int ph, PcbRegistration *out)
{
    int cols = g->cols, rows = g->rows, n = cols * rows;
    float *dx = g_new0(float, n), *dy = g_new0(float, n);
    gboolean *known = g_new0(gboolean, n);
    Radial model;
    const gboolean radial = radial_fit(g, h, pw, ph, &model);
    g_autofree float *mx = g_new0(float, n);
    g_autofree float *my = g_new0(float, n);
    if (radial)
        for (int k = 0; k < n; k++) {
            /* the model's displacement at the node: H(p) - q, p its distorted photo point */
            double ux, uy, px, py, x, y;
            double qx = g->tiles[k].cx, qy = g->tiles[k].cy;
            if (!pcb_h_apply(model.ginv, qx, qy, &ux, &uy))
                continue;
            radial_distort(&model, ux, uy, &px, &py);
            if (!pcb_h_apply(h, px, py, &x, &y))
                continue;
            mx[k] = (float) (x - qx);
            my[k] = (float) (y - qy);
        }
    for (int k = 0; k < n; k++)
        if (g->good[k]) {
            /* d(q) = H(P) - q: the residual itself (less the model's, when there is one) */
            dx[k] = (float) g->res_x[k] - mx[k];
            dy[k] = (float) g->res_y[k] - my[k];
            known[k] = TRUE;
        }
    gboolean *next = g_new0(gboolean, n);
    for (int pass = 0; pass < cols + rows; pass++) {
        gboolean changed = FALSE;
        memcpy(next, known, (size_t) n * sizeof(gboolean));
        for (int j = 0; j < rows; j++)
            for (int i = 0; i < cols; i++) {
                int k = j * cols + i;
                if (known[k])
                    continue;
                double sx = 0, sy = 0;
                int m = 0;
                /* lens distortion and bow grow towards the edges: extrapolate linearly from
                 * the two nearest known nodes inward, along rows and columns */
                static const int dirs[4][2] = { { -1, 0 }, { 1, 0 }, { 0, -1 }, { 0, 1 } };
                for (int d = 0; d < 4; d++) {
                    int i1 = i + dirs[d][0], j1 = j + dirs[d][1];
                    int i2 = i + 2 * dirs[d][0], j2 = j + 2 * dirs[d][1];
                    if (i2 < 0 || j2 < 0 || i2 >= cols || j2 >= rows || !known[j1 * cols + i1]
                        || !known[j2 * cols + i2])
                        continue;
                    sx += 2.0 * dx[j1 * cols + i1] - dx[j2 * cols + i2];
                    sy += 2.0 * dy[j1 * cols + i1] - dy[j2 * cols + i2];
                    m++;
                }
                /* else: the mean of the known neighbours */
                if (radial) { /* the residual to the model is flat: no extrapolation */
                    sx = sy = 0;
                    m = 0;
                }
                const gboolean extrapolated = m > 0;
                for (int dj = -1; dj <= 1 && !extrapolated; dj++)
                    for (int di = -1; di <= 1; di++) {
                        int ii = i + di, jj = j + dj;
                        if (ii >= 0 && jj >= 0 && ii < cols && jj < rows && known[jj * cols + ii]) {
                            sx += dx[jj * cols + ii];
                            sy += dy[jj * cols + ii];
                            m++;
                        }
                    }
                if (m > 0) {
                    dx[k] = (float) (sx / m);
                    dy[k] = (float) (sy / m);
                    next[k] = TRUE;
                    changed = TRUE;
                }
            }
        memcpy(known, next, (size_t) n * sizeof(gboolean));
        if (!changed)
            break;
    }
    /* smooth: 3x3 binomial */
    float *sx = g_new0(float, n), *sy = g_new0(float, n);
    for (int j = 0; j < rows; j++)
        for (int i = 0; i < cols; i++) {
            double ax = 0, ay = 0, w = 0;
            for (int dj = -1; dj <= 1; dj++)
                for (int di = -1; di <= 1; di++) {
                    int ii = CLAMP(i + di, 0, cols - 1), jj = CLAMP(j + dj, 0, rows - 1);
                    double wt = (di ? 1 : 2) * (dj ? 1 : 2);
                    ax += wt * dx[jj * cols + ii];
                    ay += wt * dy[jj * cols + ii];
                    w += wt;
                }
            sx[j * cols + i] = (float) (ax / w) + mx[j * cols + i];
            sy[j * cols + i] = (float) (ay / w) + my[j * cols + i];
        }
    double ss = 0;
    int m = 0;
    g_autofree double *mags = g_new(double, n);
    for (int k = 0; k < n; k++) {
        mags[k] = hypot(sx[k], sy[k]);
        if (g->good[k]) {
            ss += pow(g->res_x[k] - sx[k], 2) + pow(g->res_y[k] - sy[k], 2);
            m++;
        }
    }
    qsort(mags, (size_t) n, sizeof(double), cmp_double);
    out->field_p95_px = mags[MIN(n - 1, (int) floor(0.95 * (n - 1) + 0.5))];
    g_free(dx);
    g_free(dy);
    g_free(known);
    g_free(next);
    pcb_registration_clear(out);
    out->field_cols = cols;
    out->field_rows = rows;
    out->field_step_x = g->step_x;
    out->field_step_y = g->step_y;
    out->field_dx = sx;
    out->field_dy = sy;
    return m > 0 ? sqrt(ss / m) : 0;
}

/* Fraction of the reference whose pixels land inside the photo. */
static double
coverage(const double h[9], int rw, int rh, int pw, int ph)
{
    double hinv[9];
    if (!pcb_h_invert(h, hinv))
        return 0;
    int in = 0, n = 0;
    for (int j = 0; j < 64; j++)
        for (int i = 0; i < 64; i++, n++) {
            double x, y;
            if (pcb_h_apply(hinv, (i + 0.5) * rw / 64.0, (j + 0.5) * rh / 64.0, &x, &y) && x >= 0
                && y >= 0 && x <= pw - 1 && y <= ph - 1)
                in++;
        }
    return (double) in / n;
}

gboolean
pcb_register(const PcbImage *reference, const PcbImage *photo, const PcbRegisterParams *params,
             PcbRegistration *out, GError **error)
{
    return pcb_register_reduced(reference, photo, NULL, NULL, params, out, error);
}

/* The caller's reduced copy, or one made here from the full-resolution grey image at the
 * intermediate level's size. */
static gboolean
reduced_or_made(const PcbReduced *given, const PcbImage *full_g, int side, PcbReduced *out,
                PcbImage **owned, GError **error)
{
    *owned = NULL;
    if (given != NULL && given->image != NULL) {
        if (given->image->format == PCB_FORMAT_GRAY8) {
            *out = *given;
            return TRUE;
        }
        if ((*owned = pcb_image_gray(given->image, error)) == NULL)
            return FALSE;
        out->image = *owned;
        out->scale = given->scale;
        return TRUE;
    }
    /* a whole factor k (OpenCV's fast area path; scale exactly 1/k): the whole k x k cells,
     * the few columns and rows left over dropped */
    int k = MAX(1, MAX(full_g->width, full_g->height) / side);
    if (k == 1) {
        out->image = full_g;
        out->scale = 1.0;
        return TRUE;
    }
    g_autoptr(PcbImage) whole = pcb_image_new_view(full_g->width / k * k, full_g->height / k * k,
                                                   full_g->format, full_g->stride, full_g->data);
    if ((*owned = pcb_image_resize(whole, full_g->width / k, full_g->height / k, error)) == NULL)
        return FALSE;
    out->image = *owned;
    out->scale = 1.0 / k;
    return TRUE;
}

gboolean
pcb_register_reduced(const PcbImage *reference, const PcbImage *photo,
                     const PcbReduced *ref_reduced, const PcbReduced *photo_reduced,
                     const PcbRegisterParams *params, PcbRegistration *out, GError **error)
{
    PcbRegisterParams defaults;
    if (params == NULL) {
        pcb_register_params_init(&defaults);
        params = &defaults;
    }
    pcb_registration_clear(out);
    memset(out, 0, sizeof *out);
    if (params->aligned) {
        if (photo->width != reference->width || photo->height != reference->height) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                        "photo is %d x %d, the reference %d x %d: an aligned photo must have the "
                        "reference's size",
                        photo->width, photo->height, reference->width, reference->height);
            return FALSE;
        }
        static const double identity[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        memcpy(out->h, identity, sizeof identity);
        out->scale = out->coverage = 1.0;
        return TRUE;
    }
    double t0 = pcb_now_ms(), t_coarse = t0;
    g_autoptr(PcbImage) ref_g = pcb_image_gray(reference, error);
    if (ref_g == NULL)
        return FALSE;
    g_autoptr(PcbImage) pho_g = pcb_image_gray(photo, error);
    if (pho_g == NULL)
        return FALSE;
    PcbReduced rr, pr;
    g_autoptr(PcbImage) rr_owned = NULL;
    g_autoptr(PcbImage) pr_owned = NULL;
    int side = 3 * params->coarse_side / 2;
    if (!reduced_or_made(ref_reduced, ref_g, side, &rr, &rr_owned, error)
        || !reduced_or_made(photo_reduced, pho_g, side, &pr, &pr_owned, error))
        return FALSE;
    g_debug("register: grey and reduced images %.0f ms (%d x %d at %.3f, %d x %d at %.3f)",
            pcb_now_ms() - t0, rr.image->width, rr.image->height, rr.scale, pr.image->width,
            pr.image->height, pr.scale);

    t0 = pcb_now_ms();
    Coarse c;
    memset(&c, 0, sizeof c);
    gboolean ok = coarse_register(&rr, &pr, params, &c, error);
    g_debug("register: coarse %.0f ms", pcb_now_ms() - t0);
    out->coarse_matches = c.matches;
    out->coarse_inliers = c.inliers;
    out->coarse_ms = pcb_now_ms() - t_coarse;
    if (!ok)
        return FALSE;
    double t_refine = pcb_now_ms();
    double h[9];
    memcpy(h, c.h, sizeof h);
    double scale = pcb_h_photo_scale(h, reference->width / 2.0, reference->height / 2.0);
    if (!(scale > 0.2 && scale < 5.0)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "implausible registration: photo scale %.3f photo px per reference px "
                    "(limit 0.2 .. 5) or mirrored",
                    scale);
        return FALSE;
    }

    /* coarse to fine: the reduced images as an intermediate level when the coarse step to
     * full size is large, then full size */
    int ref_side = MAX(reference->width, reference->height);
    int nlevels = ref_side > 2.5 * params->coarse_side && rr.scale < 0.8 ? 2 : 1;
    TileGrid grid = { 0 };
    int measured = 0;
    for (int l = 0; l < nlevels; l++) {
        t0 = pcb_now_ms();
        const gboolean last = l + 1 == nlevels;
        const PcbImage *rl = last ? ref_g : rr.image, *pl = last ? pho_g : pr.image;
        double a = last ? 1.0 : rr.scale, b = last ? 1.0 : pr.scale;
        double A[9], Ainv[9], B[9], Binv[9], t[9], hl[9];
        pcb_h_scaling(a, a, A);
        pcb_h_scaling(1 / a, 1 / a, Ainv);
        pcb_h_scaling(b, b, B);
        pcb_h_scaling(1 / b, 1 / b, Binv);
        pcb_h_mul(A, h, t);
        pcb_h_mul(t, Binv, hl);
        int tile = l + 1 < nlevels ? 64 : 96;
        tile_grid_free(&grid);
        memset(&grid, 0, sizeof grid);
        /* the final level always re-measures at its first estimate: sub-pixel accuracy */
        if (!refine_level(rl, pl, hl, tile, 300, last ? 0.0 : 0.5, &grid, &measured, error)) {
            tile_grid_free(&grid);
            return FALSE;
        }
        pcb_h_mul(Ainv, hl, t);
        pcb_h_mul(t, B, h);
        pcb_h_normalise(h);
        g_debug("register: level %.3f, %d x %d tiles of %d px, %.0f ms", a, grid.cols, grid.rows,
                tile, pcb_now_ms() - t0);
    }
    out->refine_ms = pcb_now_ms() - t_refine;
    int kept = 0;
    for (int k = 0; k < grid.cols * grid.rows; k++)
        kept += grid.good[k];
    memcpy(out->h, h, sizeof out->h);
    out->tiles = measured;
    out->inliers = kept;
    out->scale = pcb_h_photo_scale(h, reference->width / 2.0, reference->height / 2.0);
    out->rotation_deg = pcb_h_rotation_deg(h, reference->width / 2.0, reference->height / 2.0);
    out->coverage = coverage(h, reference->width, reference->height, photo->width, photo->height);
    double rms = build_field(&grid, h, photo->width, photo->height, out);
    if (!params->local_field) {
        double ss = 0;
        for (int k = 0; k < grid.cols * grid.rows; k++)
            if (grid.good[k])
                ss += grid.res_x[k] * grid.res_x[k] + grid.res_y[k] * grid.res_y[k];
        rms = sqrt(ss / MAX(1, kept));
        pcb_registration_clear(out);
    }
    out->rms_px = rms;
    tile_grid_free(&grid);

    double agree = (double) kept / MAX(1, measured);
    double max_field = params->max_field_px > 0 ? params->max_field_px
                                                : 0.02 * hypot(reference->width, reference->height);
    if (kept < 12 || agree < 0.3) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "registration inconsistent: %d of %d refinement tiles agree (%.0f%%; limit "
                    ">= 12 and >= 30%%)",
                    kept, measured, 100 * agree);
        return FALSE;
    }
    if (out->rms_px > params->max_rms_px) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "registration residual rms %.2f px (limit <= %.2f px)", out->rms_px,
                    params->max_rms_px);
        return FALSE;
    }
    if (out->field_p95_px > max_field) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "local displacement field p95 %.1f px (limit <= %.1f px): board bow or lens "
                    "distortion too strong, or a wrong match",
                    out->field_p95_px, max_field);
        return FALSE;
    }
    if (out->coverage < params->min_coverage) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "photo covers %.0f%% of the reference (limit >= %.0f%%)", 100 * out->coverage,
                    100 * params->min_coverage);
        return FALSE;
    }
    g_debug("registered (%s): %d/%d tiles, rms %.3f px, field p95 %.2f px, coverage %.2f, "
            "scale %.3f, rotation %.1f deg",
            c.detector, kept, measured, out->rms_px, out->field_p95_px, out->coverage, out->scale,
            out->rotation_deg);
    return TRUE;
}

gboolean
pcb_warp(const PcbImage *photo, const PcbRegistration *reg, int width, int height,
         PcbImage **warped, PcbImage **valid, GError **error)
{
    double h[9];
    memcpy(h, reg->h, sizeof h);
    /* a photo much finer than the reference is reduced first: bilinear sampling would alias */
    g_autoptr(PcbImage) reduced = NULL;
    const PcbImage *src = photo;
    double s = pcb_h_photo_scale(h, width / 2.0, height / 2.0);
    if (s > 1.3) {
        reduced = pcb_image_resize(photo, MAX(1, (int) lround(photo->width / s)),
                                   MAX(1, (int) lround(photo->height / s)), error);
        if (reduced == NULL)
            return FALSE;
        double bx = (double) reduced->width / photo->width;
        double by = (double) reduced->height / photo->height;
        double binv[9], t[9];
        pcb_h_scaling(1 / bx, 1 / by, binv);
        pcb_h_mul(h, binv, t);
        memcpy(h, t, sizeof h);
        src = reduced;
    }
    double hinv[9];
    if (!pcb_h_invert(h, hinv)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER, "degenerate homography");
        return FALSE;
    }
    g_autoptr(PcbImage) out = pcb_image_new(width, height, photo->format, error);
    if (out == NULL)
        return FALSE;
    g_autoptr(PcbImage) val = NULL;
    if (valid != NULL && (val = pcb_image_new(width, height, PCB_FORMAT_GRAY8, error)) == NULL)
        return FALSE;
    pcbcv_field field = { reg->field_cols,   reg->field_rows, reg->field_step_x,
                          reg->field_step_y, reg->field_dx,   reg->field_dy };
    pcbcv_view sv = pcb_view(src), ov = pcb_view(out), vv = { 0 };
    if (val != NULL)
        vv = pcb_view(val);
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_warp(&sv, hinv, reg->field_dx ? &field : NULL, &ov, val ? &vv : NULL,
                                 msg, sizeof msg),
                      msg, "warp", PCB_ERROR_BACKEND, error))
        return FALSE;
    *warped = g_steal_pointer(&out);
    if (valid != NULL)
        *valid = g_steal_pointer(&val);
    return TRUE;
}
