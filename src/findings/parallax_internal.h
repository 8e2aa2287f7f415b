/* Internal: the parallax test's pieces (parallax_zn.c: the representation and the threshold;
 * parallax_match.c: the matching along the parallax direction; parallax_test.c: the band, the
 * decision and the cut). */
#ifndef PCB_PARALLAX_INTERNAL_H
#define PCB_PARALLAX_INTERNAL_H

#include <glib.h>
#include "findings/findings_internal.h"

G_BEGIN_DECLS

#define PCB_PX_COST_RADIUS 2 /* the matching cost is a box mean of this radius (5 x 5), px */

/* What every region of one map is tested with (made once per map), and the running totals. */
struct PcbParallaxTest {
    const PcbDiffMap *map;
    const PcbParallax *parallax;
    double sigma;  /* zn's Gaussian sigma, working px */
    double tau;    /* a cost below this explains a pixel */
    int min_blob;  /* least eroded unexplained component of a real change, working px */
    gboolean open; /* tau was measured: regions are tested (else every one is kept) */
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

/* One region's matching along the parallax direction, on a crop of the map. */
typedef struct {
    int w, h;             /* the crop, working px */
    double ux, uy;        /* the unit direction in which a raised point moves in the photo */
    int smax;             /* the largest displacement tried, working px */
    float tau;            /* the cost threshold */
    const float *zr, *zw; /* zn of the reference and the photo over the crop */
} PcbMatchInput;

/* For each crop pixel, the smallest displacement s in 0..smax (whole px along u) at which it
 * is matched, -1 for none: forward (@sf: the reference point x is seen in the photo at
 * x + s u), reverse (@sr: the photo point y was seen in the reference at y - s u). A match at
 * s is a 5 x 5 box cost |zn_a - zn_b| (the other image sampled bilinearly) below tau that is
 * also unique: the partner's own smallest match is >= s - 1.5 (a point explained where it is
 * cannot also be the displaced top of a part). The two directions run in parallel; FALSE with
 * PCB_ERROR_BACKEND when the shim's thread pool fails. */
gboolean pcb_match_along(const PcbMatchInput *in, int *sf, int *sr, GError **error);

G_END_DECLS

#endif
