/* pcbdiff registration: maps the photo into the reference's pixel frame. */
#ifndef PCBDIFF_REGISTER_H
#define PCBDIFF_REGISTER_H

#include <glib.h>
#include "pcbdiff/image.h"

G_BEGIN_DECLS

typedef struct {
    int coarse_side;         /* longer side of the coarse images, px (default 1024) */
    int max_features;        /* keypoints per coarse image */
    double ratio;            /* Lowe ratio test */
    int min_inliers;         /* gate: fewer coarse inliers => not registered */
    double min_inlier_ratio; /* gate: inliers / ratio-tested matches */
    double max_rms_px;       /* gate: refined residual RMS, reference px */
    double min_coverage;     /* gate: fraction of the reference the photo covers */
    double max_field_px;     /* gate: p95 of the local displacement field, reference px */
    int min_tiles;           /* gate: refinement tiles that agree with the fitted homography and
                                their neighbours, at least (default 12; 8 .. 300) */
    double min_tile_agree;   /* gate: agreeing / measured refinement tiles, at least (default
                                0.3; 0 .. 1, sensible 0.1 .. 0.8) */
    double min_scale;        /* gate: photo px per reference px at the reference centre, more
                                than (default 0.2; 0.01 .. 1); a mirrored photo always fails */
    double max_scale;        /* gate: photo px per reference px, less than (default 5; 1 .. 100) */
    gboolean local_field;    /* estimate a smooth local displacement field (lens, bow) */
    gboolean aligned;        /* the photo is already aligned pixel for pixel (a fixture, a
                                pre-registered scan): identity, same size required */
    guint32 seed;
} PcbRegisterParams;

void pcb_register_params_init(PcbRegisterParams *params);

typedef struct {
    double h[9];        /* photo -> reference, row-major, h[8] = 1 */
    int coarse_matches; /* ratio-tested coarse matches */
    int coarse_inliers;
    int inliers;         /* refined tile correspondences kept */
    int tiles;           /* tiles tried in refinement */
    double rms_px;       /* residual of the kept tiles against h, reference px */
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

void pcb_registration_clear(PcbRegistration *reg);

/* Estimates the registration from @photo to @reference (full-resolution images, RGB or grey;
 * coarse stages work on reduced copies made here). The result maps full-resolution photo
 * pixels to reference pixels. Fails with PCB_ERROR_REGISTER and a
 * message that names the failed measure, its value and its limit. */
gboolean pcb_register(const PcbImage *reference, const PcbImage *photo,
                      const PcbRegisterParams *params, PcbRegistration *out, GError **error);

/* A reduced grey copy of an input for the coarse stages, and its scale: reduced px per
 * full-resolution px (e.g. 0.25 for a 1/4 DCT-scaled JPEG decode). */
typedef struct {
    const PcbImage *image;
    double scale;
} PcbReduced;

/* pcb_register with the coarse stages on reduced copies the caller already has (either may
 * be NULL: made here from the full image). The full-resolution images are only touched by
 * the final refinement. */
gboolean pcb_register_reduced(const PcbImage *reference, const PcbImage *photo,
                              const PcbReduced *ref_reduced, const PcbReduced *photo_reduced,
                              const PcbRegisterParams *params, PcbRegistration *out,
                              GError **error);

G_END_DECLS

/* pcb_warp, the stage that applies a registration, was declared here first. */
#include "pcbdiff/warp.h"

#endif
