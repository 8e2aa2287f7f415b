/* The radial lens model fit and the local (bow / deformation) displacement field. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "core/util.h"
#include "register/homography.h"
#include "register/register_internal.h"

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
    if (pcbcv_fit_homography(u, q, n, NULL, m->g, NULL, msg, sizeof msg) != PCBCV_OK)
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
double
pcb_reg_build_field(const TileGrid *g, const double h[9], int pw, int ph, PcbRegistration *out)
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
    qsort(mags, (size_t) n, sizeof(double), pcb_reg_cmp_double);
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
