/* Findings: hysteresis regions of the score map, merged, filtered by size, classified, scored. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/findings.h"
#include "core/imgops.h"

void
pcb_findings_params_init(PcbFindingsParams *p)
{
    memset(p, 0, sizeof *p);
    p->high_sigma = 7.0;
    p->low_sigma = 3.5;
    p->min_area_mm2 = 0.2;
    p->min_area_px = 24;
    p->min_side_px = 4;
    p->merge_mm = 0.5;
}

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

/* How much the changed pixels of a box stand out from the ring of board around it, in one
 * image: their mean colour distance to the ring's median colour. */
static double
stand_out(const PcbImage *img, const PcbImage *score, guint8 low, int x0, int y0, int x1, int y1,
          int pad)
{
    int w = img->width, h = img->height;
    int rx0 = MAX(0, x0 - pad), ry0 = MAX(0, y0 - pad);
    int rx1 = MIN(w, x1 + pad), ry1 = MIN(h, y1 + pad);
    x0 = MAX(0, x0), y0 = MAX(0, y0), x1 = MIN(w, x1), y1 = MIN(h, y1);
    if (x1 <= x0 || y1 <= y0)
        return 0;
    guint hist[3][256];
    memset(hist, 0, sizeof hist);
    guint n = 0;
    for (int y = ry0; y < ry1; y++) {
        const guint8 *row = pcb_image_row(img, y);
        for (int x = rx0; x < rx1; x++) {
            if (x >= x0 && x < x1 && y >= y0 && y < y1)
                continue;
            for (int c = 0; c < 3; c++)
                hist[c][row[3 * x + c]]++;
            n++;
        }
    }
    if (n == 0)
        return 0;
    double med[3];
    for (int c = 0; c < 3; c++) {
        guint acc = 0;
        int v = 0;
        for (; v < 255 && 2 * (acc + hist[c][v]) < n; v++)
            acc += hist[c][v];
        med[c] = v;
    }
    double sum = 0;
    guint counted = 0;
    for (int y = y0; y < y1; y++) {
        const guint8 *row = pcb_image_row(img, y), *s = pcb_image_row(score, y);
        for (int x = x0; x < x1; x++) {
            if (s[x] < low) /* only the pixels that changed */
                continue;
            counted++;
            double d0 = row[3 * x] - med[0], d1 = row[3 * x + 1] - med[1],
                   d2 = row[3 * x + 2] - med[2];
            sum += sqrt(d0 * d0 + d1 * d1 + d2 * d2);
        }
    }
    return counted > 0 ? sum / counted : 0;
}

/* added: the photo's box stands out from the board around it much more than the reference's
 * (a part now stands where there was bare board or pads); removed: the other way round;
 * altered: both stand out alike (another part, colour, marking). */
static PcbKind
classify(const PcbDiffMap *map, const Region *r, guint8 low)
{
    int x0 = (int) r->x0, y0 = (int) r->y0, x1 = (int) ceil(r->x1), y1 = (int) ceil(r->y1);
    int pad = MAX(3, (int) (0.5 * MAX(x1 - x0, y1 - y0)));
    double sr = stand_out(map->ref, map->score, low, x0, y0, x1, y1, pad);
    double sp = stand_out(map->photo, map->score, low, x0, y0, x1, y1, pad);
    if (sp > 1.4 * sr + 4)
        return PCB_KIND_ADDED;
    if (sr > 1.4 * sp + 4)
        return PCB_KIND_REMOVED;
    return PCB_KIND_ALTERED;
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
    PcbFindingsParams defaults;
    if (params == NULL) {
        pcb_findings_params_init(&defaults);
        params = &defaults;
    }
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
    pcbcv_region *raw = NULL;
    int n = 0;
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_regions(&sv, low ? &lv : NULL, high ? &hv : NULL, lo_v, hi_v, &raw, &n,
                                    msg, sizeof msg),
                      msg, "regions", PCB_ERROR_BACKEND, error))
        return NULL;
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
        if (area < min_px || MIN(r->x1 - r->x0, r->y1 - r->y0) < params->min_side_px)
            continue;
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
        f.kind
            = classify(map, r, (guint8) CLAMP(lround(params->low_sigma * PCB_DIFF_UNIT), 1, 255));
        const PcbZone *z = board ? pcb_board_zone_at(board, &f.bbox) : NULL;
        f.zone = z ? g_strdup(z->name) : NULL;
        g_array_append_val(out, f);
    }
    g_array_sort(out, by_score);
    return out;
}
