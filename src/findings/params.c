/* The findings stage's tunables: the only place their defaults and ranges are written. */
#include <string.h>
#include "pcbdiff/findings.h"
#include "core/param_tables.h"

#define P(...) PCB_PARAM_ROW("findings", PcbFindingsParams, __VA_ARGS__)

const PcbParamSpec pcb_findings_param_specs[] = {
    P("sensitivity", DOUBLE, sensitivity, 1, 0.25, 4,
      "divides both thresholds: higher finds fainter changes (zones multiply their own)"),
    P("high-sigma", DOUBLE, high_sigma, 7.0, 1, 15,
      "a finding must reach this difference somewhere, noise sigmas"),
    P("low-sigma", DOUBLE, low_sigma, 3.5, 0.5, 15,
      "a finding grows over pixels above this difference, noise sigmas"),
    P("min-area-mm2", DOUBLE, min_area_mm2, 0.2, 0, 1000,
      "smallest finding when the scale is known, mm^2"),
    P("min-area-px", DOUBLE, min_area_px, 24, 0, 1e6,
      "smallest finding when the scale is unknown, reference px"),
    P("min-side-px", DOUBLE, min_side_px, 4, 0, 1000,
      "a finding's box is at least this wide and tall, working px"),
    P("bridge-px", DOUBLE, bridge_px, 2, 1, 8,
      "a region too small or thin for a finding grows on over gaps below this, working px "
      "(1: touching pixels only)"),
    P("merge-mm", DOUBLE, merge_mm, 1.5, 0, 100,
      "fragments closer than this merge, mm (4 reference px when the scale is unknown)"),
    P("min-unexplained", DOUBLE, min_unexplained, 0.4, 0, 1,
      "share of a finding's difference a local change of light must leave unexplained (0: off)"),
    P("light-changed", DOUBLE, light_changed, 3.0, 0, 1000,
      "the light differs when the difference's noise is this many times the images' own "
      "(0: never)"),
    P("min-material", DOUBLE, min_material, 0.5, 0, 1,
      "when the light differs, this share of a finding's changed pixels must be bare board in "
      "one image only"),
    P("max-shift-px", DOUBLE, max_shift_px, 3.0, 0, 16,
      "a region a local shift of the photo by up to this much explains is dropped, reference px"),
};
const guint pcb_findings_param_count = G_N_ELEMENTS(pcb_findings_param_specs);

void
pcb_findings_params_init(PcbFindingsParams *p)
{
    memset(p, 0, sizeof *p);
    pcb_param_defaults(pcb_findings_param_specs, pcb_findings_param_count, p);
}
