/* The photo camera's pose from the board-plane homography.
 *
 * The reference is taken square to the board, so its pixels are board coordinates up to a
 * scale: with the board frame in reference px (origin at the reference centre, x right, y
 * down, z into the board), the photo sees board point X at K (R X + t) with K = [f 0 cx; 0 f
 * cy; 0 0 1] (principal point at the photo's centre, square pixels). So K^-1 H T is
 * proportional to [r1 r2 t] (H: reference -> photo, T: board frame -> reference px), whose first
 * two columns must be orthonormal: that fixes f (a 1-D search), then R, t and the camera centre
 * -R^T t, in reference px. The reference's own focal length cancels out of it. */
#include <math.h>
#include <string.h>
#include "register/homography.h"
#include "register/register_internal.h"

/* clang-format off */
#define POSE_F_MIN      0.2    /* focal lengths searched: 0.2 ... */
#define POSE_F_MAX      20.0   /* ... 20 x the photo's longer side, px */
#define POSE_F_STEPS    400    /* log-spaced steps of the search, then a golden-section refine */
#define POSE_REFINE     40     /* golden-section iterations */
#define POSE_MAX_COST   0.002  /* orthonormality cost above this: no consistent camera */
#define POSE_F_SPAN     1.5    /* the focal length is determined when the cost at 1.5x or 1/1.5x */
#define POSE_F_RISE     2.0    /* ... it is 2x the least cost: else (a photo nearly square to
                                  the board) the focal length, hence the height, is unknown */
/* clang-format on */

/* K^-1 H T for focal @f into @g. */
static void
normalised(const double hrp[9], const double t[9], double f, double pcx, double pcy, double g[9])
{
    const double kinv[9] = { 1 / f, 0, -pcx / f, 0, 1 / f, -pcy / f, 0, 0, 1 };
    double m[9];
    pcb_h_mul(kinv, hrp, m);
    pcb_h_mul(m, t, g);
}

/* How far the first two columns of @g are from orthogonal and of equal length. */
static double
ortho_cost(const double g[9])
{
    double n1 = sqrt(g[0] * g[0] + g[3] * g[3] + g[6] * g[6]);
    double n2 = sqrt(g[1] * g[1] + g[4] * g[4] + g[7] * g[7]);
    double d = g[0] * g[1] + g[3] * g[4] + g[6] * g[7];
    double c = d / (n1 * n2), e = (n1 - n2) / (n1 + n2);
    return c * c + e * e;
}

typedef struct {
    double hrp[9], t[9], pcx, pcy;
} PoseProblem;

static double
cost_at(const PoseProblem *p, double f)
{
    double g[9];
    normalised(p->hrp, p->t, f, p->pcx, p->pcy, g);
    return ortho_cost(g);
}

/* The focal length of least cost: a log-spaced scan, then golden-section around the best. */
static double
search_focal(const PoseProblem *p, double side, double *cost)
{
    double lo = log(POSE_F_MIN * side), hi = log(POSE_F_MAX * side);
    double step = (hi - lo) / POSE_F_STEPS, best = lo, best_cost = HUGE_VAL;
    for (int i = 0; i <= POSE_F_STEPS; i++) {
        double c = cost_at(p, exp(lo + i * step));
        if (c < best_cost) {
            best_cost = c;
            best = lo + i * step;
        }
    }
    const double phi = (sqrt(5.0) - 1) / 2;
    double a = best - step, b = best + step;
    for (int i = 0; i < POSE_REFINE; i++) {
        double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
        if (cost_at(p, exp(x1)) < cost_at(p, exp(x2)))
            b = x2;
        else
            a = x1;
    }
    *cost = cost_at(p, exp((a + b) / 2));
    return exp((a + b) / 2);
}

/* The camera at focal length @f: R, t and the camera centre from K^-1 H T (see the top). */
static gboolean
pose_at(const PoseProblem *p, double f, RegPose *out)
{
    double g[9];
    normalised(p->hrp, p->t, f, p->pcx, p->pcy, g);
    double n1 = sqrt(g[0] * g[0] + g[3] * g[3] + g[6] * g[6]);
    double n2 = sqrt(g[1] * g[1] + g[4] * g[4] + g[7] * g[7]);
    double s = 2 / (n1 + n2);
    if (g[8] < 0) /* the board in front of the camera: t_z > 0 */
        s = -s;
    double r1[3] = { s * g[0], s * g[3], s * g[6] }, r2[3] = { s * g[1], s * g[4], s * g[7] };
    double tv[3] = { s * g[2], s * g[5], s * g[8] };
    double r3[3] = { r1[1] * r2[2] - r1[2] * r2[1], r1[2] * r2[0] - r1[0] * r2[2],
                     r1[0] * r2[1] - r1[1] * r2[0] };
    /* camera centre -R^T t; R's columns are r1 r2 r3 */
    for (int i = 0; i < 3; i++) {
        const double *col = i == 0 ? r1 : i == 1 ? r2 : r3;
        out->centre[i] = -(col[0] * tv[0] + col[1] * tv[1] + col[2] * tv[2]);
    }
    out->focal = f;
    out->cost = ortho_cost(g);
    /* the optical axis in the board frame is R's third row; the board normal is z */
    out->tilt_deg = acos(CLAMP(r3[2], -1.0, 1.0)) * 180 / G_PI;
    /* a camera that fits the homography, on the reference camera's side of the board */
    out->valid = out->cost <= POSE_MAX_COST && out->centre[2] < 0;
    return out->valid;
}

static gboolean
problem(const double h[9], int rw, int rh, int pw, int ph, PoseProblem *p)
{
    if (!pcb_h_invert(h, p->hrp))
        return FALSE;
    const double t[9] = { 1, 0, rw / 2.0, 0, 1, rh / 2.0, 0, 0, 1 };
    memcpy(p->t, t, sizeof t);
    p->pcx = pw / 2.0;
    p->pcy = ph / 2.0;
    return TRUE;
}

gboolean
pcb_reg_pose(const double h[9], int rw, int rh, int pw, int ph, RegPose *out)
{
    memset(out, 0, sizeof *out);
    PoseProblem p;
    if (!problem(h, rw, rh, pw, ph, &p))
        return FALSE;
    double cost;
    double f = search_focal(&p, MAX(pw, ph), &cost);
    out->cost = cost;
    if (!(cost <= POSE_MAX_COST))
        return FALSE;
    double rise = MIN(cost_at(&p, f * POSE_F_SPAN), cost_at(&p, f / POSE_F_SPAN));
    if (!(rise >= POSE_F_RISE * cost)) {
        g_debug("register: pose: focal length undetermined (cost %.2g, %.2g at 1.5x)", cost, rise);
        return FALSE;
    }
    return pose_at(&p, f, out);
}

gboolean
pcb_reg_pose_at(const double h[9], int rw, int rh, int pw, int ph, double f, RegPose *out)
{
    memset(out, 0, sizeof *out);
    PoseProblem p;
    return problem(h, rw, rh, pw, ph, &p) && pose_at(&p, f, out);
}
