/* Coarse registration: feature matching on reduced grey copies, ORB then SIFT. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "core/util.h"
#include "register/homography.h"
#include "register/register_internal.h"

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
gboolean
pcb_reg_coarse(const PcbReduced *ref_r, const PcbReduced *pho_r, const PcbRegisterParams *params,
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
