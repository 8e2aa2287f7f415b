/* Parallax: what the refinement tiles that disagree with the board plane say about the scene.
 *
 * A point h above the board at reference pixel x appears, after the plane registration,
 * displaced by h * (a x + b) (the plane + parallax decomposition of two views: a scalar a and a
 * 2-vector b, radial about the epipole -b / a). A tile on a tall part therefore moves along
 * the line through the epipole, one way only. The field's direction is fitted to those tiles
 * (2-point RANSAC on r x (a x + b) = 0, both signs, then least squares on the inliers); its
 * scale is the largest height the tiles measured, so that the tallest part seen by a tile is
 * 1 unit of height (the heights looked for are max_height_units of that). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "pcbdiff/register.h"
#include "register/homography.h"
#include "register/register_internal.h"

/* clang-format off */
#define PAR_MIN_PX        1.5   /* a tile moved by less than this (px) is on the board plane */
#define PAR_ANGLE_DEG     10.0  /* a tile's shift within this angle of the field's direction ... */
#define PAR_PERP_PX       0.75  /* ... or within this distance of its line (px) follows it */
#define PAR_MIN_TILES     5     /* fewer tiles following one field: no parallax estimated */
#define PAR_FOCAL_SPAN    2.0   /* the pose's focal length is tried up to this factor either way */
#define PAR_FOCAL_STEPS   10    /* ... in this many log-spaced steps each way */
#define PAR_MIN_SHARE     0.25  /* nor when they are under this share of the moved tiles with */
#define PAR_STRONG        0.25  /* a clear peak (phase correlation; the others are mostly noise) */
#define PAR_ITERATIONS    500   /* RANSAC draws */
#define PAR_REFITS        3     /* least-squares refits on the inliers */
#define PAR_HEIGHT_UNITS  1.6   /* no scale: heights looked for, in the tiles' p90 heights */
#define PAR_HEIGHT_QUANTILE 0.9 /* the tiles' height that serves as the unit without a scale */
#define PAR_ONE_WAY_Z     2.0   /* the probe: its tiles move the field's way more often than the
                                   other, by this many sigmas of the sign test */
#define PAR_SQUARE_SHIFT  0.01  /* no pose: the photo centred this share of the reference's
                                   diagonal off the golden's centre, or parallax is too small */
#define PAR_PROBE_REACH   16.0  /* no pose: the probe's tiles' reach, px (a third of 48 px) */
/* clang-format on */

/* The coefficients of one tile's constraint r x (a p + b) = 0 on m = (a, bx, by), with p the
 * tile's position in normalised coordinates. */
static void
constraint(double px, double py, double rx, double ry, double c[3])
{
    c[0] = rx * py - ry * px;
    c[1] = -ry;
    c[2] = rx;
}

/* How far the shift (@rx, @ry) follows the unit direction (@ux, @uy) (one way): its component
 * along it into *@along; TRUE when it is within the angle or distance of the direction's line. */
static gboolean
follows_unit(double ux, double uy, double rx, double ry, double *along)
{
    double a = rx * ux + ry * uy, perp = fabs(rx * uy - ry * ux);
    *along = a;
    return a > 0 && (perp <= a * tan(PAR_ANGLE_DEG * G_PI / 180) || perp <= PAR_PERP_PX);
}

/* follows_unit for the direction of field @m at (@px, @py). */
static gboolean
follows(const double m[3], double px, double py, double rx, double ry, double *along)
{
    double fx = m[0] * px + m[1], fy = m[0] * py + m[2], k = hypot(fx, fy);
    if (!(k > 0))
        return FALSE;
    return follows_unit(fx / k, fy / k, rx, ry, along);
}

/* Whether tile @k of @g was measured and moved off the plane. */
static inline gboolean
tile_moved(const TileGrid *g, int k)
{
    return g->measured[k] && hypot(g->res_x[k], g->res_y[k]) >= PAR_MIN_PX;
}

/* The moved tiles: normalised positions and shifts. */
typedef struct {
    double *x, *y;   /* reference px */
    double *px, *py; /* normalised */
    double *rx, *ry;
    gboolean *strong; /* a clear phase-correlation peak */
    gboolean *good;   /* kept by the refinement (agrees with its neighbours) */
    int *tile;
    int n;
} Moved;

static int
count_inliers(const Moved *mv, const double m[3], guchar *in)
{
    int c = 0;
    for (int i = 0; i < mv->n; i++) {
        double along;
        gboolean f = follows(m, mv->px[i], mv->py[i], mv->rx[i], mv->ry[i], &along);
        if (in != NULL)
            in[i] = (guchar) f;
        c += f;
    }
    return c;
}

/* The unit vector m minimising sum (c_i . m)^2 over the inliers: the smallest eigenvector of
 * the 3 x 3 normal matrix, by inverse iteration from @m. FALSE when it is degenerate. */
static gboolean
refit(const Moved *mv, const guchar *in, double m[3])
{
    double n[9] = { 0 };
    for (int i = 0; i < mv->n; i++) {
        if (!in[i])
            continue;
        double c[3];
        constraint(mv->px[i], mv->py[i], mv->rx[i], mv->ry[i], c);
        double w = 1.0 / (mv->rx[i] * mv->rx[i] + mv->ry[i] * mv->ry[i]); /* angle, not length */
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 3; k++)
                n[3 * r + k] += w * c[r] * c[k];
    }
    double trace = n[0] + n[4] + n[8];
    for (int r = 0; r < 3; r++)
        n[4 * r] += 1e-9 * trace; /* regularised: the matrix is singular for an exact fit */
    double inv[9];
    if (!pcb_h_invert(n, inv))
        return FALSE;
    double v[3] = { m[0], m[1], m[2] };
    for (int it = 0; it < 20; it++) {
        double w[3];
        for (int r = 0; r < 3; r++)
            w[r] = inv[3 * r] * v[0] + inv[3 * r + 1] * v[1] + inv[3 * r + 2] * v[2];
        double len = sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
        if (!(len > 0))
            return FALSE;
        for (int r = 0; r < 3; r++)
            v[r] = w[r] / len;
    }
    /* keep the orientation that the inliers follow (one way) */
    double s = v[0] * m[0] + v[1] * m[1] + v[2] * m[2];
    for (int r = 0; r < 3; r++)
        m[r] = s < 0 ? -v[r] : v[r];
    return TRUE;
}

/* 2-point RANSAC over both orientations: the field most moved tiles follow, into @best;
 * returns its inlier count. */
static int
ransac(const Moved *mv, guint32 seed, double best[3])
{
    GRand *rng = g_rand_new_with_seed(seed);
    int most = 0;
    for (int it = 0; it < PAR_ITERATIONS && mv->n >= 2; it++) {
        int i = g_rand_int_range(rng, 0, mv->n), j = g_rand_int_range(rng, 0, mv->n);
        if (i == j)
            continue;
        double ci[3], cj[3], m[3];
        constraint(mv->px[i], mv->py[i], mv->rx[i], mv->ry[i], ci);
        constraint(mv->px[j], mv->py[j], mv->rx[j], mv->ry[j], cj);
        m[0] = ci[1] * cj[2] - ci[2] * cj[1];
        m[1] = ci[2] * cj[0] - ci[0] * cj[2];
        m[2] = ci[0] * cj[1] - ci[1] * cj[0];
        for (int sign = -1; sign <= 1; sign += 2) {
            double ms[3] = { sign * m[0], sign * m[1], sign * m[2] };
            int c = count_inliers(mv, ms, NULL);
            if (c > most) {
                most = c;
                memcpy(best, ms, sizeof ms);
            }
        }
    }
    g_rand_free(rng);
    return most;
}

/* The field most moved tiles follow, fitted freely (RANSAC, then least squares), into @m;
 * returns its support. */
static int
free_field(const Moved *mv, guint32 seed, double m[3])
{
    int n = ransac(mv, seed, m);
    if (n < PAR_MIN_TILES)
        return n;
    g_autofree guchar *in = g_new0(guchar, MAX(1, mv->n));
    count_inliers(mv, m, in);
    for (int r = 0; r < PAR_REFITS && refit(mv, in, m); r++)
        n = count_inliers(mv, m, in);
    return n;
}

/* The measured tiles that moved off the plane, in coordinates normalised about the reference
 * centre by half its diagonal (@cx, @cy, @half). */
static void
moved_tiles(const TileGrid *g, double cx, double cy, double half, Moved *mv)
{
    int n = g->cols * g->rows;
    mv->x = g_new(double, n);
    mv->y = g_new(double, n);
    mv->px = g_new(double, n);
    mv->py = g_new(double, n);
    mv->rx = g_new(double, n);
    mv->ry = g_new(double, n);
    mv->tile = g_new(int, n);
    mv->strong = g_new(gboolean, n);
    mv->good = g_new(gboolean, n);
    mv->n = 0;
    for (int k = 0; k < n; k++) {
        if (!tile_moved(g, k))
            continue;
        mv->x[mv->n] = g->tiles[k].cx;
        mv->y[mv->n] = g->tiles[k].cy;
        mv->px[mv->n] = (g->tiles[k].cx - cx) / half;
        mv->py[mv->n] = (g->tiles[k].cy - cy) / half;
        mv->rx[mv->n] = g->res_x[k];
        mv->ry[mv->n] = g->res_y[k];
        mv->strong[mv->n] = g->tiles[k].response >= PAR_STRONG;
        mv->good[mv->n] = g->good[k];
        mv->tile[mv->n++] = k;
    }
}

static void
moved_free(Moved *mv)
{
    g_free(mv->x);
    g_free(mv->y);
    g_free(mv->px);
    g_free(mv->py);
    g_free(mv->rx);
    g_free(mv->ry);
    g_free(mv->tile);
    g_free(mv->strong);
    g_free(mv->good);
}

/* The epipole of @out's field (where it vanishes), and whether the reference frame holds it. */
static void
set_epipole(PcbParallax *out, int rw, int rh)
{
    const gboolean finite = fabs(out->a) > 1e-12;
    out->epipole_x = finite ? -out->bx / out->a : HUGE_VAL;
    out->epipole_y = finite ? -out->by / out->a : HUGE_VAL;
    out->epipole_inside = finite && out->epipole_x >= 0 && out->epipole_x < rw
                          && out->epipole_y >= 0 && out->epipole_y < rh;
}

/* The pose difference for the report: the photo camera against the golden one. */
static void
set_pose(const RegPose *pose, double px_per_mm, PcbParallax *out)
{
    if (!pose->valid)
        return;
    out->pose_valid = TRUE;
    out->focal_px = pose->focal;
    out->tilt_deg = pose->tilt_deg;
    double s = px_per_mm > 0 ? px_per_mm : 1;
    for (int i = 0; i < 3; i++)
        out->camera[i] = pose->centre[i] / s;
    out->camera[2] = -out->camera[2]; /* height above the board */
}

/* Marks the moved tiles whose displacement @out's field explains (direction and extent) in
 * @explained (per node, optional); returns how many, and sets out->max_px and out->seen (the
 * field explains enough tiles that disagree with their neighbours: a smooth displacement, lens
 * distortion or bow, is no parallax). */
static int
explain_tiles(const Moved *mv, const double m[3], PcbParallax *out, gboolean *explained)
{
    int n = 0, inconsistent = 0;
    for (int i = 0; i < mv->n; i++) {
        double along, ux, uy, smax;
        if (!follows(m, mv->px[i], mv->py[i], mv->rx[i], mv->ry[i], &along)
            || !pcb_parallax_at(out, mv->x[i], mv->y[i], &ux, &uy, &smax) || along > smax)
            continue;
        out->max_px = MAX(out->max_px, along);
        if (explained != NULL)
            explained[mv->tile[i]] = TRUE;
        inconsistent += !mv->good[i];
        n++;
    }
    out->seen = inconsistent >= PAR_MIN_TILES;
    return n;
}

/* The field of pose @pose (per reference px of height, normalised coordinates) with the golden
 * camera at distance 1 / @w over the reference centre into @m: a = 1 / D - w, b = -C_xy / D
 * for the photo camera at height D over board point C_xy. */
static void
pose_field_at(const RegPose *pose, double half, double w, double m[3])
{
    const double d = -pose->centre[2];
    m[0] = (1.0 / d - w) * half;
    m[1] = -pose->centre[0] / d;
    m[2] = -pose->centre[1] / d;
}

/* The field of @pose, or of the camera that fits the homography at another focal length
 * (within PAR_FOCAL_SPAN either way) when more moved tiles follow that one: the homography of
 * a view a few degrees from square fixes the focal length only loosely (a render tilted 3.8°:
 * 4180 px against the true 3333), and with it the camera's place, so the field's direction
 * can be tens of degrees off. One number chosen from the tiles, not a free field: tiles that
 * chance moves (a flat board) follow no camera's. Returns the tiles that follow; @pose and @m
 * become the chosen camera and its field. */
static int
pose_focal(const Moved *mv, const double h[9], int rw, int rh, int pw, int ph, double half,
           RegPose *pose, double m[3])
{
    pose_field_at(pose, half, 1.0 / pose->focal, m);
    int most = count_inliers(mv, m, NULL);
    const double f0 = pose->focal;
    for (int k = -PAR_FOCAL_STEPS; k <= PAR_FOCAL_STEPS; k++) {
        RegPose at;
        double mk[3];
        if (k == 0
            || !pcb_reg_pose_at(h, rw, rh, pw, ph,
                                f0 * pow(PAR_FOCAL_SPAN, (double) k / PAR_FOCAL_STEPS), &at))
            continue;
        pose_field_at(&at, half, 1.0 / at.focal, mk);
        int c = count_inliers(mv, mk, NULL);
        if (c > most) {
            most = c;
            *pose = at;
            memcpy(m, mk, sizeof mk);
        }
    }
    return most;
}

/* The share of the strong moved tiles that follow @m. */
static double
strong_share(const Moved *mv, const double m[3])
{
    int n = 0, f = 0;
    for (int i = 0; i < mv->n; i++) {
        double along;
        if (!mv->strong[i])
            continue;
        n++;
        f += follows(m, mv->px[i], mv->py[i], mv->rx[i], mv->ry[i], &along);
    }
    return n > 0 ? (double) f / n : 1.0;
}

/* The p90 height of the tiles that follow @m, in @m's units. */
static double
tile_height(const Moved *mv, const double m[3])
{
    g_autofree double *q = g_new(double, MAX(1, mv->n));
    int n = 0;
    for (int i = 0; i < mv->n; i++) {
        double along;
        if (follows(m, mv->px[i], mv->py[i], mv->rx[i], mv->ry[i], &along))
            q[n++] = along / hypot(m[0] * mv->px[i] + m[1], m[0] * mv->py[i] + m[2]);
    }
    if (n == 0)
        return 0;
    qsort(q, (size_t) n, sizeof(double), pcb_reg_cmp_double);
    return q[(int) (PAR_HEIGHT_QUANTILE * (n - 1))];
}

int
pcb_reg_moved_tiles(const TileGrid *g)
{
    int n = 0;
    for (int k = 0; k < g->cols * g->rows; k++)
        n += tile_moved(g, k);
    return n;
}

/* Scales @m by @s (the field's unit of height changes by 1 / s). */
static void
scale_field(double m[3], double s)
{
    for (int i = 0; i < 3; i++)
        m[i] *= s;
}

/* How many of @g's measured tiles that moved follow @par's field (within the extent it allows
 * there) into *@follow, the largest such shift into *@most, and how many follow it the other way
 * into *@against. */
static void
count_field(const TileGrid *g, const PcbParallax *par, int *follow, int *against, double *most)
{
    *follow = *against = 0;
    *most = 0;
    for (int k = 0; k < g->cols * g->rows; k++) {
        const double rx = g->res_x[k], ry = g->res_y[k];
        double ux, uy, smax, along;
        if (!tile_moved(g, k)
            || !pcb_parallax_at(par, g->tiles[k].cx, g->tiles[k].cy, &ux, &uy, &smax))
            continue;
        if (follows_unit(ux, uy, rx, ry, &along) && along <= smax) {
            (*follow)++;
            *most = MAX(*most, along);
        }
        *against += follows_unit(-ux, -uy, rx, ry, &along);
    }
}

/* Without a pose (a photo nearly square to the board fixes no focal length), the field of a
 * camera square to the board above the point the photo's centre shows, at the golden's height:
 * a raised point moves by the same amount everywhere, from that point towards the golden's
 * (the reference's centre), whatever the focal length (its principal point taken at the
 * photo's centre). In units of @reach px of height; FALSE when the two points nearly coincide. */
static gboolean
square_field(const double h[9], int rw, int rh, int pw, int ph, double reach, PcbParallax *out)
{
    memset(out, 0, sizeof *out);
    double nx, ny;
    if (!pcb_h_apply(h, pw / 2.0, ph / 2.0, &nx, &ny))
        return FALSE;
    const double dx = rw / 2.0 - nx, dy = rh / 2.0 - ny, d = hypot(dx, dy);
    if (!(d > PAR_SQUARE_SHIFT * hypot(rw, rh)))
        return FALSE;
    out->valid = TRUE;
    out->bx = dx / d;
    out->by = dy / d;
    out->max_height = reach;
    set_epipole(out, rw, rh);
    return TRUE;
}

gboolean
pcb_reg_parallax_probed(const TileGrid *probe, const double h[9], int rw, int rh, int pw, int ph,
                        const PcbRegisterParams *params, PcbParallax *out)
{
    pcb_reg_parallax(probe, h, rw, rh, pw, ph, params, NULL, out);
    const gboolean pose = out->valid && out->pose_valid;
    /* the field must not come from the tiles it is tested on: the pose's, else a square
     * camera's */
    int follow = 0, against = 0;
    double most = 0;
    if (pose || square_field(h, rw, rh, pw, ph, PAR_PROBE_REACH, out))
        count_field(probe, out, &follow, &against, &most);
    const double z = (follow - against) / sqrt(MAX(1, follow + against));
    g_debug("register: parallax probe: %d tiles follow the %s field, %d the other way (%.1f "
            "sigmas)",
            follow, pose ? "pose's" : "square camera's", against, z);
    out->seen = out->valid && follow >= PAR_MIN_TILES && z >= PAR_ONE_WAY_Z;
    if (out->seen && !pose) { /* per unit of the largest shift that followed it */
        out->bx *= most;
        out->by *= most;
        out->max_height = PAR_HEIGHT_UNITS;
        out->max_px = most;
        out->tiles = follow;
    }
    return out->seen;
}

int
pcb_reg_parallax(const TileGrid *g, const double h[9], int rw, int rh, int pw, int ph,
                 const PcbRegisterParams *params, gboolean *explained, PcbParallax *out)
{
    memset(out, 0, sizeof *out);
    const double cx = rw / 2.0, cy = rh / 2.0, half = hypot(rw, rh) / 2;
    Moved mv;
    moved_tiles(g, cx, cy, half, &mv);
    /* the pose's field, the golden camera at the same focal length (in px) over the reference
     * centre; without a pose, the field the moved tiles follow */
    RegPose pose;
    double m[3] = { 0, 0, 0 };
    int most = 0;
    if (pcb_reg_pose(h, rw, rh, pw, ph, &pose))
        most = pose_focal(&mv, h, rw, rh, pw, ph, half, &pose, m);
    else
        most = free_field(&mv, params->seed, m);
    g_debug("register: parallax: %d of %d moved tiles follow the %s field (f %.0f px, tilt %.1f "
            "deg, cost %.2g)",
            most, mv.n, pose.valid ? "pose's" : "free", pose.focal, pose.tilt_deg, pose.cost);
    double unit = pose.valid && params->px_per_mm > 0 ? params->px_per_mm   /* per mm */
                  : most >= PAR_MIN_TILES             ? tile_height(&mv, m) /* per tile height */
                                                      : 0;
    if (!(unit > 0) || (!pose.valid && strong_share(&mv, m) < PAR_MIN_SHARE)) {
        moved_free(&mv);
        return 0;
    }
    scale_field(m, unit);
    out->metric = pose.valid && params->px_per_mm > 0;
    out->max_height = out->metric ? params->max_height_mm : PAR_HEIGHT_UNITS;
    /* d = h (m0 p + m12) with p = (x - c) / half: in px, a = m0 / half, b = m12 - a c */
    out->valid = TRUE;
    out->a = m[0] / half;
    out->bx = m[1] - out->a * cx;
    out->by = m[2] - out->a * cy;
    set_epipole(out, rw, rh);
    set_pose(&pose, params->px_per_mm, out);
    out->tiles = explain_tiles(&mv, m, out, explained);
    moved_free(&mv);
    return out->tiles;
}
