/* Registration: coarse features -> tile refinement (coarse to fine) -> local field -> gates.
 * This file runs the stages (coarse.c, refine.c, field.c) and holds the acceptance gates.
 * Policy lives in src/register/; OpenCV is reached only through the shim. */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/register.h"
#include "core/imgops.h"
#include "core/util.h"
#include "register/homography.h"
#include "register/register_internal.h"

#define REG_REDUCED_SIDE     1.5  /* the reduced copies: 1.5 coarse_side on their longer side */
#define REG_RETRY_SIDE       1.5  /* coarse matching again at this many times the side */
#define REG_FIELD_DIAG_SHARE 0.02 /* max_field_px 0: the limit is 2% of the reference diagonal */
#define REG_COVERAGE_SAMPLES 64   /* coverage is sampled on a 64 x 64 grid of the reference */
#define REG_NARROW_SPREAD    0.5  /* coarse inliers on fewer of the reference's 16 parts: a hint */
/* kept tiles this far (rms, px) from the plane and the field: the fit may lie between two
 * surfaces (sub-pixel tiles give 0.1-0.27 px) */
#define REG_LOOSE_RMS 0.5

/* Fraction of the reference whose pixels land inside the photo. */
static double
coverage(const double h[9], int rw, int rh, int pw, int ph)
{
    const int s = REG_COVERAGE_SAMPLES;
    double hinv[9];
    if (!pcb_h_invert(h, hinv))
        return 0;
    int in = 0, n = 0;
    for (int j = 0; j < s; j++)
        for (int i = 0; i < s; i++, n++) {
            double x, y;
            if (pcb_h_apply(hinv, (i + 0.5) * rw / (double) s, (j + 0.5) * rh / (double) s, &x, &y)
                && x >= 0 && y >= 0 && x <= pw - 1 && y <= ph - 1)
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
        if ((*owned = pcb_image_to_gray(given->image, error)) == NULL)
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

/* The gates on the coarse estimate: enough inliers, a large enough share of the matches. */
static gboolean
coarse_gates(const Coarse *c, const PcbRegisterParams *params, GError **error)
{
    if (!c->found || c->inliers < params->min_inliers) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "photo does not match the reference: %d coarse inliers (limit >= %d; "
                    "%d matches, %d/%d keypoints)",
                    c->inliers, params->min_inliers, c->matches, c->ref_kp, c->photo_kp);
        return FALSE;
    }
    double ratio = (double) c->inliers / MAX(1, c->matches);
    if (ratio < params->min_inlier_ratio) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "photo does not match the reference: inlier ratio %.3f (limit >= %.3f; %d "
                    "of %d matches)",
                    ratio, params->min_inlier_ratio, c->inliers, c->matches);
        return FALSE;
    }
    return TRUE;
}

/* The gate on the coarse homography's scale at the reference centre (negative: mirrored). */
static gboolean
scale_gate(const double h[9], const PcbImage *reference, const PcbRegisterParams *params,
           GError **error)
{
    double scale = pcb_h_photo_scale(h, reference->width / 2.0, reference->height / 2.0);
    if (!(scale > params->min_scale && scale < params->max_scale)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "implausible registration: photo scale %.3f photo px per reference px "
                    "(limit %g .. %g) or mirrored",
                    scale, params->min_scale, params->max_scale);
        return FALSE;
    }
    return TRUE;
}

/* The gates on the refined registration: tile agreement, residual, field, coverage. */
static gboolean
final_gates(const PcbRegistration *out, const PcbImage *reference, const PcbRegisterParams *params,
            GError **error)
{
    const int kept = out->inliers + out->parallax_tiles, measured = out->tiles;
    double agree = (double) kept / MAX(1, measured);
    double max_field = params->max_field_px > 0
                           ? params->max_field_px
                           : REG_FIELD_DIAG_SHARE * hypot(reference->width, reference->height);
    if (kept < params->min_tiles || agree < params->min_tile_agree) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_REGISTER,
                    "registration inconsistent: %d of %d refinement tiles agree (%.0f%%, %d of "
                    "them explained by parallax; limit >= %d and >= %.0f%%)",
                    kept, measured, 100 * agree, out->parallax_tiles, params->min_tiles,
                    100 * params->min_tile_agree);
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
    return TRUE;
}

/* The measures of the refined @h and its @grid into @out, the local field included (or
 * only its p95 when @local_field is off). */
static void
measure(const TileGrid *grid, const double h[9], int measured, const PcbImage *reference,
        const PcbImage *photo, gboolean local_field, PcbRegistration *out)
{
    int kept = 0;
    for (int k = 0; k < grid->cols * grid->rows; k++)
        kept += grid->good[k];
    memcpy(out->h, h, sizeof out->h);
    out->tiles = measured;
    out->inliers = kept;
    out->scale = pcb_h_photo_scale(h, reference->width / 2.0, reference->height / 2.0);
    out->rotation_deg = pcb_h_rotation_deg(h, reference->width / 2.0, reference->height / 2.0);
    out->coverage = coverage(h, reference->width, reference->height, photo->width, photo->height);
    double rms = pcb_reg_build_field(grid, h, photo->width, photo->height, out);
    if (!local_field) {
        double ss = 0;
        for (int k = 0; k < grid->cols * grid->rows; k++)
            if (grid->good[k])
                ss += grid->res_x[k] * grid->res_x[k] + grid->res_y[k] * grid->res_y[k];
        rms = sqrt(ss / MAX(1, kept));
        pcb_registration_clear(out);
    }
    out->rms_px = rms;
}

/* The parallax of parts off the board plane, from the tiles that disagree with it (returns
 * how many moved off the plane): those it explains count as agreeing (a tall part seen from another
 * pose is no wrong registration). Their residuals are taken against the local field, which follows
 * lens distortion and bow (a smooth displacement the tiles around share), so that only what stands
 * out of it is read as parallax. */
static int
explain_parallax(TileGrid *grid, const PcbImage *reference, const PcbImage *photo,
                 const PcbRegisterParams *params, PcbRegistration *out)
{
    int n = grid->cols * grid->rows;
    g_autofree gboolean *explained = g_new0(gboolean, n);
    const gboolean field
        = out->field_dx != NULL && out->field_cols == grid->cols && out->field_rows == grid->rows;
    for (int k = 0; k < n && field; k++) {
        grid->res_x[k] -= out->field_dx[k];
        grid->res_y[k] -= out->field_dy[k];
    }
    pcb_reg_parallax(grid, out->h, reference->width, reference->height, photo->width, photo->height,
                     params, explained, &out->parallax);
    /* the tiles the board plane left out stand above it: explained too */
    int more = 0;
    for (int k = 0; k < n; k++)
        more += grid->raised[k] || (explained[k] && !grid->good[k]);
    out->parallax_tiles = more;
    return pcb_reg_moved_tiles(grid);
}

/* When the refinement's tiles moved off the plane but showed no parallax: the parallax probe's
 * (pcb_reg_probe, pcb_reg_parallax_probed). A board with a few tall parts (a pin header, a
 * connector or two) has too few of the sparse tiles on them to tell parallax from chance; the
 * probe's dense ones are enough. When not one refinement tile moved, nothing stood out of the plane
 * at their scale and the probe is not run. Only the parallax changes: the gates stay on the
 * refinement's tiles. */
static gboolean
probe_parallax(const PcbImage *ref_g, const PcbImage *pho_g, const PcbImage *reference,
               const PcbImage *photo, const PcbRegisterParams *params, PcbRegistration *out,
               GError **error)
{
    TileGrid probe;
    if (!pcb_reg_probe(ref_g, pho_g, out, &probe, error)) {
        pcb_reg_tile_grid_free(&probe);
        return FALSE;
    }
    PcbParallax par;
    if (pcb_reg_parallax_probed(&probe, out->h, reference->width, reference->height, photo->width,
                                photo->height, params, &par))
        out->parallax = par;
    pcb_reg_tile_grid_free(&probe);
    return TRUE;
}

/* The identity for a photo already aligned with the reference (same size required). */
static gboolean
register_aligned(const PcbImage *reference, const PcbImage *photo, PcbRegistration *out,
                 GError **error)
{
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

/* Appends printf-style text to *@error's message (GLib only prefixes). */
static void append_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
append_error(GError **error, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *tail = g_strdup_vprintf(format, args);
    va_end(args);
    g_autofree char *message = g_strconcat((*error)->message, tail, NULL);
    GError *e = g_error_new_literal((*error)->domain, (*error)->code, message);
    g_error_free(*error);
    *error = e;
}

/* When the refinement or its gates failed (*@error) and the coarse inliers lie on under half of
 * the reference's 16 parts (@spread, a share): why that may be, and what to do, appended to
 * the message. A board taking a small part of the golden, or a label on a tall part outvoting a
 * plain board, gives coarse matches on a few parts and a plane most tiles do not follow. */
static void
narrow_hint(GError **error, double spread)
{
    if (error == NULL || *error == NULL || !g_error_matches(*error, PCB_ERROR, PCB_ERROR_REGISTER)
        || !(spread < REG_NARROW_SPREAD))
        return;
    append_error(error,
                 "; the coarse matches lie on %.0f of the reference's 16 parts: the board may "
                 "take little of the golden (crop the golden to the board, fill the photo with "
                 "it) or the matches may lie on a tall part's top (a label)",
                 16 * spread);
}

/* The images the refinement steps through: full-resolution grey, their reduced copies, and
 * the side the coarse estimate was made at. */
typedef struct {
    const PcbImage *ref_g, *pho_g;
    const PcbReduced *rr, *pr;
    int coarse_side;
} Levels;

/* The refinement from the coarse homography @h0 (@tight: see pcb_reg_refine), the lens model,
 * the board plane, the measures and the parallax into @out, and the final gates; *@moved: how
 * many tiles moved off the plane. */
static gboolean
refine_and_gate(const Levels *lv, const PcbImage *reference, const PcbImage *photo,
                const PcbRegisterParams *params, const double h0[9], gboolean tight,
                PcbRegistration *out, int *moved, GError **error)
{
    double h[9];
    memcpy(h, h0, sizeof h);
    TileGrid grid;
    int measured;
    if (!pcb_reg_refine(lv->ref_g, lv->pho_g, lv->rr, lv->pr, lv->coarse_side, params->min_tiles,
                        tight, h, &grid, &measured, error))
        return FALSE;
    if (params->local_field)
        pcb_reg_lens_readmit(&grid, h, photo->width, photo->height);
    if (params->parallax
        && !pcb_reg_board_plane(&grid, h, reference->width, reference->height, photo->width,
                                photo->height, params, error)) {
        pcb_reg_tile_grid_free(&grid);
        return FALSE;
    }
    measure(&grid, h, measured, reference, photo, params->local_field, out);
    *moved = params->parallax ? explain_parallax(&grid, reference, photo, params, out) : 0;
    pcb_reg_tile_grid_free(&grid);
    return final_gates(out, reference, params, error);
}

/* The refinement again with a tight plane fit, after a first attempt (@passed or not, *@out its
 * result, *@error its failure) that failed or fitted its kept tiles loosely (rms above
 * REG_LOOSE_RMS). Each level's robust fit admits tiles within 0.6% of the diagonal, so that
 * lens distortion towards the corners is no outlier; where tall parts take much of a small board
 * (a 40 mm valve on a 45 mm board), their tops are admitted too and the fit falls between them
 * and the board: neither agrees with it (6 of 21 tiles on the held-out ecc83 render), or it
 * passes off the board around the top (a synthetic top over a third of a board: 4-8 px, rms
 * 0.66 px). Admitted within 2 px, the board's tiles carry the fit (12 of 21; within 0.13 px, rms
 * 0.18) and the parallax explains the tops. After a failure the second attempt's result
 * replaces the first (when it fails too, its reason is appended to *@error); after a pass, only
 * when it passes and fits its tiles closer. Returns whether @out now holds a registration that
 * passed. */
static gboolean
again_tight(const Levels *lv, const PcbImage *reference, const PcbImage *photo,
            const PcbRegisterParams *params, const double h0[9], gboolean passed,
            PcbRegistration *out, int *moved, GError **error)
{
    PcbRegistration alt = *out;
    alt.field_dx = alt.field_dy = NULL;
    alt.field_cols = alt.field_rows = 0;
    int moved2 = 0;
    g_autoptr(GError) second = NULL;
    const gboolean ok
        = refine_and_gate(lv, reference, photo, params, h0, TRUE, &alt, &moved2, &second);
    g_debug("register: first attempt %s (rms %.2f px); the tight fit %s (rms %.2f)",
            passed ? "passed" : (*error)->message, out->rms_px, ok ? "passes" : second->message,
            alt.rms_px);
    if (passed && !(ok && alt.rms_px < out->rms_px)) {
        pcb_registration_clear(&alt);
        return TRUE;
    }
    pcb_registration_clear(out);
    *out = alt;
    *moved = moved2;
    if (ok) {
        g_clear_error(error);
        return TRUE;
    }
    /* "registration inconsistent: ..." twice says it once */
    const char *colon = strchr((*error)->message, ':'), *tail = second->message;
    const size_t head = colon != NULL ? (size_t) (colon - (*error)->message) + 1 : 0;
    if (head > 0 && strncmp(tail, (*error)->message, head) == 0)
        for (tail += head; *tail == ' '; tail++)
            ;
    append_error(error, "; fitted to the plane most tiles follow within 2 px: %s", tail);
    return FALSE;
}

static gboolean register_with(const PcbImage *reference, const PcbImage *ref_g,
                              const PcbReduced *rr_in, const PcbCoarseRef *cref,
                              const PcbImage *photo, const PcbReduced *photo_reduced,
                              const PcbRegisterParams *params, double t0, PcbRegistration *out,
                              GError **error);

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
    if (params->aligned)
        return register_aligned(reference, photo, out, error);
    double t0 = pcb_now_ms();
    g_autoptr(PcbImage) ref_g = pcb_image_to_gray(reference, error);
    if (ref_g == NULL)
        return FALSE;
    PcbReduced rr;
    g_autoptr(PcbImage) rr_owned = NULL;
    if (!reduced_or_made(ref_reduced, ref_g, (int) (params->coarse_side * REG_REDUCED_SIDE), &rr,
                         &rr_owned, error))
        return FALSE;
    return register_with(reference, ref_g, &rr, NULL, photo, photo_reduced, params, t0, out, error);
}

/* Coarse matching again at REG_RETRY_SIDE times the side, from the full-resolution grey
 * images, after the first attempt failed its gates (@c, and *@error says how): a small board in
 * a large frame (a fifth of the frame's width) is some 200 px across at the usual side, too few
 * for its features. 1.5 times, not 2: SIFT's scale space of two 2048 px images takes 1.3 GB at
 * once (a 24 MP pair that fails: peak 0.5 GB, 1.4 GB at 2048 px, 0.9 GB at 1536). When the
 * images are no larger than the side there is nothing more to see, and the first error stands.
 * TRUE with @c replaced and *@used_side set (the refinement then steps from it: the coarse
 * estimate is that much finer) when the second attempt passes the gates; FALSE with *@error (the
 * second attempt's, with the first's count) otherwise. */
static gboolean
coarse_again(const PcbImage *ref_g, const PcbImage *pho_g, const PcbRegisterParams *params,
             Coarse *c, int *used_side, GError **error)
{
    const int side = (int) lround(REG_RETRY_SIDE * params->coarse_side);
    const int larger = MAX(MAX(ref_g->width, ref_g->height), MAX(pho_g->width, pho_g->height));
    if (larger <= params->coarse_side)
        return FALSE;
    PcbRegisterParams again = *params;
    again.coarse_side = MIN(side, larger);
    const PcbReduced rf = { ref_g, 1.0 }, pf = { pho_g, 1.0 };
    Coarse c2;
    memset(&c2, 0, sizeof c2);
    g_clear_error(error); /* the second attempt's error replaces the first */
    if (!pcb_reg_coarse(&rf, NULL, &pf, &again, &c2, error))
        return FALSE;
    g_debug("register: coarse again at %d px: %d inliers (%d at %d px)", again.coarse_side,
            c2.inliers, c->inliers, params->coarse_side);
    if (!coarse_gates(&c2, params, error)) {
        g_prefix_error(error, "at %d px: ", again.coarse_side);
        append_error(error, "; at %d px: %d coarse inliers", params->coarse_side, c->inliers);
        return FALSE;
    }
    *c = c2;
    *used_side = again.coarse_side;
    return TRUE;
}

/* The registration of @photo against the reference (@ref_g its grey copy, @rr its reduced
 * one, @cref its coarse side or NULL), its timing from @t0. */
static gboolean
register_with(const PcbImage *reference, const PcbImage *ref_g, const PcbReduced *rr_in,
              const PcbCoarseRef *cref, const PcbImage *photo, const PcbReduced *photo_reduced,
              const PcbRegisterParams *params, double t0, PcbRegistration *out, GError **error)
{
    const double t_coarse = t0;
    const PcbReduced rr = *rr_in;
    g_autoptr(PcbImage) pho_g = pcb_image_to_gray(photo, error);
    if (pho_g == NULL)
        return FALSE;
    PcbReduced pr;
    g_autoptr(PcbImage) pr_owned = NULL;
    int side = (int) (params->coarse_side * REG_REDUCED_SIDE);
    if (!reduced_or_made(photo_reduced, pho_g, side, &pr, &pr_owned, error))
        return FALSE;
    g_debug("register: grey and reduced images %.0f ms (%d x %d at %.3f, %d x %d at %.3f)%s",
            pcb_now_ms() - t0, rr.image->width, rr.image->height, rr.scale, pr.image->width,
            pr.image->height, pr.scale, cref != NULL ? ", the reference's prepared" : "");

    t0 = pcb_now_ms();
    Coarse c;
    memset(&c, 0, sizeof c);
    int coarse_side = params->coarse_side;
    gboolean ok = pcb_reg_coarse(&rr, cref, &pr, params, &c, error);
    if (ok && !coarse_gates(&c, params, error))
        ok = coarse_again(ref_g, pho_g, params, &c, &coarse_side, error);
    g_debug("register: coarse %.0f ms", pcb_now_ms() - t0);
    out->coarse_matches = c.matches;
    out->coarse_inliers = c.inliers;
    out->coarse_ms = pcb_now_ms() - t_coarse;
    if (!ok || !scale_gate(c.h, reference, params, error))
        return FALSE;

    double t_refine = pcb_now_ms();
    const Levels lv = { ref_g, pho_g, &rr, &pr, coarse_side };
    int moved = 0;
    GError *e1 = NULL; /* the caller's @error may be NULL: the second attempt needs the first's */
    gboolean refined = refine_and_gate(&lv, reference, photo, params, c.h, FALSE, out, &moved, &e1);
    if (refined ? out->rms_px > REG_LOOSE_RMS : g_error_matches(e1, PCB_ERROR, PCB_ERROR_REGISTER))
        refined = again_tight(&lv, reference, photo, params, c.h, refined, out, &moved, &e1);
    out->refine_ms = pcb_now_ms() - t_refine;
    if (!refined) {
        g_propagate_error(error, e1);
        narrow_hint(error, c.spread);
        return FALSE;
    }
    if (params->parallax && !out->parallax.seen && moved > 0) {
        const double t_probe = pcb_now_ms();
        if (!probe_parallax(ref_g, pho_g, reference, photo, params, out, error))
            return FALSE;
        out->refine_ms += pcb_now_ms() - t_probe;
    }
    g_debug("registered (%s): %d/%d tiles, rms %.3f px, field p95 %.2f px, coverage %.2f, "
            "scale %.3f, rotation %.1f deg",
            c.detector, out->inliers, out->tiles, out->rms_px, out->field_p95_px, out->coverage,
            out->scale, out->rotation_deg);
    return TRUE;
}

/* ---- the reference's side made once ---- */

struct _PcbRegisterGolden {
    const PcbImage *reference; /* borrowed */
    PcbReduced given;          /* the caller's reduced copy (borrowed; image may be NULL) */
    PcbImage *ref_g;           /* grey, full resolution */
    PcbReduced rr;             /* reduced grey copy: @rr_owned, @ref_g or the caller's */
    PcbImage *rr_owned;
    PcbCoarseRef coarse;
    PcbRegisterParams params; /* what it was made under */
    gboolean made;            /* grey, reduced and coarse made (not for aligned pairs) */
};

PcbRegisterGolden *
pcb_register_golden_new(const PcbImage *reference, const PcbReduced *ref_reduced,
                        const PcbRegisterParams *params, GError **error)
{
    PcbRegisterParams defaults;
    if (params == NULL) {
        pcb_register_params_init(&defaults);
        params = &defaults;
    }
    PcbRegisterGolden *g = g_new0(PcbRegisterGolden, 1);
    g->reference = reference;
    g->params = *params;
    if (ref_reduced != NULL)
        g->given = *ref_reduced;
    if (params->aligned)
        return g;
    if ((g->ref_g = pcb_image_to_gray(reference, error)) == NULL
        || !reduced_or_made(ref_reduced, g->ref_g, (int) (params->coarse_side * REG_REDUCED_SIDE),
                            &g->rr, &g->rr_owned, error)
        || !pcb_reg_coarse_ref_init(&g->rr, params, &g->coarse, error)) {
        pcb_register_golden_free(g);
        return NULL;
    }
    g->made = TRUE;
    return g;
}

void
pcb_register_golden_free(PcbRegisterGolden *g)
{
    if (g == NULL)
        return;
    pcb_reg_coarse_ref_clear(&g->coarse);
    pcb_image_free(g->rr_owned);
    pcb_image_free(g->ref_g);
    g_free(g);
}

/* Whether what @g holds was made as @params would make it. */
static gboolean
golden_fits(const PcbRegisterGolden *g, const PcbRegisterParams *params)
{
    const PcbRegisterParams *m = &g->params;
    return g->made && m->coarse_side == params->coarse_side
           && m->max_features == params->max_features && m->seed == params->seed;
}

gboolean
pcb_register_golden(const PcbRegisterGolden *golden, const PcbImage *photo,
                    const PcbReduced *photo_reduced, const PcbRegisterParams *params,
                    PcbRegistration *out, GError **error)
{
    PcbRegisterParams defaults;
    if (params == NULL) {
        pcb_register_params_init(&defaults);
        params = &defaults;
    }
    if (params->aligned || !golden_fits(golden, params))
        return pcb_register_reduced(golden->reference, photo,
                                    golden->given.image != NULL ? &golden->given : NULL,
                                    photo_reduced, params, out, error);
    pcb_registration_clear(out);
    memset(out, 0, sizeof *out);
    return register_with(golden->reference, golden->ref_g, &golden->rr, &golden->coarse, photo,
                         photo_reduced, params, pcb_now_ms(), out, error);
}
