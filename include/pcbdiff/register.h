/* pcbdiff registration: maps the photo into the reference's pixel frame. */
#ifndef PCBDIFF_REGISTER_H
#define PCBDIFF_REGISTER_H

#include <glib.h>
#include "pcbdiff/image.h"

G_BEGIN_DECLS

/* How pcb_register works and what it accepts. Fill with pcb_register_params_init, then change
 * fields. The "gate" fields decide when a photo counts as not registered (PCB_ERROR_REGISTER,
 * exit code 3); the others tune the estimate. Defaults and ranges: src/register/params.c, the
 * one table (`pcbdiff params`). */
typedef struct {
    int coarse_side;         /* longer side of the coarse images, px */
    int max_features;        /* keypoints per coarse image */
    double ratio;            /* Lowe ratio test */
    int min_inliers;         /* gate: fewer coarse inliers => not registered */
    double min_inlier_ratio; /* gate: inliers / ratio-tested matches */
    double max_rms_px;       /* gate: refined residual RMS, reference px */
    double min_coverage;     /* gate: fraction of the reference the photo covers */
    double max_field_px;     /* gate: p95 of the local displacement field, reference px (0: 2% of
                                the reference diagonal) */
    int min_tiles;           /* gate: refinement tiles that agree with the fitted homography and
                                their neighbours, at least */
    double min_tile_agree;   /* gate: agreeing / measured refinement tiles, at least */
    double min_scale;        /* gate: photo px per reference px at the reference centre, more
                                than; a mirrored photo always fails */
    double max_scale;        /* gate: photo px per reference px, less than */
    gboolean local_field;    /* estimate a smooth local displacement field (lens, bow) */
    gboolean aligned;        /* the photo is already aligned pixel for pixel (a fixture, a
                                pre-registered scan): identity, same size required */
    guint32 seed;            /* seed of the random generators */
} PcbRegisterParams;

/* Fills @params with the table's defaults. */
void pcb_register_params_init(PcbRegisterParams *params);

/* A registration. Zero-initialise it before first use; it owns field_dx / field_dy: release
 * them with pcb_registration_clear (the struct itself is the caller's). */
typedef struct {
    double h[9];        /* photo -> reference, row-major, h[8] = 1 */
    int coarse_matches; /* ratio-tested coarse matches */
    int coarse_inliers;
    int inliers;         /* refinement tiles kept (consistent) */
    int tiles;           /* refinement tiles measured at the final level */
    double rms_px;       /* residual of the kept tiles against h (+ field), reference px */
    double field_p95_px; /* p95 magnitude of the local field, reference px */
    double coverage;     /* fraction of the reference covered by the photo */
    double scale;        /* photo px per reference px (sqrt |det| of the affine part) */
    double rotation_deg;
    double coarse_ms, refine_ms; /* wall time of the coarse and the refinement stages */
    /* The local field: a grid of displacements (reference px) added after h, or NULL. */
    int field_cols, field_rows;
    double field_step_x, field_step_y; /* grid spacing in reference px; node (0,0) at (0,0) */
    float *field_dx, *field_dy;        /* field_cols * field_rows each; owned */
} PcbRegistration;

/* Frees the field @reg owns and sets it to none; the other members are left as they are.
 * Safe on a zeroed or already cleared registration. */
void pcb_registration_clear(PcbRegistration *reg);

/* Estimates the registration from @photo to @reference (full-resolution images, RGB or grey;
 * coarse stages work on reduced copies made here). The result maps full-resolution photo
 * pixels to reference pixels. @params may be NULL (the defaults). @out must be zeroed or hold
 * an earlier registration: its field is freed first, then it is overwritten (also on failure,
 * where the counts reached are kept for the report); free it with pcb_registration_clear.
 * The images stay the caller's and are not changed.
 *
 * Returns: TRUE on success. FALSE with @error set to PCB_ERROR_REGISTER and a message that
 * names the failed measure, its value and its limit when the photo cannot be registered;
 * PCB_ERROR_BACKEND when OpenCV fails, PCB_ERROR_LIMIT when memory runs out. */
gboolean pcb_register(const PcbImage *reference, const PcbImage *photo,
                      const PcbRegisterParams *params, PcbRegistration *out, GError **error);

/* A reduced grey copy of an input for the coarse stages, and its scale: reduced px per
 * full-resolution px (e.g. 0.25 for a 1/4 DCT-scaled JPEG decode). Borrowed: pcb_register_*
 * neither keeps nor frees @image. */
typedef struct {
    const PcbImage *image;
    double scale;
} PcbReduced;

/* pcb_register with the coarse stages on reduced copies the caller already has (either may
 * be NULL: made here from the full image). The full-resolution images are only touched by
 * the final refinement. Returns and ownership as pcb_register. */
gboolean pcb_register_reduced(const PcbImage *reference, const PcbImage *photo,
                              const PcbReduced *ref_reduced, const PcbReduced *photo_reduced,
                              const PcbRegisterParams *params, PcbRegistration *out,
                              GError **error);

G_END_DECLS

/* pcb_warp, the stage that applies a registration, was declared here first. */
#include "pcbdiff/warp.h"

#endif
