/* The parallax field of a registration: where a raised point moves, and how far at most. */
#include <math.h>
#include "pcbdiff/register.h"

#define PARALLAX_SCALE_SLACK 1.2 /* the field's scale is estimated: 20% more is searched */
#define PARALLAX_RESIDUAL_PX 2.0 /* plus the registration's residual on the board plane, px */

gboolean
pcb_parallax_at(const PcbParallax *p, double x, double y, double *ux, double *uy, double *max_px)
{
    *ux = *uy = *max_px = 0;
    if (p == NULL || !p->valid)
        return FALSE;
    double dx = p->a * x + p->bx, dy = p->a * y + p->by, k = hypot(dx, dy);
    if (!(k > 0))
        return FALSE;
    *ux = dx / k;
    *uy = dy / k;
    *max_px = PARALLAX_SCALE_SLACK * p->max_height * k + PARALLAX_RESIDUAL_PX;
    return TRUE;
}
