/* The registration stage's tunables: the only place their defaults and ranges are written. */
#include <string.h>
#include "pcbdiff/register.h"
#include "core/param_tables.h"

#define P(...) PCB_PARAM_ROW("register", PcbRegisterParams, __VA_ARGS__)

const PcbParamSpec pcb_register_param_specs[] = {
    P("coarse-side", INT, coarse_side, 1024, 256, 4096,
      "longer side of the reduced images the coarse feature matching runs on, px"),
    P("max-features", INT, max_features, 2000, 100, 20000, "keypoints kept per coarse image"),
    P("ratio", DOUBLE, ratio, 0.8, 0.5, 0.95, "Lowe ratio test for coarse matches"),
    P("min-inliers", INT, min_inliers, 20, 4, 1000,
      "gate: fewer coarse homography inliers and the photo is not registered"),
    P("min-inlier-ratio", DOUBLE, min_inlier_ratio, 0.08, 0, 1,
      "gate: least share of the ratio-tested coarse matches that are inliers"),
    P("max-rms-px", DOUBLE, max_rms_px, 1.5, 0.1, 20,
      "gate: largest RMS residual of the refined tiles, reference px"),
    P("min-coverage", DOUBLE, min_coverage, 0.25, 0.01, 1,
      "gate: least fraction of the reference the photo covers"),
    P("max-field-px", DOUBLE, max_field_px, 0, 0, 1000,
      "gate: largest p95 of the local displacement field, reference px (0: 2% of the diagonal)"),
    P("min-tiles", INT, min_tiles, 12, 8, 300,
      "gate: least refinement tiles that agree with the fitted homography and their neighbours"),
    P("min-tile-agree", DOUBLE, min_tile_agree, 0.3, 0, 1,
      "gate: least share of the measured refinement tiles that agree"),
    P("min-scale", DOUBLE, min_scale, 0.2, 0.01, 1,
      "gate: photo px per reference px at the reference centre, more than (never mirrored)"),
    P("max-scale", DOUBLE, max_scale, 5.0, 1, 100, "gate: photo px per reference px, less than"),
    P("local-field", BOOL, local_field, 1, 0, 1,
      "estimate a smooth local displacement field (lens distortion, board bow)"),
    P("aligned", BOOL, aligned, 0, 0, 1,
      "the photo is aligned with the reference pixel for pixel: no registration, same size"),
    P("parallax", BOOL, parallax, 1, 0, 1,
      "model parts off the board plane (plane + parallax): tiles on tall parts are explained"),
    P("max-height-mm", DOUBLE, max_height_mm, 25, 0, 200,
      "the tallest part on the board, mm: bounds the parallax searched for"),
    P("seed", UINT32, seed, 1, 0, 4294967295.0, "seed of the robust (MAGSAC++) homography fit"),
};
const guint pcb_register_param_count = G_N_ELEMENTS(pcb_register_param_specs);

void
pcb_register_params_init(PcbRegisterParams *p)
{
    memset(p, 0, sizeof *p);
    pcb_param_defaults(pcb_register_param_specs, pcb_register_param_count, p);
}
