/* pcbdiff registration: maps the photo into the reference's pixel frame. */
#ifndef PCBDIFF_REGISTER_H
#define PCBDIFF_REGISTER_H

#include "pcbdiff/api.h"

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
    gboolean parallax;       /* estimate the parallax of parts off the board plane */
    double max_height_mm;    /* the tallest part on the board, mm (the parallax searched) */
    double px_per_mm;        /* the reference's scale, px per mm, or 0 when unknown: not a
                                tunable of this stage (pcb_inspect copies its px-per-mm here) */
} PcbRegisterParams;

/* Fills @params with the table's defaults. */
PCB_API void pcb_register_params_init(PcbRegisterParams *params);

/* The scene off the board plane (the plane + parallax decomposition of two views). After the
 * plane registration, a point h mm above the board at reference pixel (x, y) appears displaced
 * by h * (a * (x, y) + (bx, by)) reference px: along the line through the epipole -(bx, by) / a,
 * one way only for parts standing on the board, by an amount that grows with h. */
typedef struct {
    gboolean valid;          /* estimated; otherwise the scene is treated as flat */
    gboolean metric;         /* a, b are per mm of height (the reference's px/mm was known); else
                                per unit of the largest parallax measured on the tiles */
    double a, bx, by;        /* the field: px of displacement per unit of height at (x, y) */
    double max_height;       /* the tallest part looked for: mm (metric) or units (else) */
    double max_px;           /* the largest parallax measured on the refinement tiles, ref px */
    int tiles;               /* refinement tiles that the parallax explains */
    gboolean seen;           /* the tiles show parallax (enough of them are explained): the
                                differencing allows for it; else the scene looks flat */
    gboolean epipole_inside; /* the epipole lies in the reference frame */
    double epipole_x, epipole_y; /* -(bx, by) / a, reference px (far away when a is ~0) */
    /* the pose difference, from the board-plane homography (the golden camera square to the
     * board, both with the same focal length) */
    gboolean pose_valid;
    double focal_px;  /* the estimated focal length, reference px */
    double tilt_deg;  /* angle between the photo camera's axis and the board normal */
    double camera[3]; /* the photo camera: x, y from the reference centre (x right, y down) and
                         its height above the board; mm when metric, else reference px */
} PcbParallax;

/* The direction (@ux, @uy, unit) in which a raised point at reference pixel (@x, @y) moves and
 * the largest displacement (@max_px, reference px) a part up to @p's max_height shows there,
 * plus the registration's residual. Returns FALSE (outputs 0) when @p is not valid. */
PCB_API gboolean pcb_parallax_at(const PcbParallax *p, double x, double y, double *ux, double *uy,
                                 double *max_px);

/* A registration. Zero-initialise it before first use; it owns field_dx / field_dy: release
 * them with pcb_registration_clear (the struct itself is the caller's). */
typedef struct {
    double h[9];        /* photo -> reference, row-major, h[8] = 1 */
    int coarse_matches; /* ratio-tested coarse matches */
    int coarse_inliers;
    int inliers;         /* refinement tiles kept (consistent) */
    int tiles;           /* refinement tiles measured at the final level */
    int parallax_tiles;  /* tiles off the plane that the parallax explains (count as agreeing) */
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
    PcbParallax parallax;              /* the scene off the board plane */
} PcbRegistration;

/* Frees the field @reg owns and sets it to none; the other members are left as they are.
 * Safe on a zeroed or already cleared registration. */
PCB_API void pcb_registration_clear(PcbRegistration *reg);

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
PCB_API gboolean pcb_register(const PcbImage *reference, const PcbImage *photo,
                              const PcbRegisterParams *params, PcbRegistration *out,
                              GError **error);

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
PCB_API gboolean pcb_register_reduced(const PcbImage *reference, const PcbImage *photo,
                                      const PcbReduced *ref_reduced,
                                      const PcbReduced *photo_reduced,
                                      const PcbRegisterParams *params, PcbRegistration *out,
                                      GError **error);

/* What registration computes of a reference alone — its grey copy, its reduced copy and its
 * ORB features — made once for many photos (a prepared reference's). Immutable once made:
 * any number of threads may register photos against it at once. @reference and @ref_reduced's
 * image are borrowed and must outlive it. NULL with PCB_ERROR_BACKEND or PCB_ERROR_LIMIT. */
typedef struct _PcbRegisterGolden PcbRegisterGolden;
PCB_API PcbRegisterGolden *pcb_register_golden_new(const PcbImage *reference,
                                                   const PcbReduced *ref_reduced,
                                                   const PcbRegisterParams *params, GError **error);
PCB_API void pcb_register_golden_free(PcbRegisterGolden *golden); /* NULL-safe */

/* pcb_register_reduced against @golden: the same registration, without the reference's work.
 * @params whose coarse stage differs from the golden's (coarse-side, max-features, seed) are
 * honoured: the reference's side is then made again here. Thread-safe on one @golden. */
PCB_API gboolean pcb_register_golden(const PcbRegisterGolden *golden, const PcbImage *photo,
                                     const PcbReduced *photo_reduced,
                                     const PcbRegisterParams *params, PcbRegistration *out,
                                     GError **error);

G_END_DECLS

/* pcb_warp, the stage that applies a registration, was declared here first. */
#include "pcbdiff/warp.h"

#endif
