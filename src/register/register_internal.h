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

/* The coarse estimate. */
typedef struct {
    double h[9]; /* photo -> reference, full resolution */
    int matches, inliers, ref_kp, photo_kp;
    double spread;
    const char *detector;
} Coarse;

/* Coarse estimate on reduced grey images: ORB first, SIFT when ORB finds too little.
 * Fills @out (counts even on failure); FALSE with PCB_ERROR_REGISTER when the gates
 * (min_inliers, min_inlier_ratio) fail. */
gboolean pcb_reg_coarse(const PcbReduced *ref_r, const PcbReduced *pho_r,
                        const PcbRegisterParams *params, Coarse *out, GError **error);

/* The refinement tiles on a node grid, and their residuals against the fitted homography. */
typedef struct {
    int cols, rows;
    double step_x, step_y;
    pcbcv_tile *tiles; /* cols * rows, on the node grid */
    double *res_x, *res_y;
    gboolean *good;
} TileGrid;

void pcb_reg_tile_grid_free(TileGrid *g);

/* One refinement level: tiles of @tile px over @ref (level grey), photo level grey @pho and
 * @h (photo level -> ref level), refitted in place over the consistent tiles. */
gboolean pcb_reg_refine_level(const PcbImage *ref, const PcbImage *pho, double h[9], int tile,
                              int max_tiles, double reshift_px, TileGrid *g, int *measured,
                              GError **error);

/* The local field from the grid's consistent tiles into @out (radial lens model when it
 * explains them better); returns the RMS of the kept tiles against the field. */
double pcb_reg_build_field(const TileGrid *g, const double h[9], int pw, int ph,
                           PcbRegistration *out);

/* qsort comparator for doubles, ascending. */
static inline int
pcb_reg_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

G_END_DECLS

#endif
