/* The radial lens model fit and the local (bow / deformation) displacement field. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "register/homography.h"
#include "register/register_internal.h"

#define RADIAL_DISTORT_ITERS 40   /* fixed-point iterations inverting the radial model */
#define RADIAL_MIN_FACTOR    0.2  /* the radial factor is kept >= 0.2 (no fold-over) */
#define RADIAL_MIN_TILES     12   /* fewer consistent tiles: no radial model */
#define RADIAL_K_STEP        0.01 /* scan of k in steps of 0.01 ... */
#define RADIAL_K_STEPS       20   /* ... over -0.2 .. 0.2 (+-20 steps) */
#define RADIAL_GOLDEN_ITERS  24   /* golden-section refinements of k within +-1 step */
#define RADIAL_GAIN          0.8  /* the model is used when it cuts the tile RMS below 0.8 x ... */
#define RADIAL_MIN_GAIN_PX   0.05 /* ... and by more than 0.05 px */
#define FIELD_P95            0.95 /* the field's reported size: this quantile of its magnitudes */
#define LENS_AGREE_PX        1.0  /* a tile within 1 px of the lens model ... */
#define LENS_AGREE_REL       0.1  /* ... plus 10% of the model's displacement there agrees */
#define LENS_ROUNDS          2    /* tiles readmitted, the model refitted, at most this often */

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
    for (int i = 0; i < RADIAL_DISTORT_ITERS; i++) { /* fixed point of u = c + (p - c) f(p) */
        double f = 1 + m->k * ((x - m->cx) * (x - m->cx) + (y - m->cy) * (y - m->cy)) / m->r2;
        if (f < RADIAL_MIN_FACTOR)
            f = RADIAL_MIN_FACTOR;
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

/* The best k of the model over @c pairs (@u: scratch): a scan, then a golden-section search
 * around the best; FALSE when no k fits. */
static gboolean
radial_search_k(Radial *m, const double *p, const double *q, int c, double *u)
{
    double best_k = 0, best = -1;
    for (int i = -RADIAL_K_STEPS; i <= RADIAL_K_STEPS; i++) {
        m->k = RADIAL_K_STEP * i;
        double r = radial_fit_k(m, p, q, c, u);
        if (r >= 0 && (best < 0 || r < best)) {
            best = r;
            best_k = m->k;
        }
    }
    if (best < 0)
        return FALSE;
    const double gr = 0.5 * (sqrt(5.0) - 1); /* the golden ratio's inverse */
    double a = best_k - RADIAL_K_STEP, b = best_k + RADIAL_K_STEP;
    for (int it = 0; it < RADIAL_GOLDEN_ITERS; it++) {
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
    return TRUE;
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
    if (c < RADIAL_MIN_TILES)
        return FALSE;
    double rms0 = sqrt(ss0 / c);
    m->cx = (pw - 1) / 2.0;
    m->cy = (ph - 1) / 2.0;
    m->r2 = 0.25 * ((double) pw * pw + (double) ph * ph); /* the half diagonal, squared */
    if (!radial_search_k(m, p, q, c, u))
        return FALSE;
    double rms = radial_fit_k(m, p, q, c, u);
    if (rms < 0 || !pcb_h_invert(m->g, m->ginv))
        return FALSE;
    g_debug("radial model: k %.4f, tile rms %.3f px (homography alone %.3f px)", m->k, rms, rms0);
    return rms < RADIAL_GAIN * rms0 && rms0 - rms > RADIAL_MIN_GAIN_PX;
}

/* The model's displacement at each node into @mx, @my: H(p) - q, p the node's distorted
 * photo point (0 where it does not map). */
static void
radial_node_field(const TileGrid *g, const double h[9], const Radial *model, float *mx, float *my)
{
    for (int k = 0; k < g->cols * g->rows; k++) {
        double ux, uy, px, py, x, y;
        double qx = g->tiles[k].cx, qy = g->tiles[k].cy;
        if (!pcb_h_apply(model->ginv, qx, qy, &ux, &uy))
            continue;
        radial_distort(model, ux, uy, &px, &py);
        if (!pcb_h_apply(h, px, py, &x, &y))
            continue;
        mx[k] = (float) (x - qx);
        my[k] = (float) (y - qy);
    }
}

int
pcb_reg_lens_readmit(TileGrid *g, const double h[9], int pw, int ph)
{
    const int n = g->cols * g->rows;
    int total = 0;
    for (int round = 0; round < LENS_ROUNDS; round++) {
        Radial model;
        if (!radial_fit(g, h, pw, ph, &model))
            break;
        g_autofree float *mx = g_new0(float, n);
        g_autofree float *my = g_new0(float, n);
        radial_node_field(g, h, &model, mx, my);
        int added = 0;
        for (int k = 0; k < n; k++) {
            if (!g->measured[k] || g->good[k] || g->raised[k])
                continue;
            const double ex = g->res_x[k] - mx[k], ey = g->res_y[k] - my[k];
            if (hypot(ex, ey) <= LENS_AGREE_PX + LENS_AGREE_REL * hypot(mx[k], my[k])) {
                g->good[k] = TRUE;
                added++;
            }
        }
        g_debug("register: lens model k %.4f: %d more tiles agree with it", model.k, added);
        total += added;
        if (added == 0)
            break;
    }
    return total;
}

void
pcb_reg_field_at(const PcbRegistration *reg, double x, double y, double *dx, double *dy)
{
    *dx = *dy = 0;
    if (reg->field_dx == NULL || reg->field_cols < 2 || reg->field_rows < 2)
        return;
    const double gx = CLAMP(x / reg->field_step_x, 0.0, reg->field_cols - 1.0);
    const double gy = CLAMP(y / reg->field_step_y, 0.0, reg->field_rows - 1.0);
    const int ix = MIN((int) gx, reg->field_cols - 2), iy = MIN((int) gy, reg->field_rows - 2);
    const double fx = gx - ix, fy = gy - iy;
    const size_t k = (size_t) iy * reg->field_cols + ix, below = k + reg->field_cols;
    *dx = (1 - fy) * ((1 - fx) * reg->field_dx[k] + fx * reg->field_dx[k + 1])
          + fy * ((1 - fx) * reg->field_dx[below] + fx * reg->field_dx[below + 1]);
    *dy = (1 - fy) * ((1 - fx) * reg->field_dy[k] + fx * reg->field_dy[k + 1])
          + fy * ((1 - fx) * reg->field_dy[below] + fx * reg->field_dy[below + 1]);
}

/* A field under construction on the node grid: which nodes are known. */
typedef struct {
    int cols, rows;
    float *dx, *dy;
    gboolean *known;
} Field;

/* Linear extrapolation into unknown node (@i, @j) from the two nearest known nodes inward,
 * along rows and columns (lens distortion and bow grow towards the edges): their sum into
 * @sx, @sy; returns how many directions gave one. */
static int
extrapolate_node(const Field *f, int i, int j, double *sx, double *sy)
{
    static const int dirs[4][2] = { { -1, 0 }, { 1, 0 }, { 0, -1 }, { 0, 1 } };
    int m = 0;
    for (int d = 0; d < 4; d++) {
        int i1 = i + dirs[d][0], j1 = j + dirs[d][1];
        int i2 = i + 2 * dirs[d][0], j2 = j + 2 * dirs[d][1];
        if (i2 < 0 || j2 < 0 || i2 >= f->cols || j2 >= f->rows || !f->known[j1 * f->cols + i1]
            || !f->known[j2 * f->cols + i2])
            continue;
        *sx += 2.0 * f->dx[j1 * f->cols + i1] - f->dx[j2 * f->cols + i2];
        *sy += 2.0 * f->dy[j1 * f->cols + i1] - f->dy[j2 * f->cols + i2];
        m++;
    }
    return m;
}

/* The sum of the known 3 x 3 neighbours of node (@i, @j) into @sx, @sy; returns how many. */
static int
neighbour_sum(const Field *f, int i, int j, double *sx, double *sy)
{
    int m = 0;
    for (int jj = MAX(0, j - 1); jj <= MIN(f->rows - 1, j + 1); jj++)
        for (int ii = MAX(0, i - 1); ii <= MIN(f->cols - 1, i + 1); ii++)
            if (f->known[jj * f->cols + ii]) {
                *sx += f->dx[jj * f->cols + ii];
                *sy += f->dy[jj * f->cols + ii];
                m++;
            }
    return m;
}

/* Fills the unknown nodes ring by ring: extrapolated (not with a radial model: the residual
 * to it is flat), else the mean of the known neighbours. */
static void
fill_field(Field *f, gboolean radial)
{
    int n = f->cols * f->rows;
    g_autofree gboolean *next = g_new0(gboolean, n);
    for (int pass = 0; pass < f->cols + f->rows; pass++) {
        gboolean changed = FALSE;
        memcpy(next, f->known, (size_t) n * sizeof(gboolean));
        for (int k = 0; k < n; k++) {
            if (f->known[k])
                continue;
            int i = k % f->cols, j = k / f->cols;
            double sx = 0, sy = 0;
            int m = radial ? 0 : extrapolate_node(f, i, j, &sx, &sy);
            if (m == 0)
                m = neighbour_sum(f, i, j, &sx, &sy);
            if (m > 0) {
                f->dx[k] = (float) (sx / m);
                f->dy[k] = (float) (sy / m);
                next[k] = TRUE;
                changed = TRUE;
            }
        }
        memcpy(f->known, next, (size_t) n * sizeof(gboolean));
        if (!changed)
            break;
    }
}

/* One 3 x 3 binomial smoothing pass of @f plus the model's field @mx, @my into @sx, @sy. */
static void
smooth_field(const Field *f, const float *mx, const float *my, float *sx, float *sy)
{
    const int cols = f->cols, rows = f->rows;
    for (int j = 0; j < rows; j++)
        for (int i = 0; i < cols; i++) {
            double ax = 0, ay = 0, w = 0;
            for (int dj = -1; dj <= 1; dj++)
                for (int di = -1; di <= 1; di++) {
                    int ii = CLAMP(i + di, 0, cols - 1), jj = CLAMP(j + dj, 0, rows - 1);
                    double wt = (di ? 1 : 2) * (dj ? 1 : 2);
                    ax += wt * f->dx[jj * cols + ii];
                    ay += wt * f->dy[jj * cols + ii];
                    w += wt;
                }
            sx[j * cols + i] = (float) (ax / w) + mx[j * cols + i];
            sy[j * cols + i] = (float) (ay / w) + my[j * cols + i];
        }
}

/* The field's p95 magnitude into @out; returns the RMS of the kept tiles against it. */
static double
field_stats(const TileGrid *g, const float *sx, const float *sy, PcbRegistration *out)
{
    int n = g->cols * g->rows, m = 0;
    double ss = 0;
    g_autofree double *mags = g_new(double, n);
    for (int k = 0; k < n; k++) {
        mags[k] = hypot(sx[k], sy[k]);
        if (g->good[k]) {
            ss += pow(g->res_x[k] - sx[k], 2) + pow(g->res_y[k] - sy[k], 2);
            m++;
        }
    }
    qsort(mags, (size_t) n, sizeof(double), pcb_reg_cmp_double);
    out->field_p95_px = mags[MIN(n - 1, (int) floor(FIELD_P95 * (n - 1) + 0.5))];
    return m > 0 ? sqrt(ss / m) : 0;
}

/* The local field from the consistent tiles' residuals: holes filled from neighbours, one
 * smoothing pass. With a radial model (lens distortion) the field is the model's plus the
 * tiles' residual to it, filled and smoothed. Returns the RMS of the kept tiles against the
 * smoothed field. */
double
pcb_reg_build_field(const TileGrid *g, const double h[9], int pw, int ph, PcbRegistration *out)
{
    const int n = g->cols * g->rows;
    g_autofree float *dx = g_new0(float, n);
    g_autofree float *dy = g_new0(float, n);
    g_autofree gboolean *known = g_new0(gboolean, n);
    Field f = { g->cols, g->rows, dx, dy, known };
    Radial model;
    const gboolean radial = radial_fit(g, h, pw, ph, &model);
    g_autofree float *mx = g_new0(float, n);
    g_autofree float *my = g_new0(float, n);
    if (radial)
        radial_node_field(g, h, &model, mx, my);
    for (int k = 0; k < n; k++)
        if (g->good[k]) {
            /* d(q) = H(P) - q: the residual itself (less the model's, when there is one) */
            dx[k] = (float) g->res_x[k] - mx[k];
            dy[k] = (float) g->res_y[k] - my[k];
            known[k] = TRUE;
        }
    fill_field(&f, radial);
    float *sx = g_new0(float, n), *sy = g_new0(float, n);
    smooth_field(&f, mx, my, sx, sy);
    double rms = field_stats(g, sx, sy, out);
    pcb_registration_clear(out);
    out->field_cols = g->cols;
    out->field_rows = g->rows;
    out->field_step_x = g->step_x;
    out->field_step_y = g->step_y;
    out->field_dx = sx;
    out->field_dy = sy;
    return rms;
}
