/* Internal: the findings stage's pieces (regions.c, shift_test.c, classify.c). */
#ifndef PCB_FINDINGS_INTERNAL_H
#define PCB_FINDINGS_INTERNAL_H

#include <math.h>
#include <glib.h>
#include "pcbdiff/findings.h"
#include "diff/diff_internal.h"

G_BEGIN_DECLS

/* A connected region of the score map. */
typedef struct {
    int x, y, w, h; /* bounding box, working px */
    int area;       /* pixels above the low threshold */
    int peak;       /* highest score value inside */
    double sum;     /* sum of score values inside */
} PcbRawRegion;

/* The hysteresis thresholds: per pixel from @low_map / @high_map (GRAY8 views, data NULL for
 * none), else @low / @high everywhere. A region smaller than @small_area px or thinner than
 * @small_side px (too small for a finding) grows on over gaps up to @bridge - 1 px wide. */
typedef struct {
    const pcbcv_view *low_map, *high_map;
    int low, high;
    int bridge;
    double small_area;
    int small_side;
} PcbThresholds;

static inline int
pcb_low_at(const PcbThresholds *t, int x, int y)
{
    return t->low_map ? pcb_view_row(t->low_map, y)[x] : t->low;
}

static inline int
pcb_high_at(const PcbThresholds *t, int x, int y)
{
    return t->high_map ? pcb_view_row(t->high_map, y)[x] : t->high;
}

/* The shift test of pcb_regions: the inputs and settings of the score, and how far the photo
 * may be moved. */
typedef struct {
    const pcbcv_view *reference, *photo, *valid; /* RGB, RGB (normalised), coverage mask */
    const PcbBlurMap *blur;                      /* the score's blur matching, or NULL */
    double noise[3];                             /* the score's Lab sigmas */
    double unit;                                 /* score values per sigma */
    int radius;                                  /* the score's tolerance radius */
    double one_way;                              /* the score's one-way weight */
    int max_shift;                               /* largest shift tried, px each way */
    int ring;                                    /* least context around a box, px */
} PcbShiftTest;

/* Hysteresis: connected regions (8-connected) of @score >= the low threshold that reach the
 * high threshold somewhere, in raster order of their first pixel (g_free *@regions). With
 * @shift, each is put to the shift test (pcb_shift_residual). */
gboolean pcb_regions(const pcbcv_view *score, const PcbThresholds *th, const PcbShiftTest *shift,
                     PcbRawRegion **regions, int *n, GError **error);

/* The shift test of one region: the score is recomputed over the region's box and a ring around
 * it (ring px, or half the box's longer side) for every local shift of the photo (up to
 * max_shift px each way, whole pixels), and the shift that leaves the fewest strong (>= high)
 * pixels in that window is taken if it removes at least half of them. @r is then cut down to
 * its @pixels (@npixels, x y pairs) that stay >= low under that shift, and those within
 * max_shift + radius px of them (the shift may move a real change's border that far). FALSE
 * in *@keep when none of them reaches the high threshold: the shift explains the region. */
gboolean pcb_shift_residual(const PcbShiftTest *t, const pcbcv_view *score, const PcbThresholds *th,
                            const int *pixels, int npixels, PcbRawRegion *r, gboolean *keep,
                            GError **error);

/* A region of the findings stage: working px, exclusive max. */
typedef struct {
    double x0, y0, x1, y1;
    double area, sum;
    int peak;
    gboolean alive;
} PcbRegion;

/* Region @r's box on a map of @width x @height px: the whole pixels it covers, clipped to the
 * map (0 x 0 when nothing of it is on it). */
static inline PcbBox
pcb_region_box(const PcbRegion *r, int width, int height)
{
    const int x0 = (int) floor(r->x0), y0 = (int) floor(r->y0);
    return pcb_box_and((PcbBox){ x0, y0, (int) ceil(r->x1) - x0, (int) ceil(r->y1) - y0 },
                       (PcbBox){ 0, 0, width, height });
}

/* The map's blur matching (classify.c). */
PcbBlurMap pcb_blur_of(const PcbDiffMap *map);

/* The kind of a region from which way its changed pixels (>= @low) moved against the bare
 * board around them, the bare board tinted rather than grey where both take much of the ring;
 * altered inside a part's body (@px_per_mm reference px per mm, 0: unknown) (classify.c). */
PcbKind pcb_classify(const PcbDiffMap *map, const PcbRegion *r, guint8 low, double px_per_mm);

/* Whether the reference shows region @r on a part's body: the ring around its box is mostly
 * of one grey or black colour on each side, and the surface of that colour ends within a few
 * mm (@px_per_mm reference px per mm; FALSE when unknown, 0), short of the image's edge; its
 * box into @body (working px; optional) (classify.c). */
gboolean pcb_part_body(const PcbDiffMap *map, const PcbRegion *r, double px_per_mm, PcbBox *body);

/* A group of the texture cover map's cells of one sign (cover.c): @r its box (working px),
 * area (its cells') and peak score; @core how many of its cells have more than half of the
 * local background's window in it. */
typedef struct {
    PcbRegion r;
    int cells, core;
    int sign; /* +1 plain in the photo (a cover put on), -1 plain in the reference */
} PcbCoverGroup;

/* The groups of map's cover map with a core (an array of PcbCoverGroup; empty without a map). */
GArray *pcb_cover_groups(const PcbDiffMap *map);

/* The share of a region's changed pixels (>= @low) that are bare board in one image and not in
 * the other: a part put on or taken off the board, not a surface lit otherwise; or the largest
 * such share of a @cell x @cell px cell (working px) where at least @least pixels change
 * material (classify.c). */
double pcb_material_change(const PcbDiffMap *map, const PcbRegion *r, guint8 low, int cell,
                           double least);

/* Per direction d of @ndirs (angle 2 pi d / ndirs, the way a shadow falls from its part), the
 * share of region @r's changed pixels (>= @low, their count into *@changed; a large region's
 * estimated from a grid of them) that the photo
 * shows darker and that reach a part of the reference through changed pixels, walked back
 * against that direction: a shadow cast by a part under a light from the other side
 * (classify.c). FALSE when the region has no board around it. */
gboolean pcb_shadow_shares(const PcbDiffMap *map, const PcbRegion *r, guint8 low, int ndirs,
                           double *share, double *changed);

/* The larger share of a region's changed pixels' squared difference that a local affine
 * change of light leaves unexplained; 1 when what it leaves is still @max_residual noise sigmas
 * or more (root mean square; 0: no such limit) (classify.c). */
double pcb_unexplained(const PcbDiffMap *map, const PcbRegion *r, guint8 low, double max_residual);

/* zn's Gaussian sigma on @map, working px, at @px_per_mm reference px per mm (0: unknown)
 * (parallax_zn.c). */
double pcb_zn_sigma(const PcbDiffMap *map, double px_per_mm);

/* A window of zn (the parallax test's matching window, 5 x 5) is flat at a mean |zn| of at
 * most this, and textured above twice this. */
#define PCB_ZN_FLAT 0.25

/* Into *@share: of the covered pixels of box @box (working px), the share where structure
 * appeared: the reference's zn window flat, the photo's textured (zn at @sigma px). FALSE with
 * PCB_ERROR_BACKEND when the shim fails (parallax_zn.c). */
gboolean pcb_zn_appeared(const PcbDiffMap *map, PcbBox box, double sigma, double *share,
                         GError **error);

/* The parallax test (parallax_*.c): a region that the same structure, displaced along the
 * epipolar direction within the parallax the scene allows, explains is no change (a tall
 * part seen from another pose). Made once per map: it measures the matching threshold there
 * (NULL with PCB_ERROR_BACKEND when the shim fails). @parallax not valid: every region is
 * kept. @same_light: the photo is under the golden's light (pcb_findings_light_differs is
 * FALSE), so a pixel that changed where its luminance structure did not changed colour, which
 * no displacement explains. @map and @parallax are borrowed and must outlive it. */
typedef struct PcbParallaxTest PcbParallaxTest;
PcbParallaxTest *pcb_parallax_test_new(const PcbDiffMap *map, const PcbParallax *parallax,
                                       double px_per_mm, gboolean same_light, GError **error);
void pcb_parallax_test_free(PcbParallaxTest *t); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcbParallaxTest, pcb_parallax_test_free)

/* The parallax test of one region @r: TRUE when it holds a change that nothing explains, and
 * then @r is cut down to that part: its box and area to its changed pixels (score >= @low)
 * that the test leaves unexplained (the area at most what it was, the sum in proportion);
 * FALSE when parallax explains it. A region the test cannot judge (too large, a shim failure)
 * is kept as it is. Updates @t's totals. */
gboolean pcb_parallax_test(PcbParallaxTest *t, PcbRegion *r, guint8 low);

/* g_debug's the totals of @t: regions tested, explained, cut, time. */
void pcb_parallax_test_summary(const PcbParallaxTest *t);

G_END_DECLS

#endif
