/* Coarse registration: feature matching on reduced grey copies, ORB first, SIFT when ORB finds
 * too little. The gates on its result are in register.c. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "register/homography.h"
#include "register/register_internal.h"

/* clang-format off */
#define COARSE_GRID            8    /* keypoints are spread over GRID x GRID cells per image */
#define COARSE_ORB_OVERSAMPLE  3    /* ORB is asked for 3x the keypoints kept; the spread picks */
#define COARSE_SIFT_SHARE      2    /* SIFT (slower, finer) keeps max_features / 2 ... */
#define COARSE_SIFT_OVERSAMPLE 2    /* ... and is asked for 2x that */
#define COARSE_ORB_FAST        8    /* ORB's FAST threshold (OpenCV's 20 misses faint boards) */
#define COARSE_SIFT_CONTRAST   0.02 /* SIFT's contrast threshold (OpenCV's 0.04: the same) */
#define COARSE_MIN_POINTS      8    /* fewer keypoints in an image, or matches: no fit tried */
#define COARSE_RANSAC_PX       3.0  /* MAGSAC++ inlier threshold, coarse px */
#define COARSE_SPREAD_GRID     4    /* inlier spread: the share of 4 x 4 reference cells hit */
#define COARSE_ENOUGH_INLIERS  3    /* ORB suffices with 3x min_inliers inliers ... */
#define COARSE_ENOUGH_SPREAD   0.5  /* ... over at least half the cells: SIFT is not tried */
/* clang-format on */

/* The keypoints to keep per image: at most @keep, spread over @grid x @grid cells. */
typedef struct {
    int grid, keep;
} SpreadRule;

/* pcbcv_keypoint_select: each cell first gets its share of its strongest keypoints, then the
 * strongest of the rest fill what is left. Reentrant (called from worker threads). */
static int
spread_keypoints(const pcbcv_keypoint *kp, const int *by_response, int n, int width, int height,
                 int *keep, void *user)
{
    const SpreadRule *rule = user;
    if (n <= rule->keep || rule->grid < 1) {
        for (int i = 0; i < n; i++)
            keep[i] = i;
        return n;
    }
    const int grid = rule->grid, cells = grid * grid, quota = MAX(1, rule->keep / cells);
    g_autofree int *taken = g_new0(int, cells);
    g_autofree int *rest = g_new(int, n);
    int kept = 0, nrest = 0;
    for (int r = 0; r < n; r++) {
        const pcbcv_keypoint *k = &kp[by_response[r]];
        int cx = MIN(grid - 1, (int) (k->x * grid / width));
        int cy = MIN(grid - 1, (int) (k->y * grid / height));
        if (taken[cy * grid + cx] < quota) {
            taken[cy * grid + cx]++;
            keep[kept++] = by_response[r];
        }
        else
            rest[nrest++] = by_response[r];
    }
    for (int i = 0; i < nrest && kept < rule->keep; i++)
        keep[kept++] = rest[i];
    return kept;
}

/* One detector's attempt, in coarse px. */
typedef struct {
    double h[9]; /* photo -> reference */
    int ref_keypoints, photo_keypoints, matches, inliers;
    double rms_px; /* inlier residual (for the log) */
    double spread; /* share of the reference's spread cells holding an inlier */
} CoarseFit;

/* A photo point through @h as cv::perspectiveTransform maps single-precision points. */
static void
project_f(const double h[9], float x, float y, float *ox, float *oy)
{
    double w = x * h[6] + y * h[7] + h[8];
    if (fabs(w) <= FLT_EPSILON) {
        *ox = *oy = 0;
        return;
    }
    w = 1. / w;
    *ox = (float) ((x * h[0] + y * h[1] + h[2]) * w);
    *oy = (float) ((x * h[3] + y * h[4] + h[5]) * w);
}

/* The robust homography through @m's matches, its inlier count, residual and spread. */
static pcbcv_status
fit_matches(const pcbcv_matches *m, int ref_width, int ref_height, CoarseFit *fit, char *msg,
            size_t msglen)
{
    const pcbcv_fit_opts fo = { 1, COARSE_RANSAC_PX, REG_MAGSAC_MAX_ITERS, REG_MAGSAC_CONFIDENCE };
    g_autofree guchar *mask = g_new0(guchar, m->matches);
    pcbcv_status st = pcbcv_fit_homography_f(m->photo_xy, m->ref_xy, m->matches, &fo, fit->h, mask,
                                             msg, msglen);
    if (st != PCBCV_OK)
        return st;
    gboolean cell[COARSE_SPREAD_GRID * COARSE_SPREAD_GRID] = { FALSE };
    double ss = 0;
    for (int i = 0; i < m->matches; i++) {
        if (!mask[i])
            continue;
        float px, py, rx = m->ref_xy[2 * i], ry = m->ref_xy[2 * i + 1];
        project_f(fit->h, m->photo_xy[2 * i], m->photo_xy[2 * i + 1], &px, &py);
        ss += (px - rx) * (px - rx) + (py - ry) * (py - ry);
        int cx = MIN(COARSE_SPREAD_GRID - 1, MAX(0, (int) (rx * COARSE_SPREAD_GRID / ref_width)));
        int cy = MIN(COARSE_SPREAD_GRID - 1, MAX(0, (int) (ry * COARSE_SPREAD_GRID / ref_height)));
        cell[cy * COARSE_SPREAD_GRID + cx] = TRUE;
        fit->inliers++;
    }
    if (fit->inliers > 0) {
        int hit = 0;
        for (int c = 0; c < COARSE_SPREAD_GRID * COARSE_SPREAD_GRID; c++)
            hit += cell[c];
        fit->rms_px = sqrt(ss / fit->inliers);
        fit->spread = (double) hit / (COARSE_SPREAD_GRID * COARSE_SPREAD_GRID);
    }
    return PCBCV_OK;
}

/* The feature options of @detector under @params (@rule: the selection's, the caller's). */
static pcbcv_match_opts
match_opts(pcbcv_detector detector, const PcbRegisterParams *params, SpreadRule *rule)
{
    const gboolean sift = detector == PCBCV_DETECT_SIFT;
    *rule = (SpreadRule){ COARSE_GRID,
                          sift ? params->max_features / COARSE_SIFT_SHARE : params->max_features };
    return (pcbcv_match_opts){
        detector,         rule->keep * (sift ? COARSE_SIFT_OVERSAMPLE : COARSE_ORB_OVERSAMPLE),
        COARSE_ORB_FAST,  COARSE_SIFT_CONTRAST,
        spread_keypoints, rule,
        params->ratio,    params->seed
    };
}

/* Features, matches and the homography with one detector (@ref: the reference's features made
 * before, or NULL: made here from @r). PCBCV_E_NOMATCH (with the counts reached) when there is
 * too little to fit. */
static pcbcv_status
match_with(const pcbcv_view *r, const pcbcv_features *ref, const pcbcv_view *p,
           pcbcv_detector detector, const PcbRegisterParams *params, CoarseFit *fit, char *msg,
           size_t msglen)
{
    memset(fit, 0, sizeof *fit);
    SpreadRule rule;
    const pcbcv_match_opts o = match_opts(detector, params, &rule);
    pcbcv_matches m;
    pcbcv_status st = ref != NULL ? pcbcv_match_to(ref, p, &o, &m, msg, msglen)
                                  : pcbcv_match_features(r, p, &o, &m, msg, msglen);
    if (st != PCBCV_OK)
        return st;
    fit->ref_keypoints = m.ref_keypoints;
    fit->photo_keypoints = m.photo_keypoints;
    if (m.ref_keypoints < COARSE_MIN_POINTS || m.photo_keypoints < COARSE_MIN_POINTS) {
        g_strlcpy(msg, "too few keypoints", msglen);
        st = PCBCV_E_NOMATCH;
    }
    else if ((fit->matches = m.matches) < COARSE_MIN_POINTS) {
        g_strlcpy(msg, "too few matches", msglen);
        st = PCBCV_E_NOMATCH;
    }
    else
        st = fit_matches(&m, r->width, r->height, fit, msg, msglen);
    free(m.photo_xy);
    free(m.ref_xy);
    return st;
}

/* @src at about @side px on its longer side (never enlarged): @src itself when it is already
 * that small, else a reduced copy owned through *@owned. NULL on error. */
static const PcbImage *
at_side(const PcbImage *src, int side, PcbImage **owned, GError **error)
{
    *owned = NULL;
    double f = (double) side / MAX(src->width, src->height);
    if (f >= 0.999) /* already that small, give or take rounding */
        return src;
    *owned = pcb_image_resize(src, MAX(1, (int) lround(src->width * f)),
                              MAX(1, (int) lround(src->height * f)), error);
    return *owned;
}

/* ORB, then SIFT unless ORB found enough, well spread: the attempt with the most inliers wins.
 * *@found: FALSE when neither fitted (@best then holds the largest counts reached). */
static gboolean
best_match(const PcbImage *rc, const PcbCoarseRef *cref, const PcbImage *pc,
           const PcbRegisterParams *params, CoarseFit *best, int *found, GError **error)
{
    static const pcbcv_detector detectors[] = { PCBCV_DETECT_ORB, PCBCV_DETECT_SIFT };
    static const char *names[] = { "ORB", "SIFT" };
    pcbcv_view r = pcb_view(rc), p = pcb_view(pc);
    memset(best, 0, sizeof *best);
    *found = -1;
    for (int d = 0; d < 2; d++) {
        CoarseFit fit;
        char msg[256] = "";
        pcbcv_status st = match_with(&r, cref != NULL ? cref->features[d] : NULL, &p, detectors[d],
                                     params, &fit, msg, sizeof msg);
        if (st != PCBCV_OK && st != PCBCV_E_NOMATCH)
            return pcb_cv_check(st, msg, "feature matching", PCB_ERROR_REGISTER, error);
        if (st == PCBCV_OK && fit.inliers > best->inliers) {
            *best = fit;
            *found = d;
        }
        else if (st != PCBCV_OK && *found < 0) {
            best->ref_keypoints = MAX(best->ref_keypoints, fit.ref_keypoints);
            best->photo_keypoints = MAX(best->photo_keypoints, fit.photo_keypoints);
            best->matches = MAX(best->matches, fit.matches);
        }
        g_debug("coarse %s: %d/%d keypoints, %d matches, %d inliers, rms %.2f, spread %.2f",
                names[d], fit.ref_keypoints, fit.photo_keypoints, fit.matches, fit.inliers,
                fit.rms_px, fit.spread);
        if (best->inliers >= COARSE_ENOUGH_INLIERS * params->min_inliers
            && best->spread >= COARSE_ENOUGH_SPREAD)
            break;
    }
    return TRUE;
}

gboolean
pcb_reg_coarse_ref_init(const PcbReduced *ref_r, const PcbRegisterParams *params,
                        PcbCoarseRef *cref, GError **error)
{
    static const pcbcv_detector detectors[] = { PCBCV_DETECT_ORB, PCBCV_DETECT_SIFT };
    memset(cref, 0, sizeof *cref);
    cref->image = at_side(ref_r->image, params->coarse_side, &cref->owned, error);
    if (cref->image == NULL)
        return FALSE;
    pcbcv_view r = pcb_view(cref->image);
    /* ORB's only: SIFT, tried when ORB finds too little, is made per photo when needed (its
     * scale space of a golden takes about 80 MB a board for a moment, kept by the heap after) */
    for (int d = 0; d < 1; d++) {
        SpreadRule rule;
        const pcbcv_match_opts o = match_opts(detectors[d], params, &rule);
        char msg[256] = "";
        if (!pcb_cv_check(pcbcv_features_detect(&r, &o, &cref->features[d], msg, sizeof msg), msg,
                          "the reference's features", PCB_ERROR_BACKEND, error)) {
            pcb_reg_coarse_ref_clear(cref);
            return FALSE;
        }
    }
    return TRUE;
}

void
pcb_reg_coarse_ref_clear(PcbCoarseRef *cref)
{
    for (int d = 0; d < 2; d++)
        pcbcv_features_free(cref->features[d]);
    g_clear_pointer(&cref->owned, pcb_image_free);
    memset(cref, 0, sizeof *cref);
}

gboolean
pcb_reg_coarse(const PcbReduced *ref_r, const PcbCoarseRef *cref, const PcbReduced *pho_r,
               const PcbRegisterParams *params, Coarse *out, GError **error)
{
    static const char *names[] = { "ORB", "SIFT" };
    g_autoptr(PcbImage) rc_owned = NULL;
    g_autoptr(PcbImage) pc_owned = NULL;
    const PcbImage *rc
        = cref != NULL ? cref->image : at_side(ref_r->image, params->coarse_side, &rc_owned, error);
    if (rc == NULL)
        return FALSE;
    const PcbImage *pc = at_side(pho_r->image, params->coarse_side, &pc_owned, error);
    if (pc == NULL)
        return FALSE;
    CoarseFit best;
    int found;
    if (!best_match(rc, cref, pc, params, &best, &found, error))
        return FALSE;
    out->matches = best.matches;
    out->inliers = best.inliers;
    out->ref_kp = best.ref_keypoints;
    out->photo_kp = best.photo_keypoints;
    out->spread = best.spread;
    out->found = found >= 0;
    out->detector = found >= 0 ? names[found] : "none";
    /* full resolution -> coarse, per axis; full resolution: H = Sr^-1 * Hc * Sp */
    double srx = ref_r->scale * rc->width / ref_r->image->width;
    double sry = ref_r->scale * rc->height / ref_r->image->height;
    double spx = pho_r->scale * pc->width / pho_r->image->width;
    double spy = pho_r->scale * pc->height / pho_r->image->height;
    double sr_inv[9], sp_m[9], t[9];
    pcb_h_scaling(1 / srx, 1 / sry, sr_inv);
    pcb_h_scaling(spx, spy, sp_m);
    pcb_h_mul(sr_inv, best.h, t);
    pcb_h_mul(t, sp_m, out->h);
    pcb_h_normalise(out->h);
    return TRUE;
}
