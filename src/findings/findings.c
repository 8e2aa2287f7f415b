/* Findings: hysteresis regions of the score map, merged, filtered by size, classified, scored. */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/findings.h"
#include "core/imgops.h"
#include "core/util.h"
#include "findings/findings_internal.h"

static gboolean
near(const PcbRegion *a, const PcbRegion *b, double gap)
{
    return a->x0 - gap < b->x1 && b->x0 - gap < a->x1 && a->y0 - gap < b->y1 && b->y0 - gap < a->y1;
}

/* A threshold of @sigma in score values, lowered by @sensitivity. */
static guint8
threshold_value(double sigma, double sensitivity)
{
    return (guint8) CLAMP(lround(sigma * PCB_DIFF_UNIT / sensitivity), 1, 255);
}

/* The board's zones, larger first, so that a smaller zone inside a larger one wins. */
static guint *
zones_by_size(const PcbBoard *board)
{
    guint n = board->zones->len;
    guint *order = g_new(guint, n);
    for (guint i = 0; i < n; i++)
        order[i] = i;
    for (guint i = 0; i < n; i++)
        for (guint j = i + 1; j < n; j++) {
            const PcbZone *a = &g_array_index(board->zones, PcbZone, order[i]);
            const PcbZone *b = &g_array_index(board->zones, PcbZone, order[j]);
            if (b->rect.w * b->rect.h > a->rect.w * a->rect.h) {
                guint t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
    return order;
}

/* Fills zone @z's rectangle (working px) of both maps with its thresholds. */
static void
fill_zone(const PcbDiffMap *map, const PcbZone *z, const PcbFindingsParams *params, PcbImage *lo,
          PcbImage *hi)
{
    int w = lo->width, h = lo->height;
    double s = z->sensitivity > 0 ? z->sensitivity : 1.0;
    int x0 = CLAMP((int) floor(z->rect.x / map->scale), 0, w);
    int y0 = CLAMP((int) floor(z->rect.y / map->scale), 0, h);
    int x1 = CLAMP((int) ceil((z->rect.x + z->rect.w) / map->scale), 0, w);
    int y1 = CLAMP((int) ceil((z->rect.y + z->rect.h) / map->scale), 0, h);
    guint8 zl = threshold_value(params->low_sigma, s);
    guint8 zh = threshold_value(params->high_sigma, s);
    for (int y = y0; y < y1; y++) {
        memset(pcb_image_row(lo, y) + x0, zl, (size_t) (x1 - x0));
        memset(pcb_image_row(hi, y) + x0, zh, (size_t) (x1 - x0));
    }
}

/* Threshold maps: the board default, lowered inside zones by their sensitivity. None (NULL)
 * when the board has no zones: the defaults apply everywhere. */
static gboolean
threshold_maps(const PcbDiffMap *map, const PcbBoard *board, const PcbFindingsParams *params,
               PcbImage **low, PcbImage **high, GError **error)
{
    *low = *high = NULL;
    if (board == NULL || board->zones == NULL || board->zones->len == 0)
        return TRUE;
    int w = map->score->width, h = map->score->height;
    g_autoptr(PcbImage) lo = pcb_image_new(w, h, PCB_FORMAT_GRAY8, error);
    g_autoptr(PcbImage) hi = lo ? pcb_image_new(w, h, PCB_FORMAT_GRAY8, error) : NULL;
    if (hi == NULL)
        return FALSE;
    guint8 lv = threshold_value(params->low_sigma, 1.0),
           hv = threshold_value(params->high_sigma, 1.0);
    for (int y = 0; y < h; y++) {
        memset(pcb_image_row(lo, y), lv, (size_t) w);
        memset(pcb_image_row(hi, y), hv, (size_t) w);
    }
    g_autofree guint *order = zones_by_size(board);
    for (guint i = 0; i < board->zones->len; i++)
        fill_zone(map, &g_array_index(board->zones, PcbZone, order[i]), params, lo, hi);
    *low = g_steal_pointer(&lo);
    *high = g_steal_pointer(&hi);
    return TRUE;
}

static gint
by_score(gconstpointer a, gconstpointer b)
{
    double x = ((const PcbFinding *) a)->score, y = ((const PcbFinding *) b)->score;
    return (x < y) - (x > y);
}

#define MIN_RING_SHIFTS 4    /* the shift test's context ring is at least this many shifts ... */
#define RING_EXTRA      4    /* ... plus this many px wide */
#define DEFAULT_GAP_PX  4.0  /* merge gap in reference px when the scale is unknown */
#define BASE_SCORE      0.15 /* confidence: the floor, */
#define STRENGTH_WEIGHT 0.55 /* ... the weight of how far the peak clears the threshold, */
#define EXTENT_WEIGHT   0.2  /* ... of the extent, */
#define MEAN_WEIGHT     0.1  /* ... and of the mean strength, */
#define STRENGTH_SCALE  2.0  /* the peak's excess in high thresholds that gives 1 - 1/e, */
#define EXTENT_SCALE    4.0  /* the area in minimum areas that does, */
#define MEAN_FULL       10.0 /* and the mean (sigmas) that counts in full */
#define COVER_UNDER     0.5  /* a texture cover this much under other findings adds none */
/* a change of light leaves a region's changed pixels less than this many high thresholds
 * apart (root mean square), or it does not explain it */
#define LIGHT_RESIDUAL 2.0
/* a region whose changed pixels fill this share of its box is as large as its box (a small
 * part's blurred rim falls below the low threshold) */
#define COMPACT_FILL 0.5
/* under another light, a region in whose box structure appeared over this share (the
 * reference flat, the photo textured) is no change of light */
#define APPEARED_SHARE 0.25
#define SHADOW_DIRS    16  /* the ways a shadow may fall, evenly spaced */
#define SHADOW_SHARE   0.5 /* a region this much darker and against a part along them is a shadow */

/* The hysteresis regions of the map, put to the shift test: edge jitter (a registration
 * residual, binarisation or etching moving an edge) that a local shift of the photo by a few
 * pixels explains is no change; the shift must also fit a ring of context around the region,
 * at least 4 shifts wide. */
static PcbRegion *
raw_regions(const PcbDiffMap *map, const PcbImage *low, const PcbImage *high,
            const PcbFindingsParams *params, double min_px, int *n, GError **error)
{
    pcbcv_view sv = pcb_view(map->score), lv = { 0 }, hv = { 0 };
    if (low != NULL) {
        lv = pcb_view(low);
        hv = pcb_view(high);
    }
    const PcbThresholds th = { low ? &lv : NULL,
                               high ? &hv : NULL,
                               threshold_value(params->low_sigma, 1.0),
                               threshold_value(params->high_sigma, 1.0),
                               (int) lround(params->bridge_px),
                               min_px / (map->scale * map->scale),
                               (int) ceil(params->min_side_px) };
    pcbcv_view rv = pcb_view(map->ref), pv = pcb_view(map->photo), vv = pcb_view(map->valid);
    int max_shift = (int) lround(params->max_shift_px / map->scale);
    PcbBlurMap blur = pcb_blur_of(map);
    PcbShiftTest shift = {
        .reference = &rv,
        .blur = &blur,
        .photo = &pv,
        .valid = &vv,
        .noise = { map->noise[0], map->noise[1], map->noise[2] },
        .unit = PCB_DIFF_UNIT,
        .radius = map->radius,
        .one_way = map->one_way,
        .max_shift = max_shift,
        .ring = MIN_RING_SHIFTS * max_shift + RING_EXTRA,
    };
    PcbRawRegion *raw = NULL;
    double t0 = pcb_now_ms();
    if (!pcb_regions(&sv, &th, max_shift > 0 ? &shift : NULL, &raw, n, error))
        return NULL;
    g_debug("findings: %d regions in %.0f ms", *n, pcb_now_ms() - t0);
    PcbRegion *rs = g_new0(PcbRegion, MAX(1, *n));
    for (int i = 0; i < *n; i++)
        rs[i] = (PcbRegion){ raw[i].x,    raw[i].y,   raw[i].x + raw[i].w, raw[i].y + raw[i].h,
                             raw[i].area, raw[i].sum, raw[i].peak,         TRUE };
    g_free(raw);
    return rs;
}

/* Merges regions closer than @gap (working px) until nothing changes. */
static void
merge_regions(PcbRegion *rs, int n, double gap)
{
    gboolean merged = TRUE;
    while (merged) {
        merged = FALSE;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n && rs[i].alive; j++) {
                if (!rs[j].alive || !near(&rs[i], &rs[j], gap))
                    continue;
                rs[i].x0 = MIN(rs[i].x0, rs[j].x0);
                rs[i].y0 = MIN(rs[i].y0, rs[j].y0);
                rs[i].x1 = MAX(rs[i].x1, rs[j].x1);
                rs[i].y1 = MAX(rs[i].y1, rs[j].y1);
                rs[i].area += rs[j].area;
                rs[i].sum += rs[j].sum;
                rs[i].peak = MAX(rs[i].peak, rs[j].peak);
                rs[j].alive = FALSE;
                merged = TRUE;
            }
    }
}

/* A region on a part's body (pcb_part_body) spreads over the changed pixels (>= @low) of the
 * body's box: a marking rewritten on a blurred photo is strokes of which only some reach the
 * high threshold, each its own region, and one letter alone is small enough for a change of
 * light to explain; together they are the change. Its area becomes their count (if larger),
 * its sum in proportion. */
static void
grow_on_parts(const PcbDiffMap *map, PcbRegion *rs, int n, guint8 low, double px_per_mm)
{
    for (int i = 0; i < n; i++) {
        PcbBox b;
        if (!rs[i].alive || !pcb_part_body(map, &rs[i], px_per_mm, &b))
            continue;
        int x0 = b.x + b.w, y0 = b.y + b.h, x1 = b.x, y1 = b.y, count = 0;
        for (int y = b.y; y < b.y + b.h; y++) {
            const guint8 *s = pcb_image_row(map->score, y);
            for (int x = b.x; x < b.x + b.w; x++)
                if (s[x] >= low) {
                    count++;
                    x0 = MIN(x0, x);
                    y0 = MIN(y0, y);
                    x1 = MAX(x1, x + 1);
                    y1 = MAX(y1, y + 1);
                }
        }
        PcbRegion *r = &rs[i];
        if (count <= r->area)
            continue;
        r->sum *= count / MAX(1.0, r->area);
        r->area = count;
        r->x0 = MIN(r->x0, x0);
        r->y0 = MIN(r->y0, y0);
        r->x1 = MAX(r->x1, x1);
        r->y1 = MAX(r->y1, y1);
    }
}

/* What every finding is judged by. */
typedef struct {
    const PcbDiffMap *map;
    const PcbBoard *board;
    const PcbFindingsParams *params;
    double px_per_mm, min_px;
    guint8 low;
    PcbParallaxTest *parallax; /* NULL: a flat scene */
    int shadow_dir;            /* the way shadows fall (of SHADOW_DIRS), -1: not known */
} Judge;

/* Logs (debug) what becomes of region @r: "findings: region at X,Y WxH px" and @fmt. */
G_GNUC_PRINTF(2, 3)
static void
region_debug(const PcbRegion *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_debug("findings: region at %.0f,%.0f %.0fx%.0f px%s", r->x0, r->y0, r->x1 - r->x0,
            r->y1 - r->y0, what);
}

/* The changed pixels (score at least the low threshold) in region @r's box, connected to it
 * or not. */
static int
changed_in_box(const Judge *jd, const PcbRegion *r)
{
    const PcbImage *score = jd->map->score;
    const PcbBox b = pcb_region_box(r, score->width, score->height);
    int n = 0;
    for (int y = b.y; y < b.y + b.h; y++) {
        const guint8 *s = pcb_image_row(score, y);
        for (int x = b.x; x < b.x + b.w; x++)
            n += s[x] >= jd->low;
    }
    return n;
}

/* TRUE when region @r is too small or thin for a finding (an edge that moved by a pixel or
 * two: registration residual, binarisation jitter; not a part). It counts the changed pixels
 * of its box, connected to its strong ones or not: a marking rewritten on a blurred photo
 * is strokes of which only some reach the high threshold (seed 46100 case010: 0.17 mm^2
 * connected, 0.27 mm^2 in the box). A compact region counts its whole box: on a blurred or
 * noisy photo a small part's rim falls below the low threshold (a recoloured 1.2 x 0.5 mm
 * part, 23 x 5 px: 18 x 4 px changed, 0.19 mm^2 counted pixel by pixel), while an edge that
 * moved is a thin line that fills little of its box. */
static gboolean
too_small(const Judge *jd, const PcbRegion *r)
{
    const double scale = jd->map->scale, box = (r->x1 - r->x0) * (r->y1 - r->y0);
    double px = r->area;
    if (px * scale * scale < jd->min_px)
        px = MAX(px, changed_in_box(jd, r));
    const double area = (px >= COMPACT_FILL * box ? box : px) * scale * scale;
    if (area < jd->min_px || MIN(r->x1 - r->x0, r->y1 - r->y0) < jd->params->min_side_px) {
        region_debug(r, ", peak %.1f sigma: too small or thin", r->peak / PCB_DIFF_UNIT);
        return TRUE;
    }
    return FALSE;
}

/* Whether the light on the parts differs between the golden and the photo: then a surface lit
 * otherwise (shading, a highlight, a shadow on a part) can look as changed as a new part, and
 * only a change of material counts. */
gboolean
pcb_findings_light_differs(const PcbDiffMap *map, const PcbFindingsParams *params)
{
    PcbFindingsParams defaults;
    if (params == NULL) {
        pcb_findings_params_init(&defaults);
        params = &defaults;
    }
    return params->light_changed > 0 && map->light_change >= params->light_changed;
}

static gboolean
light_differs(const Judge *jd)
{
    return pcb_findings_light_differs(jd->map, jd->params);
}

#define MATERIAL_CELL_MM 2.0 /* the cells a change of material is judged in: a small part, mm */
#define MATERIAL_CELL_PX 24  /* ... or px when the scale is unknown */

/* Whether region @r puts a part on the bare board or takes one off (see light_differs). */
static gboolean
changes_material(const Judge *jd, const PcbRegion *r)
{
    /* cells of a small part's size, half of it changing material */
    const double scale = jd->map->scale;
    int cell = jd->px_per_mm > 0 ? (int) lround(MATERIAL_CELL_MM * jd->px_per_mm / scale)
                                 : MATERIAL_CELL_PX;
    double m = pcb_material_change(jd->map, r, jd->low, cell, 0.5 * cell * cell);
    if (m >= jd->params->min_material)
        return TRUE;
    region_debug(r,
                 ": the light differs and it is the same surface in both (%.0f%% changes "
                 "material)",
                 100 * m);
    return FALSE;
}

/* Fills @f from region @r: box, area and zone, and a confidence from how far its evidence
 * clears the detection threshold (@strength, 0..1), its extent and its mean (@mean, 0..1). */
static void
describe(const Judge *jd, const PcbRegion *r, double strength, double mean, PcbKind kind,
         PcbFinding *f)
{
    const double scale = jd->map->scale, area = r->area * scale * scale;
    *f = (PcbFinding){ 0 };
    f->bbox = (PcbRect){ r->x0 * scale, r->y0 * scale, (r->x1 - r->x0) * scale,
                         (r->y1 - r->y0) * scale };
    f->area_px = area;
    f->area_mm2 = jd->px_per_mm > 0 ? area / (jd->px_per_mm * jd->px_per_mm) : -1;
    f->peak = r->peak / PCB_DIFF_UNIT;
    double extent = 1.0 - exp(-area / (EXTENT_SCALE * jd->min_px));
    f->score = CLAMP(BASE_SCORE + STRENGTH_WEIGHT * strength + EXTENT_WEIGHT * extent
                         + MEAN_WEIGHT * mean,
                     0, 1);
    f->kind = kind;
    const PcbZone *z = jd->board ? pcb_board_zone_at(jd->board, &f->bbox) : NULL;
    f->zone = z ? g_strdup(z->name) : NULL;
}

/* Whether region @r is a shadow that a part casts the way shadows fall in this photo
 * (jd->shadow_dir, or a neighbouring way): SHADOW_SHARE of its changed pixels darker and
 * reaching that part back through changed pixels. @share: its shares per way, measured when
 * the way was found (shadow_direction; NULL or NAN first: not measured). */
static gboolean
cast_shadow(const Judge *jd, const PcbRegion *r, const double *share)
{
    if (jd->shadow_dir < 0 || share == NULL || isnan(share[0]))
        return FALSE;
    double best = 0;
    for (int k = -1; k <= 1; k++)
        best = MAX(best, share[(jd->shadow_dir + k + SHADOW_DIRS) % SHADOW_DIRS]);
    if (best < SHADOW_SHARE)
        return FALSE;
    region_debug(r, ": a shadow cast the way shadows fall here (%.0f%% darker against a part)",
                 100 * best);
    return TRUE;
}

/* The way shadows fall in this photo: the direction along which most of the regions' changed
 * pixels, darker in the photo, lie against a part (each region weighted by its changed
 * pixels); -1 when none does. Each region's shares into @shares (SHADOW_DIRS each; NAN first
 * when not measured). */
static int
shadow_direction(const Judge *jd, const PcbRegion *rs, int n, double *shares)
{
    double vote[SHADOW_DIRS] = { 0 };
    for (int i = 0; i < n; i++) {
        double *share = shares + (size_t) i * SHADOW_DIRS, changed;
        if (!rs[i].alive
            || !pcb_shadow_shares(jd->map, &rs[i], jd->low, SHADOW_DIRS, share, &changed)) {
            share[0] = NAN;
            continue;
        }
        for (int d = 0; d < SHADOW_DIRS; d++)
            vote[d] += share[d] * changed;
    }
    int best = 0;
    for (int d = 1; d < SHADOW_DIRS; d++)
        if (vote[d] > vote[best])
            best = d;
    if (!(vote[best] > 0)) {
        g_debug("findings: no changed region lies against a part: no way shadows fall");
        return -1;
    }
    g_debug("findings: shadows fall at %.0f degrees (of the image's x axis, y down)",
            360.0 * best / SHADOW_DIRS);
    return best;
}

/* Whether structure appeared in region @r's box (APPEARED_SHARE of it): a change of light
 * shades and tints a surface, and may hide its detail, but puts no detail on a plain one; a part
 * put on plain board does. A box it cannot measure (a shim failure) counts as appeared: the
 * region is kept. */
static gboolean
structure_appeared(const Judge *jd, const PcbRegion *r)
{
    const PcbDiffMap *map = jd->map;
    const PcbBox box = pcb_region_box(r, map->ref->width, map->ref->height);
    g_autoptr(GError) error = NULL;
    double share = 0;
    if (box.w <= 0 || box.h <= 0)
        return FALSE;
    if (!pcb_zn_appeared(map, box, pcb_zn_sigma(map, jd->px_per_mm), &share, &error)) {
        g_debug("findings: %s: region kept", error->message);
        return TRUE;
    }
    if (share < APPEARED_SHARE)
        return FALSE;
    region_debug(r, ": structure appeared over %.0f%% of it, which no change of light does",
                 100 * share);
    return TRUE;
}

/* The finding of region @r; FALSE when it is too small or thin, when parallax explains it (a
 * part off the board plane seen from another pose; it may also be cut down to the rest), or a
 * change of light (glare, gain, tone, under another light a part's shadow: @shadow, its
 * shares per way, or NULL) explains it. */
static gboolean
finding_of(const Judge *jd, PcbRegion *r, const double *shadow, PcbFinding *f)
{
    const PcbFindingsParams *params = jd->params;
    if (too_small(jd, r))
        return FALSE;
    /* light first, on the whole region: a part of it cut out by the parallax test has no
     * unchanged board around it to hold a change of light to */
    double u = params->min_unexplained > 0
                   ? pcb_unexplained(jd->map, r, jd->low, LIGHT_RESIDUAL * params->high_sigma)
                   : 1;
    if (u < params->min_unexplained && !(light_differs(jd) && structure_appeared(jd, r))) {
        region_debug(r, ", peak %.1f sigma: a change of light explains it (%.0f%% unexplained)",
                     r->peak / PCB_DIFF_UNIT, 100 * u);
        return FALSE;
    }
    /* as light, on the whole region: a cut-down part of a new part may be mostly its shadow */
    if (light_differs(jd) && !changes_material(jd, r))
        return FALSE;
    if (light_differs(jd) && cast_shadow(jd, r, shadow))
        return FALSE;
    if (jd->parallax != NULL) {
        if (!pcb_parallax_test(jd->parallax, r, jd->low)) {
            region_debug(r, ": parallax explains it");
            return FALSE;
        }
        if (too_small(jd, r))
            return FALSE;
    }
    /* under another light only parts put on or taken off are judged: a part that stands in
     * both images and changed (a part's surface lit otherwise, a tall part's top and sides seen
     * from another pose) is what that light does */
    const PcbKind kind = pcb_classify(jd->map, r, jd->low, jd->px_per_mm);
    if (light_differs(jd) && kind == PCB_KIND_ALTERED) {
        region_debug(r, ": the light differs and a part stands there in both images (altered)");
        return FALSE;
    }
    double mean = r->sum / MAX(1.0, r->area) / PCB_DIFF_UNIT;
    /* confidence: how far the evidence clears the detection threshold, and its extent */
    double strength = 1.0
                      - exp(-(r->peak / PCB_DIFF_UNIT - params->low_sigma)
                            / (STRENGTH_SCALE * params->high_sigma));
    describe(jd, r, strength, MIN(1.0, mean / MEAN_FULL), kind, f);
    return TRUE;
}

/* The findings of the texture cover map's groups that the findings in @out do not mostly hold
 * already: a plain surface put on (added) or taken off (removed). Their strength is the share of
 * their cells that set their own background. */
static void
cover_findings(const Judge *jd, GArray *out)
{
    g_autoptr(GArray) groups = pcb_cover_groups(jd->map);
    for (guint i = 0; i < groups->len; i++) {
        const PcbCoverGroup *g = &g_array_index(groups, PcbCoverGroup, i);
        PcbFinding f;
        describe(jd, &g->r, (double) g->core / g->cells, 0,
                 g->sign > 0 ? PCB_KIND_ADDED : PCB_KIND_REMOVED, &f);
        const PcbRect b = f.bbox;
        double under = 0;
        for (guint k = 0; k < out->len; k++) {
            const PcbRect *o = &g_array_index(out, PcbFinding, k).bbox;
            const double ix = MIN(b.x + b.w, o->x + o->w) - MAX(b.x, o->x);
            const double iy = MIN(b.y + b.h, o->y + o->h) - MAX(b.y, o->y);
            under += ix > 0 && iy > 0 ? ix * iy : 0;
        }
        g_debug("findings: texture cover at %.0f,%.0f %.0fx%.0f px: %d cells plain in the %s "
                "only, %d of them over half the background's reach, %.0f%% under findings",
                g->r.x0, g->r.y0, g->r.x1 - g->r.x0, g->r.y1 - g->r.y0, g->cells,
                g->sign > 0 ? "photo" : "reference", g->core, 100 * under / (b.w * b.h));
        if (under >= COVER_UNDER * b.w * b.h)
            pcb_finding_clear(&f);
        else
            g_array_append_val(out, f);
    }
}

GArray *
pcb_findings_extract(const PcbDiffMap *map, const PcbBoard *board, double px_per_mm,
                     const PcbParallax *parallax, const PcbFindingsParams *params, GError **error)
{
    /* the sensitivity divides both thresholds (a zone's then divides them again) */
    PcbFindingsParams scaled;
    if (params == NULL)
        pcb_findings_params_init(&scaled);
    else
        scaled = *params;
    scaled.high_sigma /= scaled.sensitivity;
    scaled.low_sigma /= scaled.sensitivity;
    params = &scaled;
    g_autoptr(PcbImage) low = NULL;
    g_autoptr(PcbImage) high = NULL;
    int n = 0;
    if (!threshold_maps(map, board, params, &low, &high, error))
        return NULL;
    const double min_px
        = px_per_mm > 0 ? params->min_area_mm2 * px_per_mm * px_per_mm : params->min_area_px;
    g_autofree PcbRegion *rs = raw_regions(map, low, high, params, min_px, &n, error);
    if (rs == NULL)
        return NULL;
    const double gap
        = px_per_mm > 0 ? params->merge_mm * px_per_mm / map->scale : DEFAULT_GAP_PX / map->scale;
    merge_regions(rs, n, gap);
    grow_on_parts(map, rs, n, threshold_value(params->low_sigma, 1.0), px_per_mm);
    merge_regions(rs, n, gap);
    g_autoptr(PcbParallaxTest) ptest = NULL;
    if (parallax != NULL && parallax->valid && parallax->seen) {
        ptest = pcb_parallax_test_new(map, parallax, px_per_mm,
                                      !pcb_findings_light_differs(map, params), error);
        if (ptest == NULL)
            return NULL;
    }
    Judge jd = { .map = map,
                 .board = board,
                 .params = params,
                 .px_per_mm = px_per_mm,
                 .min_px = min_px,
                 .low = threshold_value(params->low_sigma, 1.0),
                 .parallax = ptest,
                 .shadow_dir = -1 };
    g_autofree double *shadow = NULL;
    if (pcb_findings_light_differs(map, params)) {
        shadow = g_new(double, (size_t) MAX(1, n) * SHADOW_DIRS);
        jd.shadow_dir = shadow_direction(&jd, rs, n, shadow);
    }
    GArray *out = g_array_new(FALSE, TRUE, sizeof(PcbFinding));
    g_array_set_clear_func(out, (GDestroyNotify) pcb_finding_clear);
    for (int i = 0; i < n; i++) {
        PcbFinding f;
        if (rs[i].alive
            && finding_of(&jd, &rs[i], shadow ? shadow + (size_t) i * SHADOW_DIRS : NULL, &f))
            g_array_append_val(out, f);
    }
    if (ptest != NULL)
        pcb_parallax_test_summary(ptest);
    /* under another light the score's unit is that light's residue: a plain surface as large as
     * the local background's reach can stay below it (under the golden's light it does not) */
    if (pcb_findings_light_differs(map, params))
        cover_findings(&jd, out);
    g_array_sort(out, by_score);
    return out;
}
