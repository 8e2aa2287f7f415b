/* Internal: the parallax test's pieces (parallax_zn.c: the representation and the threshold;
 * parallax_match.c: the matching along the parallax direction; parallax_test.c: the band, the
 * decision and the cut). */
#ifndef PCB_PARALLAX_INTERNAL_H
#define PCB_PARALLAX_INTERNAL_H

#include <glib.h>
#include "findings/findings_internal.h"

G_BEGIN_DECLS

#define PCB_PX_COST_RADIUS 2 /* the matching cost is a box mean of this radius (5 x 5), px */

/* The two matching costs, each with its own threshold: a pixel pair matches when either is below
 * its own. */
enum {
    PCB_COST_PLAIN, /* |zn_a - zn_b|: tolerant of noise */
    PCB_COST_HALF,  /* sampling-insensitive (pcb_half_cost): tolerant of sub-pixel misplacement */
    PCB_COSTS
};

/* What every region of one map is tested with (made once per map), and the running totals. */
struct PcbParallaxTest {
    const PcbDiffMap *map;
    const PcbParallax *parallax;
    double sigma;              /* zn's Gaussian sigma, working px */
    double tau[PCB_COSTS];     /* a cost below its own explains a pixel */
    int min_blob;              /* least eroded unexplained component of a real change, working px */
    gboolean open;             /* tau was measured: regions are tested (else every one is kept) */
    gboolean same_light;       /* under the golden's light: a pixel changed in place is changed */
    double golden_mm;          /* the golden's own parallax: a point 1 mm up at reference px x
                                  appears golden_mm * (x - centre) px further out (0: unknown) */
    double centre_x, centre_y; /* the reference centre, reference px */
    int tested, explained, cut, skipped;
    double ms;
};

/* zn, the locally normalised luminance (g - G*g) / sqrt(G*(g - G*g)^2 + floor^2), of @rgb
 * over @box (inside the image) into @out (@box.w * @box.h, rows packed), computed with the
 * context around the box that the Gaussian (@sigma px) reaches. */
gboolean pcb_zn(const PcbImage *rgb, PcbBox box, double sigma, float *out, GError **error);

/* The mean of @in (@w x @h, rows packed) over the (2 @r + 1)^2 box around each pixel, the edges
 * reflected as OpenCV's default (reflect-101), into @out (not @in); @tmp holds @w * @h. */
void pcb_box_mean(const float *in, int w, int h, int r, float *tmp, float *out);

/* How textured zn @z (@w x @h, rows packed) is around each pixel: the box mean of |z| over the
 * matching cost's window, into @out (@tmp holds @w * @h). */
void pcb_zn_texture(const float *z, int w, int h, float *tmp, float *out);

/* The values zn @z (@w x @h, rows packed) takes within half a pixel of each pixel, linearly
 * interpolated: the least and the largest of z and its means with its 4 neighbours, into @lo
 * and @hi. */
void pcb_half_range(const float *z, int w, int h, float *lo, float *hi);

/* The matching cost of one pixel pair, insensitive to sampling (Birchfield and Tomasi's, in two
 * dimensions): how far @a lies outside the other image's half-pixel range [@blo, @bhi], or @b
 * outside @a's [@alo, @ahi], whichever is less. A structure displaced by a fraction of a pixel
 * against the whole-pixel displacements tried, or across them (the registration's residual),
 * costs 0 on its steep edges, where |zn_a - zn_b| is large. */
static inline float
pcb_half_cost(float a, float alo, float ahi, float b, float blo, float bhi)
{
    const float ab = MAX(0.0f, MAX(a - bhi, blo - a));
    const float ba = MAX(0.0f, MAX(b - ahi, alo - b));
    return MIN(ab, ba);
}

/* Both matching costs of @a against @b (@w x @h each, rows packed; @alo, @ahi: @a's half-pixel
 * range), box means over the cost window, into @cost[PCB_COST_PLAIN] and @cost[PCB_COST_HALF]
 * (@w * @h each); @work holds 5 * @w * @h. */
void pcb_zn_costs(const float *a, const float *alo, const float *ahi, const float *b, int w, int h,
                  float *work, float *const cost[PCB_COSTS]);

/* One region's matching along the parallax direction, on a crop of the map. */
typedef struct {
    int w, h;             /* the crop, working px */
    double ux, uy;        /* the unit direction in which a raised point moves in the photo */
    int smax;             /* the largest displacement tried, working px */
    float tau[PCB_COSTS]; /* the costs' thresholds */
    const float *zr, *zw; /* zn of the reference and the photo over the crop */
} PcbMatchInput;

/* For each crop pixel, the smallest displacement s in 0..smax (whole px along u) at which it
 * is matched, -1 for none: forward (@sf: the reference point x is seen in the photo at
 * x + s u), reverse (@sr: the photo point y was seen in the reference at y - s u). A match at
 * s is a 5 x 5 box cost (either of PCB_COSTS; the other image sampled bilinearly) below its
 * tau that is also unique: the partner's own smallest match is >= s - 1.5 (a point explained where
 * it is cannot also be the displaced top of a part). The two directions run in parallel; FALSE with
 * PCB_ERROR_BACKEND when the shim's thread pool fails. */
gboolean pcb_match_along(const PcbMatchInput *in, int *sf, int *sr, GError **error);

G_END_DECLS

#endif
