/* The parallax test of one region: a pixel is explained when the same structure is found
 * displaced along the epipolar direction, within the parallax the scene allows, both ways
 * (pcb_match_along); the pixels a raised part's move sweeps over (its side faces, the board its
 * top hid), and those it may carry out of the photo's view, cannot be observed and are excused;
 * what is left, eroded, must hold a compact blob for the region to be a change. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "core/imgops.h"
#include "core/util.h"
#include "findings/parallax_internal.h"

#define WORK_PAD       4         /* the crop reaches this much beyond displacements and window */
#define MAX_SHIFT_PX   256       /* displacements tried at most, working px (memory guard) */
#define MAX_CROP_PX    (1 << 22) /* a larger crop is not tested (memory): the region is kept */
#define BAND_MIN_SHIFT 2         /* a band source matches at least this far, px */
#define ALONG_TEXTURE  0.05      /* ... that changes along u: box mean |d zn / d u| above this */
#define COHERENT_SIDE  9         /* a band source's neighbourhood, px square, ... */
#define COHERENT_SHARE 0.2       /* ... of which this share matches within 1 px of its s */
#define COHERENT_DS    1         /* (that 1 px) */
#define BAND_DILATE    3         /* the swept band is dilated by this square, px */
#define ERODE          5         /* unexplained pixels are eroded by this square, px */
#define SURROUND       6         /* what surrounds a component: its box grown by this, px */
#define RAISED_SHARE   0.6       /* a component surrounded this much by a raised part is on it */
#define WEIGHT_STEPS   32        /* a shifted mask's bilinear weights are in 1/32 px (OpenCV's) */
#define MARK           255       /* a set mask pixel */
#define COVERED        255       /* map->valid where the photo covers */

/* One region's crop and what is computed over it. */
typedef struct {
    PcbParallaxTest *t;
    PcbBox crop; /* working px */
    PcbBox box;  /* the region's box, crop coordinates */
    PcbMatchInput in;
    guint8 low; /* a pixel of the score >= this changed */
    float *zr, *zw;
    int *sf, *sr; /* the smallest unique displacement, -1 none (pcb_match_along) */
    guint8 *band; /* the swept band, MARK */
} Region;

static void
region_clear(Region *k)
{
    g_free(k->zr);
    g_free(k->zw);
    g_free(k->sf);
    g_free(k->sr);
    g_free(k->band);
}

/* The crop of region @r: its box grown by the largest displacement there, the cost window and
 * a pad. FALSE when it cannot be tested (no direction there, or too large). */
static gboolean
region_setup(PcbParallaxTest *t, const PcbRegion *r, Region *k)
{
    const PcbDiffMap *map = t->map;
    const PcbBox all = { 0, 0, map->ref->width, map->ref->height };
    const PcbBox box = pcb_region_box(r, all.w, all.h);
    double ux, uy, max_px;
    if (box.w <= 0
        || !pcb_parallax_at(t->parallax, 0.5 * (r->x0 + r->x1) * map->scale,
                            0.5 * (r->y0 + r->y1) * map->scale, &ux, &uy, &max_px))
        return FALSE;
    const int smax = MIN(MAX_SHIFT_PX, (int) ceil(max_px / map->scale));
    k->t = t;
    k->crop = pcb_box_grow(box, smax + 2 * PCB_PX_COST_RADIUS + 1 + WORK_PAD, all);
    k->box = (PcbBox){ box.x - k->crop.x, box.y - k->crop.y, box.w, box.h };
    k->in = (PcbMatchInput){ .w = k->crop.w,
                             .h = k->crop.h,
                             .ux = ux,
                             .uy = uy,
                             .smax = smax,
                             .tau
                             = { (float) t->tau[PCB_COST_PLAIN], (float) t->tau[PCB_COST_HALF] } };
    return (gint64) k->crop.w * k->crop.h <= MAX_CROP_PX;
}

/* How many pixels of @src's 9 x 9 neighbourhood of (@x, @y) match within COHERENT_DS of its
 * displacement (a raised part's top moves as a block; the inside of a new part matches at
 * random displacements). */
static int
coherent_count(const int *sv, const guint8 *src, int w, int h, int x, int y)
{
    const int r = COHERENT_SIDE / 2, s = sv[(size_t) y * w + x];
    int n = 0;
    for (int j = MAX(0, y - r); j <= MIN(h - 1, y + r); j++)
        for (int i = MAX(0, x - r); i <= MIN(w - 1, x + r); i++) {
            size_t q = (size_t) j * w + i;
            n += src[q] && ABS(sv[q] - s) <= COHERENT_DS;
        }
    return n;
}

/* Marks the pixels the bilinear samples of the segment from (@x0, @y0) towards (@dx, @dy)
 * (@n steps of that vector / @n) touch (a shifted mask's pixels above 0). */
static void
paint_line(const Region *k, double x0, double y0, double dx, double dy, int n, guint8 *band)
{
    const int w = k->in.w, h = k->in.h;
    for (int t = 0; t <= n; t++) {
        double f = n > 0 ? (double) t / n : 0;
        double px = round((x0 + f * dx) * WEIGHT_STEPS) / WEIGHT_STEPS;
        double py = round((y0 + f * dy) * WEIGHT_STEPS) / WEIGHT_STEPS;
        int ix = (int) floor(px), iy = (int) floor(py);
        int nx = px - ix > 0 ? 1 : 0, ny = py - iy > 0 ? 1 : 0;
        for (int j = iy; j <= iy + ny; j++)
            for (int i = ix; i <= ix + nx; i++)
                if (i >= 0 && i < w && j >= 0 && j < h)
                    band[(size_t) j * w + i] = MARK;
    }
}

/* Marks what the move of a raised point matched at displacement @s sweeps over: the segment
 * from (@x, @y) to (@x, @y) + @sign @s u (@sign +1: a reference point, -1: a photo point), and,
 * when the golden's own parallax is known, the golden's view of the part's side below that
 * point: from its place in the reference towards the golden's centre by the golden's parallax
 * at its height (a part off the golden's centre shows its side there, hiding board that the
 * photo may see). */
static void
paint(const Region *k, int x, int y, int s, double sign, guint8 *band)
{
    paint_line(k, x, y, sign * s * k->in.ux, sign * s * k->in.uy, s, band);
    const PcbParallaxTest *t = k->t;
    if (!(t->golden_mm > 0) || s <= 0)
        return;
    const double scale = t->map->scale;
    const double rx = sign > 0 ? x : x - s * k->in.ux, ry = sign > 0 ? y : y - s * k->in.uy;
    const double X = (k->crop.x + rx) * scale, Y = (k->crop.y + ry) * scale;
    const PcbParallax *p = t->parallax;
    const double per_mm = hypot(p->a * X + p->bx, p->a * Y + p->by);
    if (!(per_mm > 0))
        return;
    const double height = s * scale / per_mm; /* mm */
    const double gx = -height * t->golden_mm * (X - t->centre_x) / scale;
    const double gy = -height * t->golden_mm * (Y - t->centre_y) / scale;
    paint_line(k, rx, ry, gx, gy, (int) ceil(hypot(gx, gy)), band);
}

/* @out: |d zn / d u|, zn's change along the parallax direction (central differences). A
 * displacement along u is measured only where zn changes along u: a trace that runs along it
 * matches itself at every displacement (the aperture problem) and says nothing of a height. */
static void
along_texture(const Region *k, const float *z, float *out)
{
    const int w = k->in.w, h = k->in.h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const int xa = MAX(0, x - 1), xb = MIN(w - 1, x + 1);
            const int ya = MAX(0, y - 1), yb = MIN(h - 1, y + 1);
            float gx = (z[(size_t) y * w + xb] - z[(size_t) y * w + xa]) / (float) MAX(1, xb - xa);
            float gy = (z[(size_t) yb * w + x] - z[(size_t) ya * w + x]) / (float) MAX(1, yb - ya);
            out[(size_t) y * w + x] = fabsf(gx * (float) k->in.ux + gy * (float) k->in.uy);
        }
}

/* Paints into @band the moves of one direction: the sources are pixels matched at
 * s >= BAND_MIN_SHIFT on texture of @z (not flat, pcb_zn_texture) that are coherent; each paints
 * its move (@sign +1: x -> x + s u, -1: y - s u -> y). */
static void
paint_band(const Region *k, const float *z, const int *sv, double sign, guint8 *band)
{
    const int w = k->in.w, h = k->in.h;
    const size_t n = (size_t) w * h;
    g_autofree float *a = g_new(float, n);
    g_autofree float *tmp = g_new(float, n);
    g_autofree float *tex = g_new(float, n);
    g_autofree guint8 *src = g_new0(guint8, n);
    pcb_zn_texture(z, w, h, tmp, tex);
    g_autofree float *dtex = g_new(float, n);
    along_texture(k, z, a);
    pcb_box_mean(a, w, h, PCB_PX_COST_RADIUS, tmp, dtex);
    for (size_t i = 0; i < n; i++)
        src[i] = sv[i] >= BAND_MIN_SHIFT && tex[i] > PCB_ZN_FLAT && dtex[i] > ALONG_TEXTURE;
    const int least = (int) ceil(COHERENT_SHARE * COHERENT_SIDE * COHERENT_SIDE);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (src[(size_t) y * w + x] && coherent_count(sv, src, w, h, x, y) >= least)
                paint(k, x, y, sv[(size_t) y * w + x], sign, band);
}

/* The swept band of both directions, dilated, into k->band. */
static gboolean
swept_band(Region *k, GError **error)
{
    const int w = k->in.w, h = k->in.h;
    g_autofree guint8 *painted = g_new0(guint8, (size_t) w * h);
    paint_band(k, k->zr, k->sf, 1, painted);
    paint_band(k, k->zw, k->sr, -1, painted);
    k->band = g_new(guint8, (size_t) w * h);
    pcbcv_view pv = { w, h, 1, (size_t) w, painted }, bv = { w, h, 1, (size_t) w, k->band };
    char msg[256] = "";
    return pcb_cv_check(
        pcbcv_morph(&pv, &bv, 1, BAND_DILATE, PCBCV_BORDER_DEFAULT, msg, sizeof msg), msg,
        "parallax test", PCB_ERROR_BACKEND, error);
}

/* @flat: TRUE where both zn are flat over the cost window (box mean |zn| <= PCB_ZN_FLAT). */
static void
flat_both(const Region *k, gboolean *flat)
{
    const int w = k->in.w, h = k->in.h;
    const size_t n = (size_t) w * h;
    g_autofree float *tmp = g_new(float, n);
    g_autofree float *tr = g_new(float, n);
    g_autofree float *tw = g_new(float, n);
    pcb_zn_texture(k->zr, w, h, tmp, tr);
    pcb_zn_texture(k->zw, w, h, tmp, tw);
    for (size_t i = 0; i < n; i++)
        flat[i] = tr[i] <= PCB_ZN_FLAT && tw[i] <= PCB_ZN_FLAT;
}

/* Whether the displacements a raised point at crop pixel (@x, @y) of the reference may have
 * carry it out of the photo's view (its coverage, or the image): then its counterpart may lie
 * there, and neither its match nor the band its move sweeps can be seen. */
static gboolean
out_of_view(const Region *k, int x, int y)
{
    const PcbImage *valid = k->t->map->valid;
    for (int s = 1; s <= k->in.smax; s++) {
        const int cx = k->crop.x + (int) lround(x + s * k->in.ux);
        const int cy = k->crop.y + (int) lround(y + s * k->in.uy);
        if (cx < 0 || cy < 0 || cx >= valid->width || cy >= valid->height
            || pcb_image_row(valid, cy)[cx] != COVERED)
            return TRUE;
    }
    return FALSE;
}

/* @un: MARK where a pixel of the region's box is covered and neither matched both ways nor in
 * the band, nor out of view (out_of_view). A changed pixel (score >= low) where both images are
 * flat is not matched: zn has nothing there to match (the inside of a part body wider than its
 * window is 0 in zn, like bare board), and the colour says it changed. Under the golden's light
 * neither is a changed pixel matched only where it is (below BAND_MIN_SHIFT both ways): its
 * luminance structure is the same there, so its colour changed (a new part whose body has the
 * board's luminance), and no displacement explains that; under another light the light may have. */
static void
unexplained(const Region *k, guint8 *un)
{
    const int w = k->in.w;
    g_autofree gboolean *flat = g_new(gboolean, (size_t) w * k->in.h);
    flat_both(k, flat);
    memset(un, 0, (size_t) w * k->in.h);
    for (int y = k->box.y; y < k->box.y + k->box.h; y++) {
        const guint8 *v = pcb_image_row(k->t->map->valid, k->crop.y + y) + k->crop.x;
        const guint8 *s = pcb_image_row(k->t->map->score, k->crop.y + y) + k->crop.x;
        for (int x = k->box.x; x < k->box.x + k->box.w; x++) {
            size_t i = (size_t) y * w + x;
            const gboolean changed = s[x] >= k->low;
            const gboolean in_place = MAX(k->sf[i], k->sr[i]) < BAND_MIN_SHIFT;
            gboolean matched = k->sf[i] >= 0 && k->sr[i] >= 0 && !(flat[i] && changed)
                               && !(changed && in_place && k->t->same_light);
            un[i] = v[x] == COVERED && !matched && !k->band[i] && !out_of_view(k, x, y) ? MARK : 0;
        }
    }
}

#define SEEN 1 /* a component pixel visited */
#define KEPT 2 /* a pixel of a component kept */

/* Whether the component @list (@size pixels) lies on a raised part: of the explained pixels
 * around it (its box grown by SURROUND px; the swept band is no evidence), more than
 * RAISED_SHARE matched at a displacement rather than where they are. A change of a part's
 * appearance (a highlight or shadow that moved with the light) is surrounded by the part; a new
 * part on the board, by the board. */
static gboolean
on_raised_part(const Region *k, const guint8 *un, const int *list, int size)
{
    const int w = k->in.w, h = k->in.h;
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (int i = 0; i < size; i++) {
        x0 = MIN(x0, list[i] % w);
        x1 = MAX(x1, list[i] % w);
        y0 = MIN(y0, list[i] / w);
        y1 = MAX(y1, list[i] / w);
    }
    int raised = 0, board = 0;
    for (int y = MAX(0, y0 - SURROUND); y <= MIN(h - 1, y1 + SURROUND); y++)
        for (int x = MAX(0, x0 - SURROUND); x <= MIN(w - 1, x1 + SURROUND); x++) {
            size_t i = (size_t) y * w + x;
            if (un[i])
                continue;
            if (k->band[i] || k->sf[i] < 0 || k->sr[i] < 0)
                continue; /* unobservable, or matched one way only: no evidence */
            if (MAX(k->sf[i], k->sr[i]) >= BAND_MIN_SHIFT)
                raised++;
            else
                board++;
        }
    return raised > RAISED_SHARE * (raised + board);
}

/* Keeps in @m (MARK) only its 8-connected components of at least @least pixels that do not lie
 * on a raised part (@un: the unexplained pixels before erosion); returns the largest kept
 * one's size. */
static int
keep_components(const Region *k, const guint8 *un, guint8 *m, int w, int h, int least)
{
    const int n = w * h;
    g_autofree int *list = g_new(int, n);
    int largest = 0;
    for (int p = 0; p < n; p++) {
        if (m[p] != MARK)
            continue;
        int size = pcb_grow_component(m, w, h, p, MARK, SEEN, list);
        gboolean keep = size >= least && !on_raised_part(k, un, list, size);
        if (keep)
            largest = MAX(largest, size);
        for (int i = 0; i < size; i++)
            m[list[i]] = keep ? KEPT : 0;
    }
    for (int p = 0; p < n; p++)
        m[p] = m[p] == KEPT ? MARK : 0;
    return largest;
}

/* A set of pixels' box (crop px, inclusive) and count. */
typedef struct {
    int x0, y0, x1, y1, count;
} Extent;

/* The pixels of the region's box that are unexplained (@un), in a kept component (@kept) and,
 * when @changed, above the low threshold of the score. */
static Extent
extent(const Region *k, const guint8 *un, const guint8 *kept, gboolean changed)
{
    const int w = k->in.w;
    Extent e = { G_MAXINT, G_MAXINT, -1, -1, 0 };
    for (int y = k->box.y; y < k->box.y + k->box.h; y++) {
        const guint8 *s = pcb_image_row(k->t->map->score, k->crop.y + y) + k->crop.x;
        for (int x = k->box.x; x < k->box.x + k->box.w; x++) {
            size_t i = (size_t) y * w + x;
            if (!un[i] || !kept[i] || (changed && s[x] < k->low))
                continue;
            e.count++;
            e.x0 = MIN(e.x0, x);
            e.y0 = MIN(e.y0, y);
            e.x1 = MAX(e.x1, x);
            e.y1 = MAX(e.y1, y);
        }
    }
    return e;
}

/* Cuts @r down to its changed pixels that are unexplained and in a kept component (when none
 * is changed: those unexplained pixels, counted up to the area it had): their box (working
 * px) and count, the sum in proportion. TRUE when that changed @r. */
static gboolean
cut(const Region *k, const guint8 *un, const guint8 *kept, PcbRegion *r)
{
    Extent e = extent(k, un, kept, TRUE);
    if (e.count == 0) {
        e = extent(k, un, kept, FALSE);
        e.count = MIN(e.count, (int) r->area);
    }
    const PcbRegion before = *r;
    r->x0 = MAX(r->x0, k->crop.x + e.x0);
    r->y0 = MAX(r->y0, k->crop.y + e.y0);
    r->x1 = MIN(r->x1, k->crop.x + e.x1 + 1);
    r->y1 = MIN(r->y1, k->crop.y + e.y1 + 1);
    r->area = MIN(r->area, e.count);
    r->sum = before.area > 0 ? r->sum * r->area / before.area : r->sum;
    return memcmp(&before, r, sizeof before) != 0;
}

/* Whether the region holds a change: the unexplained pixels, eroded (1-2 px slivers at edges
 * are sub-pixel registration and interpolation), hold a component of at least min_blob px.
 * Then @r is cut down to the components that do, grown back by the erosion. *@largest: the
 * largest component's size. */
static gboolean
decide(const Region *k, PcbRegion *r, int *largest, gboolean *was_cut, GError **error)
{
    const int w = k->in.w, h = k->in.h;
    const size_t n = (size_t) w * h;
    g_autofree guint8 *un = g_new(guint8, n);
    g_autofree guint8 *eroded = g_new(guint8, n);
    g_autofree guint8 *kept = g_new(guint8, n);
    unexplained(k, un);
    pcbcv_view uv = { w, h, 1, (size_t) w, un }, ev = { w, h, 1, (size_t) w, eroded },
               kv = { w, h, 1, (size_t) w, kept };
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_morph(&uv, &ev, 0, ERODE, PCBCV_BORDER_DEFAULT, msg, sizeof msg), msg,
                      "parallax test", PCB_ERROR_BACKEND, error))
        return FALSE;
    *largest = keep_components(k, un, eroded, w, h, k->t->min_blob);
    if (*largest < k->t->min_blob)
        return TRUE;
    if (!pcb_cv_check(pcbcv_morph(&ev, &kv, 1, ERODE, PCBCV_BORDER_DEFAULT, msg, sizeof msg), msg,
                      "parallax test", PCB_ERROR_BACKEND, error))
        return FALSE;
    *was_cut = cut(k, un, kept, r);
    return TRUE;
}

/* The test of a set-up region: zn, matching, band, decision. */
static gboolean
run(Region *k, PcbRegion *r, int *largest, gboolean *was_cut, GError **error)
{
    const PcbDiffMap *map = k->t->map;
    const size_t n = (size_t) k->in.w * k->in.h;
    k->zr = g_new(float, n);
    k->zw = g_new(float, n);
    if (!pcb_zn(map->ref, k->crop, k->t->sigma, k->zr, error)
        || !pcb_zn(map->photo, k->crop, k->t->sigma, k->zw, error))
        return FALSE;
    k->in.zr = k->zr;
    k->in.zw = k->zw;
    k->sf = g_new(int, n);
    k->sr = g_new(int, n);
    return pcb_match_along(&k->in, k->sf, k->sr, error) && swept_band(k, error)
           && decide(k, r, largest, was_cut, error);
}

gboolean
pcb_parallax_test(PcbParallaxTest *t, PcbRegion *r, guint8 low)
{
    if (!t->open)
        return TRUE;
    const double t0 = pcb_now_ms();
    const PcbRegion before = *r;
    Region k = { 0 };
    k.low = low;
    if (!region_setup(t, r, &k)) {
        t->skipped++;
        return TRUE;
    }
    g_autoptr(GError) error = NULL;
    int largest = 0;
    gboolean was_cut = FALSE, ok = run(&k, r, &largest, &was_cut, &error);
    region_clear(&k);
    const double ms = pcb_now_ms() - t0;
    t->ms += ms;
    t->tested++;
    if (!ok) {
        g_debug("findings: parallax test: %s: region kept", error->message);
        *r = before;
        return TRUE;
    }
    gboolean real = largest >= t->min_blob;
    t->explained += !real;
    t->cut += was_cut;
    g_debug("findings: parallax test: region at %.0f,%.0f %.0fx%.0f px, shifts 0..%d: largest "
            "unexplained blob %d px (>= %d is real)%s, %.1f ms",
            before.x0, before.y0, before.x1 - before.x0, before.y1 - before.y0, k.in.smax, largest,
            t->min_blob, was_cut ? ", cut" : "", ms);
    return real;
}
