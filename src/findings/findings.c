/* Findings: hysteresis regions of the score map, merged, filtered by size, classified, scored. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/findings.h"
#include "core/imgops.h"
#include "core/util.h"

typedef struct {
    double x0, y0, x1, y1; /* working px, exclusive max */
    double area, sum;
    int peak;
    gboolean alive;
} Region;

static gboolean
near(const Region *a, const Region *b, double gap)
{
    return a->x0 - gap < b->x1 && b->x0 - gap < a->x1 && a->y0 - gap < b->y1 && b->y0 - gap < a->y1;
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
    guint8 lv = (guint8) CLAMP(lround(params->low_sigma * PCB_DIFF_UNIT), 1, 255);
    guint8 hv = (guint8) CLAMP(lround(params->high_sigma * PCB_DIFF_UNIT), 1, 255);
    for (int y = 0; y < h; y++) {
        memset(pcb_image_row(lo, y), lv, (size_t) w);
        memset(pcb_image_row(hi, y), hv, (size_t) w);
    }
    if (board != NULL && board->zones != NULL) {
        /* larger zones first, so a smaller zone inside a larger one wins */
        guint n = board->zones->len;
        g_autofree guint *order = g_new(guint, n);
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
        for (guint i = 0; i < n; i++) {
            const PcbZone *z = &g_array_index(board->zones, PcbZone, order[i]);
            double s = z->sensitivity > 0 ? z->sensitivity : 1.0;
            int x0 = CLAMP((int) floor(z->rect.x / map->scale), 0, w);
            int y0 = CLAMP((int) floor(z->rect.y / map->scale), 0, h);
            int x1 = CLAMP((int) ceil((z->rect.x + z->rect.w) / map->scale), 0, w);
            int y1 = CLAMP((int) ceil((z->rect.y + z->rect.h) / map->scale), 0, h);
            guint8 zl = (guint8) CLAMP(lround(params->low_sigma * PCB_DIFF_UNIT / s), 1, 255);
            guint8 zh = (guint8) CLAMP(lround(params->high_sigma * PCB_DIFF_UNIT / s), 1, 255);
            for (int y = y0; y < y1; y++) {
                memset(pcb_image_row(lo, y) + x0, zl, (size_t) (x1 - x0));
                memset(pcb_image_row(hi, y) + x0, zh, (size_t) (x1 - x0));
            }
        }
    }
    *low = g_steal_pointer(&lo);
    *high = g_steal_pointer(&hi);
    return TRUE;
}

/* The bare-board colour around a box in one image: the mean of the ring pixels (@pad px
 * around the box) in the most populated cell of a coarse colour histogram — the solder mask,
 * even when parts, traces and silkscreen take much of the ring. FALSE when the ring is empty. */
static gboolean
board_colour(const PcbImage *img, int x0, int y0, int x1, int y1, int pad, double col[3])
{
    int w = img->width, h = img->height;
    int rx0 = MAX(0, x0 - pad), ry0 = MAX(0, y0 - pad);
    int rx1 = MIN(w, x1 + pad), ry1 = MIN(h, y1 + pad);
    g_autofree guint *hist = g_new0(guint, 4096);
    for (int y = ry0; y < ry1; y++) {
        const guint8 *row = pcb_image_row(img, y);
        for (int x = rx0; x < rx1; x++)
            if (!(x >= x0 && x < x1 && y >= y0 && y < y1)) {
                const guint8 *p = row + 3 * x;
                hist[(p[0] >> 4) << 8 | (p[1] >> 4) << 4 | p[2] >> 4]++;
            }
    }
    guint best = 0;
    for (guint i = 1; i < 4096; i++)
        if (hist[i] > hist[best])
            best = i;
    if (hist[best] == 0)
        return FALSE;
    double sum[3] = { 0, 0, 0 };
    guint n = 0;
    for (int y = ry0; y < ry1; y++) {
        const guint8 *row = pcb_image_row(img, y);
        for (int x = rx0; x < rx1; x++) {
            const guint8 *p = row + 3 * x;
            if (!(x >= x0 && x < x1 && y >= y0 && y < y1)
                && (guint) ((p[0] >> 4) << 8 | (p[1] >> 4) << 4 | p[2] >> 4) == best) {
                for (int c = 0; c < 3; c++)
                    sum[c] += p[c];
                n++;
            }
        }
    }
    for (int c = 0; c < 3; c++)
        col[c] = sum[c] / n;
    return TRUE;
}

static double
colour_dist(const guint8 *p, const double col[3])
{
    double d0 = p[0] - col[0], d1 = p[1] - col[1], d2 = p[2] - col[2];
    return sqrt(d0 * d0 + d1 * d1 + d2 * d2);
}

/* A region's box clipped to the map, and the width of the ring of board around it. FALSE
 * when nothing of it is left. */
static gboolean
region_box(const PcbDiffMap *map, const Region *r, int *x0, int *y0, int *x1, int *y1, int *pad)
{
    int w = map->ref->width, h = map->ref->height;
    *x0 = MAX(0, (int) r->x0);
    *y0 = MAX(0, (int) r->y0);
    *x1 = MIN(w, (int) ceil(r->x1));
    *y1 = MIN(h, (int) ceil(r->y1));
    *pad = MAX(3, (int) (0.5 * MAX(*x1 - *x0, *y1 - *y0)));
    return *x1 > *x0 && *y1 > *y0;
}

/* Kind from which way the changed pixels moved against the bare board around them: nearer
 * the board colour in the reference than in the photo, a part now stands there (added); the
 * other way round, a part is gone (removed; the pads it leaves may look new); neither way
 * for a good share (another part, colour, marking): altered. A move counts when it is at
 * least a third of the bare-board tolerance; measuring it, not asking "bare or not" on each
 * side, keeps a part whose colour is near the board's (a small or blurred part, a trace
 * under it) from reading as no change of part at all. */
static PcbKind
classify(const PcbDiffMap *map, const Region *r, guint8 low)
{
    int x0, y0, x1, y1, pad;
    double br[3], bp[3];
    if (!region_box(map, r, &x0, &y0, &x1, &y1, &pad)
        || !board_colour(map->ref, x0, y0, x1, y1, pad, br)
        || !board_colour(map->photo, x0, y0, x1, y1, pad, bp))
        return PCB_KIND_ALTERED;
    /* a move counts from a third of the bare-board tolerance (8-bit RGB distance) */
    double move = MAX(30.0, 4.0 * map->noise[0]) / 3;
    guint n = 0, to_part = 0, to_bare = 0;
    for (int y = y0; y < y1; y++) {
        const guint8 *a = pcb_image_row(map->ref, y), *b = pcb_image_row(map->photo, y);
        const guint8 *s = pcb_image_row(map->score, y);
        for (int x = x0; x < x1; x++) {
            if (s[x] < low) /* only the pixels that changed */
                continue;
            n++;
            double away = colour_dist(b + 3 * x, bp) - colour_dist(a + 3 * x, br);
            to_part += away > move;
            to_bare += away < -move;
        }
    }
    if (n == 0)
        return PCB_KIND_ALTERED;
    /* a part standing on the board moves most changed pixels away from it, at least twice as
     * many as it hides board detail; short of that, a tenth moving to the board is a removal
     * (its pads may stay and look new) */
    if (to_part >= 0.1 * n && to_part >= 2.0 * to_bare)
        return PCB_KIND_ADDED;
    if (to_bare >= 0.1 * n)
        return PCB_KIND_REMOVED;
    return PCB_KIND_ALTERED;
}

/* The map's blur matching as the backend takes it. */
static pcbcv_blur_map
blur_of(const PcbDiffMap *map)
{
    return (pcbcv_blur_map){ map->blur_cell, map->blur_cols, map->blur_rows, map->blur_sigma };
}

/* How much of a region's difference a local affine change of light explains (per channel,
 * fitted over the box and a ring around it, both ways: photo from reference and reference
 * from photo). Returns the larger share of the changed pixels' squared difference that stays
 * unexplained: near 0 for glare, gain or tone changes, near 1 for a part that appeared (the
 * reference cannot be mapped onto it) or vanished (nor the photo onto the reference). */
static double
unexplained(const PcbDiffMap *map, const Region *r, guint8 low)
{
    int w = map->ref->width, h = map->ref->height;
    int bx0, by0, bx1, by1, pad;
    if (!region_box(map, r, &bx0, &by0, &bx1, &by1, &pad))
        return 1; /* nothing of it on the map: nothing explained */
    int x0 = MAX(0, bx0 - pad), y0 = MAX(0, by0 - pad), x1 = MIN(w, bx1 + pad),
        y1 = MIN(h, by1 + pad);
    /* both images as the score compared them (blur matched) */
    g_autoptr(PcbImage) rc = pcb_image_new(x1 - x0, y1 - y0, PCB_FORMAT_RGB8, NULL);
    g_autoptr(PcbImage) pc = pcb_image_new(x1 - x0, y1 - y0, PCB_FORMAT_RGB8, NULL);
    if (rc == NULL || pc == NULL)
        return 1;
    pcbcv_blur_map blur = blur_of(map);
    pcbcv_view rv = pcb_view(map->ref), pv = pcb_view(map->photo);
    pcbcv_view rcv = pcb_view(rc), pcv = pcb_view(pc);
    char msg[128];
    if (pcbcv_matched_crop(&rv, &blur, 1, x0, y0, &rcv, msg, sizeof msg) != PCBCV_OK
        || pcbcv_matched_crop(&pv, &blur, -1, x0, y0, &pcv, msg, sizeof msg) != PCBCV_OK)
        return 1; /* nothing explained */
    double worst = 0;
    for (int dir = 0; dir < 2; dir++) {
        const PcbImage *src = dir == 0 ? rc : pc;
        const PcbImage *dst = dir == 0 ? pc : rc;
        double e0 = 0, e1 = 0;
        for (int c = 0; c < 3; c++) {
            double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (int y = y0; y < y1; y++) {
                const guint8 *a = pcb_image_row(src, y - y0), *b = pcb_image_row(dst, y - y0);
                const guint8 *v = pcb_image_row(map->valid, y);
                for (int x = x0; x < x1; x++)
                    if (v[x]) {
                        double X = a[3 * (x - x0) + c], Y = b[3 * (x - x0) + c];
                        n++;
                        sx += X;
                        sy += Y;
                        sxx += X * X;
                        sxy += X * Y;
                    }
            }
            if (n < 4)
                return 1;
            double vx = sxx - sx * sx / n, cxy = sxy - sx * sy / n;
            double slope = vx > 1e-9 ? cxy / vx : 0;
            if (slope < 0.25) /* no light change inverts or wipes out contrast */
                slope = 0.25;
            double off = (sy - slope * sx) / n;
            for (int y = by0; y < by1; y++) {
                const guint8 *a = pcb_image_row(src, y - y0), *b = pcb_image_row(dst, y - y0);
                const guint8 *s = pcb_image_row(map->score, y);
                for (int x = bx0; x < bx1; x++)
                    if (s[x] >= low) {
                        double X = a[3 * (x - x0) + c], Y = b[3 * (x - x0) + c];
                        e0 += (Y - X) * (Y - X);
                        e1 += (Y - slope * X - off) * (Y - slope * X - off);
                    }
            }
        }
        double u = e0 > 0 ? e1 / e0 : 1;
        if (u > worst)
            worst = u;
    }
    return worst;
}

static gint
by_score(gconstpointer a, gconstpointer b)
{
    double x = ((const PcbFinding *) a)->score, y = ((const PcbFinding *) b)->score;
    return (x < y) - (x > y);
}

GArray *
pcb_findings_extract(const PcbDiffMap *map, const PcbBoard *board, double px_per_mm,
                     const PcbFindingsParams *params, GError **error)
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
    if (!threshold_maps(map, board, params, &low, &high, error))
        return NULL;
    pcbcv_view sv = pcb_view(map->score), lv = { 0 }, hv = { 0 };
    if (low != NULL) {
        lv = pcb_view(low);
        hv = pcb_view(high);
    }
    int lo_v = (int) CLAMP(lround(params->low_sigma * PCB_DIFF_UNIT), 1, 255);
    int hi_v = (int) CLAMP(lround(params->high_sigma * PCB_DIFF_UNIT), 1, 255);
    /* edge jitter: a region that a local shift of the photo by a few pixels explains (a
     * registration residual, binarisation or etching moving an edge) is no change; the shift
     * must also fit a ring of context around the region, at least 4 shifts wide */
    pcbcv_view rv = pcb_view(map->ref), pv = pcb_view(map->photo), vv = pcb_view(map->valid);
    int max_shift = (int) lround(params->max_shift_px / map->scale);
    pcbcv_blur_map blur = blur_of(map);
    pcbcv_shift_test shift = {
        .reference = &rv,
        .blur = &blur,
        .photo = &pv,
        .valid = &vv,
        .noise = { map->noise[0], map->noise[1], map->noise[2] },
        .unit = PCB_DIFF_UNIT,
        .radius = map->radius,
        .one_way = map->one_way,
        .max_shift = max_shift,
        .ring = 4 * max_shift + 4,
    };
    pcbcv_region *raw = NULL;
    int n = 0;
    char msg[256] = "";
    double t0 = pcb_now_ms();
    if (!pcb_cv_check(pcbcv_regions(&sv, low ? &lv : NULL, high ? &hv : NULL, lo_v, hi_v,
                                    max_shift > 0 ? &shift : NULL, &raw, &n, msg, sizeof msg),
                      msg, "regions", PCB_ERROR_BACKEND, error))
        return NULL;
    g_debug("findings: %d regions in %.0f ms", n, pcb_now_ms() - t0);
    g_autofree Region *rs = g_new0(Region, MAX(1, n));
    for (int i = 0; i < n; i++) {
        rs[i] = (Region){ raw[i].x,    raw[i].y,   raw[i].x + raw[i].w, raw[i].y + raw[i].h,
                          raw[i].area, raw[i].sum, raw[i].peak,         TRUE };
    }
    pcbcv_free(raw);

    /* merge fragments closer than merge_mm (working px) until nothing changes */
    double scale = map->scale;
    double gap = px_per_mm > 0 ? params->merge_mm * px_per_mm / scale : 4.0 / scale;
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

    const guint8 low_v = (guint8) CLAMP(lround(params->low_sigma * PCB_DIFF_UNIT), 1, 255);
    GArray *out = g_array_new(FALSE, TRUE, sizeof(PcbFinding));
    g_array_set_clear_func(out, (GDestroyNotify) pcb_finding_clear);
    double min_px
        = px_per_mm > 0 ? params->min_area_mm2 * px_per_mm * px_per_mm : params->min_area_px;
    for (int i = 0; i < n; i++) {
        const Region *r = &rs[i];
        if (!r->alive)
            continue;
        double area = r->area * scale * scale;
        /* too small, or a sliver a few pixels thin: an edge that moved by a pixel or two
         * (registration residual, binarisation jitter), not a part */
        if (area < min_px || MIN(r->x1 - r->x0, r->y1 - r->y0) < params->min_side_px) {
            g_debug(
                "findings: region at %.0f,%.0f %.0fx%.0f px, peak %.1f sigma: too small or thin",
                r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0, r->peak / PCB_DIFF_UNIT);
            continue;
        }
        PcbFinding f = { 0 };
        f.bbox = (PcbRect){ r->x0 * scale, r->y0 * scale, (r->x1 - r->x0) * scale,
                            (r->y1 - r->y0) * scale };
        f.area_px = area;
        f.area_mm2 = px_per_mm > 0 ? area / (px_per_mm * px_per_mm) : -1;
        f.peak = r->peak / PCB_DIFF_UNIT;
        double mean = r->sum / MAX(1.0, r->area) / PCB_DIFF_UNIT;
        /* confidence: how far the evidence clears the detection threshold, and its extent */
        double strength = 1.0 - exp(-(f.peak - params->low_sigma) / (2.0 * params->high_sigma));
        double extent = 1.0 - exp(-area / (4.0 * min_px));
        f.score = CLAMP(0.15 + 0.55 * strength + 0.2 * extent + 0.1 * MIN(1.0, mean / 10.0), 0, 1);
        /* a change of light explains it: glare, gain, tone (not a part) */
        double u = params->min_unexplained > 0 ? unexplained(map, r, low_v) : 1;
        if (u < params->min_unexplained) {
            g_debug(
                "findings: region at %.0f,%.0f %.0fx%.0f px, peak %.1f sigma: a change of light "
                "explains it (%.0f%% unexplained)",
                r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0, f.peak, 100 * u);
            continue;
        }
        f.kind = classify(map, r, low_v);

        const PcbZone *z = board ? pcb_board_zone_at(board, &f.bbox) : NULL;
        f.zone = z ? g_strdup(z->name) : NULL;
        g_array_append_val(out, f);
    }
    g_array_sort(out, by_score);
    return out;
}
