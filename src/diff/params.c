/* The differencing stage's tunables: the only place their defaults and ranges are written. */
#include <string.h>
#include "pcbdiff/diff.h"
#include "core/param_tables.h"

#define P(...) PCB_PARAM_ROW("diff", PcbDiffParams, __VA_ARGS__)

const PcbParamSpec pcb_diff_param_specs[] = {
    P("tolerance-px", DOUBLE, tolerance_px, 1.0, 0, 8,
      "a pixel differs only if it differs from every pixel of the other image this near (working "
      "px)"),
    P("light-block", DOUBLE, light_block, 1.0 / 12.0, 0.01, 0.5,
      "photometric normalisation block, as a fraction of the longer side"),
    P("max-work-mpx", DOUBLE, max_work_mpx, 0, 0, 1000,
      "difference at most at this many megapixels (reduced above); 0: full resolution"),
    P("background-quantile", DOUBLE, background_quantile, 0.9, 0, 0.99,
      "quantile of the score's local background that is subtracted (0: off)"),
    /* a difference seen one way only (a stroke, a mark in one image only) needs twice the
     * evidence of one seen both ways: blur matching leaves some edges a little sharper in one
     * image */
    P("one-way", DOUBLE, one_way, 0.5, 0, 1,
      "weight of a difference seen one way only (a stroke narrower than the tolerance)"),
    P("match-blur", BOOL, match_blur, 1, 0, 1,
      "blur the sharper image to match the other, cell by cell"),
    P("blur-cell", DOUBLE, blur_cell, 1.0 / 24.0, 0.01, 0.5,
      "blur matching cell, as a fraction of the longer side"),
};
const guint pcb_diff_param_count = G_N_ELEMENTS(pcb_diff_param_specs);

void
pcb_diff_params_init(PcbDiffParams *p)
{
    memset(p, 0, sizeof *p);
    pcb_param_defaults(pcb_diff_param_specs, pcb_diff_param_count, p);
}
