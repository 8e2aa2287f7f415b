/* Hysteresis regions of the score map: grown from their strong pixels over the pixels above
 * the low threshold, then (optionally) put to the shift test. */
#include <stdlib.h>
#include <string.h>
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "findings/findings_internal.h"
#include "diff/kernels.h"

/* A region being grown, with its raster-order key and (for the shift test) its pixels. */
typedef struct {
    PcbRawRegion r;
    long first;     /* raster index of the region's first pixel */
    GArray *pixels; /* int x, y pairs; NULL without the shift test */
} Grown;

/* One row of a threshold mask: where the score reaches the threshold @map (or @t). */
static void
mask_row(const guint8 *v, const pcbcv_view *map, int t, int y, guint8 *o, int n)
{
    if (map != NULL)
        pcb_at_least_map_row(v, pcb_view_row(map, y), o, n);
    else
        pcb_at_least_row(v, (guint8) t, o, n); /* thresholds are 1..255 */
}

/* 255 in @above where the score reaches the low threshold. */
static void
above_mask(const pcbcv_view *s, const PcbThresholds *th, guint8 *above)
{
    for (int y = 0; y < s->height; y++)
        mask_row(pcb_view_row(s, y), th->low_map, th->low, y, above + (size_t) y * s->width,
                 s->width);
}

/* Whether row @y may hold a strong pixel: without a map, most rows' maximum says not. */
static gboolean
row_may_be_strong(const pcbcv_view *s, const PcbThresholds *th, int y)
{
    return th->high_map != NULL || pcb_row_max(pcb_view_row(s, y), s->width) >= th->high;
}

/* Adds pixel (@x, @y) to @g's statistics. */
static void
take(Grown *g, const pcbcv_view *s, int x, int y)
{
    PcbRawRegion *r = &g->r;
    const int v = pcb_view_row(s, y)[x];
    if (g->pixels != NULL) {
        const int p[2] = { x, y };
        g_array_append_vals(g->pixels, p, 2);
    }
    r->area++;
    r->sum += v;
    r->peak = MAX(r->peak, v);
    const int x1 = MAX(r->x + r->w - 1, x), y1 = MAX(r->y + r->h - 1, y);
    r->x = MIN(r->x, x);
    r->y = MIN(r->y, y);
    r->w = x1 - r->x + 1;
    r->h = y1 - r->y + 1;
    g->first = MIN(g->first, (long) y * s->width + x);
}

/* Pushes onto @stack the pixels of @above within @reach px of (@px, @py), clearing them there. */
static void
push_around(const pcbcv_view *s, guint8 *above, int px, int py, int reach, GArray *stack)
{
    for (int y = MAX(0, py - reach); y <= MIN(s->height - 1, py + reach); y++)
        for (int x = MAX(0, px - reach); x <= MIN(s->width - 1, px + reach); x++) {
            if (above[(size_t) y * s->width + x] == 0)
                continue;
            above[(size_t) y * s->width + x] = 0;
            const int q[2] = { x, y };
            g_array_append_vals(stack, q, 2);
        }
}

/* Floods @g from the pixels on @stack over @above (cleared in it as pixels are taken), each
 * reaching the pixels within @reach px; every pixel taken goes on @mine. */
static void
flood(const pcbcv_view *s, guint8 *above, int reach, GArray *stack, GArray *mine, Grown *g)
{
    while (stack->len > 0) {
        const int px = g_array_index(stack, int, stack->len - 2);
        const int py = g_array_index(stack, int, stack->len - 1);
        g_array_set_size(stack, stack->len - 2);
        take(g, s, px, py);
        const int p[2] = { px, py };
        g_array_append_vals(mine, p, 2);
        push_around(s, above, px, py, reach, stack);
    }
}

/* Whether region @r is too small or thin for a finding (@th). */
static gboolean
small(const PcbRawRegion *r, const PcbThresholds *th)
{
    return r->area < th->small_area || MIN(r->w, r->h) < th->small_side;
}

/* Grows the region of seed (@sx, @sy) over @above (cleared in it as pixels are taken): over
 * touching pixels, then, while it is too small for a finding, over gaps of up to th->bridge - 1
 * px too (a dark part on a dark board: a strong sliver at one edge, its other edges just above
 * the low threshold, 2-3 px apart). */
static void
grow(const pcbcv_view *s, const PcbThresholds *th, guint8 *above, int sx, int sy, GArray *stack,
     GArray *mine, Grown *g)
{
    g->r = (PcbRawRegion){ sx, sy, 1, 1, 0, 0, 0 };
    g->first = (long) sy * s->width + sx;
    above[(size_t) sy * s->width + sx] = 0;
    const int seed[2] = { sx, sy };
    g_array_set_size(stack, 0);
    g_array_set_size(mine, 0);
    g_array_append_vals(stack, seed, 2);
    flood(s, above, 1, stack, mine, g);
    if (th->bridge <= 1 || !small(&g->r, th))
        return;
    /* from every pixel again, reaching further: what it takes reaches as far */
    const guint n = mine->len;
    for (guint i = 0; i < n; i += 2)
        push_around(s, above, g_array_index(mine, int, i), g_array_index(mine, int, i + 1),
                    th->bridge, stack);
    flood(s, above, th->bridge, stack, mine, g);
}

static int
by_first(const void *a, const void *b)
{
    long x = ((const Grown *) a)->first, y = ((const Grown *) b)->first;
    return (x > y) - (x < y);
}

/* Every region with a strong pixel, sorted into raster order of their first pixel: the same
 * regions as labelling every component and keeping those with a strong pixel, but the work
 * follows the few strong regions, not the whole map. */
static GArray *
grow_all(const pcbcv_view *s, const PcbThresholds *th, gboolean keep_pixels)
{
    const size_t n = (size_t) s->width * s->height;
    g_autofree guint8 *above = g_new(guint8, n);
    above_mask(s, th, above);
    GArray *grown = g_array_new(FALSE, FALSE, sizeof(Grown));
    GArray *stack = g_array_new(FALSE, FALSE, sizeof(int));
    GArray *mine = g_array_new(FALSE, FALSE, sizeof(int));
    for (int y = 0; y < s->height; y++) {
        if (!row_may_be_strong(s, th, y))
            continue;
        const guint8 *v = pcb_view_row(s, y);
        for (int x = 0; x < s->width; x++) {
            /* weak, or already taken */
            if (v[x] < pcb_high_at(th, x, y) || above[(size_t) y * s->width + x] == 0)
                continue;
            Grown g = { .pixels = keep_pixels ? g_array_new(FALSE, FALSE, sizeof(int)) : NULL };
            grow(s, th, above, x, y, stack, mine, &g);
            g_array_append_val(grown, g);
        }
    }
    g_array_free(stack, TRUE);
    g_array_free(mine, TRUE);
    g_array_sort(grown, by_first);
    return grown;
}

typedef struct {
    const PcbShiftTest *t;
    const pcbcv_view *s;
    const PcbThresholds *th;
    Grown *grown;
    gboolean *keep;
    PcbJob job;
} TestJob;

static void
test_regions(void *ctx, int begin, int end)
{
    TestJob *j = ctx;
    for (int k = begin; k < end; k++) {
        Grown *g = &j->grown[k];
        GError *err = NULL;
        if (!pcb_shift_residual(j->t, j->s, j->th, (const int *) (void *) g->pixels->data,
                                (int) g->pixels->len / 2, &g->r, &j->keep[k], &err))
            pcb_job_fail(&j->job, err);
    }
}

static gboolean
shift_test_ok(const PcbShiftTest *t, const pcbcv_view *s)
{
    const pcbcv_view *v[3] = { t->reference, t->photo, t->valid };
    for (int i = 0; i < 3; i++)
        if (v[i]->width != s->width || v[i]->height != s->height)
            return FALSE;
    return t->reference->channels == 3 && t->photo->channels == 3 && t->valid->channels == 1
           && t->radius >= 0 && t->noise[0] > 0 && t->noise[1] > 0 && t->noise[2] > 0;
}

gboolean
pcb_regions(const pcbcv_view *score, const PcbThresholds *th, const PcbShiftTest *shift,
            PcbRawRegion **regions, int *n, GError **error)
{
    *regions = NULL;
    *n = 0;
    const gboolean test = shift != NULL && shift->max_shift > 0;
    if (score->channels != 1 || (test && !shift_test_ok(shift, score))) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "regions: bad arguments");
        return FALSE;
    }
    GArray *grown = grow_all(score, th, test);
    Grown *g = (Grown *) (void *) grown->data;
    g_autofree gboolean *keep = g_new(gboolean, MAX(1, grown->len));
    for (guint k = 0; k < grown->len; k++)
        keep[k] = TRUE;
    TestJob j = { .t = shift, .s = score, .th = th, .grown = g, .keep = keep };
    gboolean ok
        = !test || pcb_parallel((int) grown->len, test_regions, &j, &j.job, "regions", error);
    *regions = g_new(PcbRawRegion, MAX(1, grown->len));
    for (guint k = 0; k < grown->len; k++) {
        if (keep[k])
            (*regions)[(*n)++] = g[k].r;
        else
            g_debug("findings: region at %d,%d %dx%d px, peak %.1f sigma: a local "
                    "shift of the photo by up to %d px explains it",
                    g[k].r.x, g[k].r.y, g[k].r.w, g[k].r.h, g[k].r.peak / shift->unit,
                    shift->max_shift);
        if (g[k].pixels != NULL)
            g_array_free(g[k].pixels, TRUE);
    }
    g_array_free(grown, TRUE);
    if (!ok)
        g_clear_pointer(regions, g_free);
    return ok;
}
