/* The parallax test: a region that the same structure, displaced along the epipolar direction
 * within the parallax the scene allows, explains is no change (a tall part seen from another
 * pose). Placeholder: every region is kept. */
#include "findings/findings_internal.h"

gboolean
pcb_parallax_test(const PcbDiffMap *map, const PcbParallax *parallax, double px_per_mm,
                  PcbRegion *r)
{
    (void) map;
    (void) parallax;
    (void) px_per_mm;
    (void) r;
    return TRUE;
}
