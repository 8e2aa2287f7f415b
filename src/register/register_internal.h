/* Internal to src/register/: the registration stages and what they share. Not public API.
 *
 * pcb_register_reduced (register.c) runs: coarse feature matching on reduced copies
 * (coarse.c) -> tile refinement, coarse to fine (refine.c) -> the radial lens model and the
 * local displacement field (field.c) -> the acceptance gates (register.c). */
#ifndef PCB_REGISTER_INTERNAL_H
#define PCB_REGISTER_INTERNAL_H

#include <glib.h>
#include "cv/pcbcv.h"
#include "pcbdiff/register.h"

G_BEGIN_DECLS

#define REG_MAGSAC_MAX_ITERS  10000  /* MAGSAC++ iterations at most (coarse and tile fits) */
#define REG_MAGSAC_CONFIDENCE 0.9999 /* MAGSAC++ confidence (coarse and tile fits) */

/* The coarse estimate. */
typedef struct {
    double h[9]; /* photo -> reference, full resolution */
    int matches, inliers, ref_kp, photo_kp;
    double spread;
    gboolean found;       /* a detector fitted a homography (else only the counts are set) */
    const char *detector; /* "ORB", "SIFT" or "none" */
} Coarse;

/* The reference's side of the coarse stage, made once for many photos: its copy at the
 * coarse size and its ORB features (SIFT's, the fallback, are made per photo when needed).
 * Immutable once made. */
typedef struct {
    const PcbImage *image; /* @owned, or the reduced copy itself when already that small */
    PcbImage *owned;
    pcbcv_features *features[2]; /* ORB's; SIFT's NULL */
} PcbCoarseRef;

/* Makes @cref from the reference's reduced copy @ref_r (which must outlive it) under
 * @params; FALSE with PCB_ERROR_BACKEND (then @cref is empty). */
gboolean pcb_reg_coarse_ref_init(const PcbReduced *ref_r, const PcbRegisterParams *params,
                                 PcbCoarseRef *cref, GError **error);
void pcb_reg_coarse_ref_clear(PcbCoarseRef *cref);

/* Coarse estimate on reduced grey images: ORB first, SIFT when ORB finds too little; with
 * @cref (made under the same params) the reference's side is not made again. Fills @out (the
 * counts even when nothing fitted); FALSE only on a backend error. The gates on its result are
 * the caller's. */
gboolean pcb_reg_coarse(const PcbReduced *ref_r, const PcbCoarseRef *cref, const PcbReduced *pho_r,
                        const PcbRegisterParams *params, Coarse *out, GError **error);

/* A refinement tile, at a node of the grid. */
typedef struct {
    double cx, cy;             /* node, reference px */
    double dx, dy;             /* measured shift of the photo against the reference, px */
    double response, contrast; /* phase-correlation peak; std of the reference tile */
    gboolean ok;               /* measured, with a shift within a third of the tile */
} Tile;

/* The refinement tiles on a node grid, and their residuals against the fitted homography. */
typedef struct {
    int cols, rows;
    double step_x, step_y;
    Tile *tiles;           /* cols * rows, on the node grid */
    double *res_x, *res_y; /* residual against the fitted homography (measured tiles) */
    gboolean *good;        /* consistent: kept for the fit */
    gboolean *measured;    /* measured well enough to have a residual */
    gboolean *raised;      /* consistent, but left out of the fit: stands above the board */
} TileGrid;

/* Frees what @g holds and zeroes it. */
void pcb_reg_tile_grid_free(TileGrid *g);

/* Refines @h (photo -> reference, full resolution) coarse to fine over tiles: an
 * intermediate level on the reduced copies @rr / @pr when the step to full size is large,
 * then the full-resolution grey images; when the last level fails or measures fewer than
 * @min_tiles (the gate's), on a quarter of its nodes at most (a small board in the view), it is
 * measured again with half-size tiles. Each level's robust first fit admits tiles within
 * 0.6% of the diagonal (lens distortion is no outlier), within 2 px when @tight (the plane most
 * tiles follow closely, not a compromise between the board and tall parts' tops). @grid gets
 * the final level's tiles (free with pcb_reg_tile_grid_free, also on failure it is left
 * empty), *@measured the tiles measured there. FALSE with PCB_ERROR_REGISTER when a level has
 * too few tiles to fit. */
gboolean pcb_reg_refine(const PcbImage *ref_g, const PcbImage *pho_g, const PcbReduced *rr,
                        const PcbReduced *pr, int coarse_side, int min_tiles, gboolean tight,
                        double h[9], TileGrid *grid, int *measured, GError **error);

/* The parallax probe: small tiles (48 px) on a dense grid (they overlap), measured once
 * against @reg (its homography, photo -> reference at full resolution, and its local field:
 * lens distortion and bow are no parallax; each tile's photo window is taken where the field
 * puts it, so that a periodic texture locks on the right period) without a fit; measured where
 * the phase correlation found a clear peak, each residual less the median of those around it
 * (what stands out of its surroundings: what the field left of a smooth displacement is gone),
 * none marked consistent. Tall parts a few millimetres across, which the refinement's sparse
 * tiles miss, are seen by several of them. @g: free with pcb_reg_tile_grid_free (also on
 * failure). FALSE with PCB_ERROR_BACKEND when the shim fails. */
gboolean pcb_reg_probe(const PcbImage *ref_g, const PcbImage *pho_g, const PcbRegistration *reg,
                       TileGrid *g, GError **error);

/* @reg's local field (lens, bow: reference px added after the homography, as the warp adds
 * it) at reference pixel (@x, @y), bilinear between its nodes; 0 without a field. */
void pcb_reg_field_at(const PcbRegistration *reg, double x, double y, double *dx, double *dy);

/* Tiles the lens model explains are consistent: the radial model (when it explains the
 * consistent tiles better than @h alone) is fitted, every measured tile within 1 px (and 10% of
 * the model's displacement) of it is marked consistent in @g->good, and the model is fitted
 * again with them, twice at most. The refinement's agreement with neighbours is judged before
 * any lens model: where distortion grows fastest, towards the corners, it drops the tiles, a
 * model fitted to the inner ones falls short there (k -0.0155 for a true -0.0186), and the
 * corners' tiles then move off the plane as if a tall part stood there. Returns how many were
 * added. */
int pcb_reg_lens_readmit(TileGrid *g, const double h[9], int pw, int ph);

/* The local field from the grid's consistent tiles into @out (radial lens model when it
 * explains them better); returns the RMS of the kept tiles against the field. */
double pcb_reg_build_field(const TileGrid *g, const double h[9], int pw, int ph,
                           PcbRegistration *out);

/* The photo camera's pose against the board (pose.c), in reference px: the board frame has its
 * origin at the reference centre, x right, y down, z into the board. */
typedef struct {
    gboolean valid;
    double focal;     /* the photo's focal length, photo px */
    double centre[3]; /* the photo camera's centre (z < 0: above the board), reference px */
    double tilt_deg;  /* angle between its axis and the board normal */
    double cost;      /* how far the homography is from a camera's (0: exactly one) */
} RegPose;

/* The pose of the camera that took the @pw x @ph photo, from @h (photo -> reference, a
 * @rw x @rh reference taken square to the board). FALSE when no camera fits. */
gboolean pcb_reg_pose(const double h[9], int rw, int rh, int pw, int ph, RegPose *out);

/* The camera of pcb_reg_pose at focal length @f (photo px) instead of the one that fits @h
 * best: near a square view the homography fixes the focal length loosely, and the camera's
 * place with it. FALSE when it is not a camera above the board that fits @h. */
gboolean pcb_reg_pose_at(const double h[9], int rw, int rh, int pw, int ph, double f, RegPose *out);

/* The parallax of the scene (@out; valid only when enough tiles follow one field) from the
 * grid's measured tiles that moved off the plane of @h (photo -> @rw x @rh reference; the photo
 * is @pw x @ph) and the photo camera's pose; marks the tiles it explains in @explained (per
 * node, optional) and returns how many. */
int pcb_reg_parallax(const TileGrid *g, const double h[9], int rw, int rh, int pw, int ph,
                     const PcbRegisterParams *params, gboolean *explained, PcbParallax *out);

/* How many of @g's measured tiles moved off the plane (by 1.5 px or more): those the parallax
 * is read from. */
int pcb_reg_moved_tiles(const TileGrid *g);

/* The parallax from the probe's tiles (pcb_reg_probe) into @out: seen when at least 5 of them
 * follow a field that does not come from them, significantly more often than they follow it
 * the other way (a sign test: chance measurements and the aperture's errors go either way, a
 * part standing on the board moves one way only). The field is the pose's; without a pose (a
 * photo nearly square to the board), a camera's square to the board above the point the
 * photo's centre shows (a uniform field, in units of the largest shift that followed it).
 * Returns out->seen. */
gboolean pcb_reg_parallax_probed(const TileGrid *probe, const double h[9], int rw, int rh, int pw,
                                 int ph, const PcbRegisterParams *params, PcbParallax *out);

/* Drops from the grid's kept tiles those that stand above the board (moved along the parallax
 * further than the kept tiles around them) and refits @h over the rest, a few rounds (plane.c);
 * the dropped tiles are marked raised, residuals of all measured tiles follow the new @h. FALSE
 * only when a fit fails. */
gboolean pcb_reg_board_plane(TileGrid *g, double h[9], int rw, int rh, int pw, int ph,
                             const PcbRegisterParams *params, GError **error);

/* qsort comparator for doubles, ascending. */
static inline int
pcb_reg_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

G_END_DECLS

#endif
