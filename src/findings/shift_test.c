/* The shift test: an edge that moved by a few pixels (registration residual, binarisation or
 * etching jitter) is explained by a local shift of the photo; a part or a defect is not, since
 * the shift has to fit the edges around it too. The score is recomputed with pcb_score_span,
 * the one definition the difference map was made with. */
#include <stdlib.h>
#include <string.h>
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "findings/findings_internal.h"

#define MARK 255 /* a set mask pixel */

/* A test's windows and buffers. */
typedef struct {
    const PcbShiftTest *t;
    const pcbcv_view *s;
    const PcbThresholds *th;
    PcbBox box; /* the region's box */
    PcbBox win; /* the window whose changed pixels choose the shift */
    PcbBox sw;  /* one pixel more for the smoothing */
    PcbBox rw;  /* the plain-surface reach more for the reference's ranges and masks ... */
    PcbBox pw;  /* ... and the shift more for the photo's */
    pcbcv_view lab[2], mx[2], mn[2], flat[2]; /* [0]: reference over rw, [1]: photo over pw */
    PcbBuf bufs[12];                          /* 0-4: reference, 5-9: photo, 10, 11: acc, sm */
    PcbScoreWeights w;
    pcbcv_fview acc, sm;
    guint8 *d;                   /* distances of one row */
    guint8 *above, *zero, *best; /* win-sized masks >= low: this, no, and the best shift */
} Test;

static void
test_clear(Test *k)
{
    for (size_t i = 0; i < G_N_ELEMENTS(k->bufs); i++)
        pcb_buf_clear(&k->bufs[i]);
    g_free(k->d);
    g_free(k->above);
    g_free(k->zero);
    g_free(k->best);
}

/* One image's Lab over @b as the score compares it, its ranges within +-radius (clipped at
 * the crop's edges as the score's are at the image's: off the crop counts as neutral) and its
 * plain-surface mask. */
static gboolean
crop(Test *k, int i, PcbBox b, GError **error)
{
    const PcbShiftTest *t = k->t;
    const int reach = t->radius + PCB_FLAT_REACH, ks = 2 * t->radius + 1;
    pcbcv_view m;
    if (!pcb_matched(i == 0 ? t->reference : t->photo, b, t->blur, i == 0 ? 1 : -1, &k->bufs[5 * i],
                     &m, error))
        return FALSE;
    k->lab[i] = pcb_buf_view(&k->bufs[5 * i + 1], b.w, b.h, 3);
    pcb_rgb_to_lab(&m, &k->lab[i]);
    k->mx[i] = pcb_buf_view(&k->bufs[5 * i + 2], b.w, b.h, 3);
    k->mn[i] = pcb_buf_view(&k->bufs[5 * i + 3], b.w, b.h, 3);
    k->flat[i] = pcb_buf_view(&k->bufs[5 * i + 4], b.w, b.h, 3);
    PcbBuf scratch = { 0 };
    char msg[256] = "";
    gboolean ok = pcb_flat_mask3(&k->lab[i], reach, pcb_flat_gate(t->noise[0]), &scratch,
                                 &k->flat[i], error)
                  && pcb_cv_check(pcbcv_morph(&k->lab[i], &k->mx[i], 1, ks, PCBCV_BORDER_DEFAULT,
                                              msg, sizeof msg),
                                  msg, "shift test", PCB_ERROR_BACKEND, error)
                  && pcb_cv_check(pcbcv_morph(&k->lab[i], &k->mn[i], 0, ks, PCBCV_BORDER_DEFAULT,
                                              msg, sizeof msg),
                                  msg, "shift test", PCB_ERROR_BACKEND, error);
    pcb_buf_clear(&scratch);
    return ok;
}

static gboolean
test_init(Test *k, const PcbShiftTest *t, const pcbcv_view *s, const PcbThresholds *th,
          const PcbRawRegion *r, GError **error)
{
    memset(k, 0, sizeof *k);
    k->t = t;
    k->s = s;
    k->th = th;
    const PcbBox img = { 0, 0, s->width, s->height };
    const int ring = MAX(t->ring, MAX(r->w, r->h) / 2);
    k->box = (PcbBox){ r->x, r->y, r->w, r->h };
    k->win = pcb_box_grow(k->box, ring, img);
    k->sw = pcb_box_grow(k->win, 1, img);
    k->rw = pcb_box_grow(k->sw, t->radius + PCB_FLAT_REACH, img);
    k->pw = pcb_box_grow(k->rw, t->max_shift, img);
    pcb_score_weights(t->noise, t->one_way, &k->w);
    k->acc = pcb_buf_fview(&k->bufs[10], k->sw.w, k->sw.h, 1);
    k->sm = pcb_buf_fview(&k->bufs[11], k->sw.w, k->sw.h, 1);
    k->d = g_new(guint8, 3 * (size_t) k->sw.w);
    const size_t wn = (size_t) k->win.w * k->win.h;
    k->above = g_new(guint8, wn);
    k->zero = g_new(guint8, wn);
    k->best = g_new(guint8, wn);
    return crop(k, 0, k->rw, error) && crop(k, 1, k->pw, error);
}

/* The unsmoothed score under shift (@dx, @dy) into k->acc, 0 where not covered. */
static void
shifted_score(Test *k, int dx, int dy)
{
    const PcbBox sw = k->sw, rw = k->rw, pw = k->pw;
    memset(k->acc.data, 0, k->acc.stride * (size_t) sw.h);
    /* the columns whose shifted pixel lies in the image */
    const int xa = MAX(sw.x, -dx), xb = MIN(sw.x + sw.w, k->s->width - dx);
    for (int y = sw.y; y < sw.y + sw.h && xb > xa; y++) {
        if (y + dy < 0 || y + dy >= k->s->height)
            continue;
        const size_t ro = 3 * (size_t) (xa - rw.x), po = 3 * (size_t) (xa + dx - pw.x);
        const int ry = y - rw.y, py = y + dy - pw.y;
        const PcbScoreRows rows = {
            .r = pcb_view_row(&k->lab[0], ry) + ro,
            .p = pcb_view_row(&k->lab[1], py) + po,
            .rmax = pcb_view_row(&k->mx[0], ry) + ro,
            .rmin = pcb_view_row(&k->mn[0], ry) + ro,
            .pmax = pcb_view_row(&k->mx[1], py) + po,
            .pmin = pcb_view_row(&k->mn[1], py) + po,
            .rflat = pcb_view_row(&k->flat[0], ry) + ro,
            .pflat = pcb_view_row(&k->flat[1], py) + po,
        };
        float *o = pcb_fview_row(&k->acc, y - sw.y);
        pcb_score_span(&rows, &k->w, k->d, o + (xa - sw.x), xb - xa);
        const guint8 *v = pcb_view_row(k->t->valid, y);
        for (int x = xa; x < xb; x++)
            if (!v[x])
                o[x - sw.x] = 0;
    }
}

/* The score under shift (@dx, @dy): k->above gets where it reaches the low threshold; returns
 * how many window pixels reach the high one (-1 when the smoothing failed). The shift is
 * chosen by the strong differences only: the recomputed score has no local background taken
 * off, and weak noise must not choose it. */
static long
strong_count(Test *k, int dx, int dy, GError **error)
{
    shifted_score(k, dx, dy);
    char msg[256] = "";
    if (!pcb_score_smooth(&k->acc, &k->sm, msg, sizeof msg)) {
        pcb_cv_check(PCBCV_E_OPENCV, msg, "shift test", PCB_ERROR_BACKEND, error);
        return -1;
    }
    const PcbBox win = k->win, sw = k->sw;
    const float unit = (float) k->t->unit;
    long count = 0;
    for (int y = win.y; y < win.y + win.h; y++) {
        const float *a = pcb_fview_row(&k->sm, y - sw.y);
        guint8 *l = k->above + (size_t) (y - win.y) * win.w;
        for (int x = win.x; x < win.x + win.w; x++) {
            const float q = a[x - sw.x] * unit + 0.5f;
            count += q >= pcb_high_at(k->th, x, y);
            l[x - win.x] = q >= pcb_low_at(k->th, x, y) ? MARK : 0;
        }
    }
    return count;
}

/* Tries every shift in rings of growing size (on a tie the smaller shift stays); k->zero and
 * k->best get the masks of no shift and of the best. FALSE when a backend call failed. */
static gboolean
best_shift(Test *k, long *best, long *at_zero, GError **error)
{
    const size_t wn = (size_t) k->win.w * k->win.h;
    *best = -1;
    *at_zero = 0;
    for (int m = 0; m <= k->t->max_shift; m++)
        for (int dy = -m; dy <= m; dy++)
            for (int dx = -m; dx <= m; dx++) {
                if (MAX(abs(dx), abs(dy)) != m)
                    continue;
                const long count = strong_count(k, dx, dy, error);
                if (count < 0)
                    return FALSE;
                if (m == 0) {
                    *at_zero = count;
                    memcpy(k->zero, k->above, wn);
                }
                if (*best < 0 || count < *best) {
                    *best = count;
                    memcpy(k->best, k->above, wn);
                }
            }
    return TRUE;
}

/* The region's own pixels (box-sized @own) and those that stay changed under the best shift
 * (@res); FALSE when the recomputed score does not see the region at all (nothing to judge
 * by). */
static gboolean
own_pixels(const Test *k, const int *pixels, int npixels, guint8 *own, guint8 *res)
{
    const PcbBox box = k->box, win = k->win;
    memset(own, 0, (size_t) box.w * box.h);
    for (int i = 0; i < npixels; i++)
        own[(size_t) (pixels[2 * i + 1] - box.y) * box.w + (pixels[2 * i] - box.x)] = MARK;
    gboolean seen = FALSE;
    for (int y = 0; y < box.h; y++)
        for (int x = 0; x < box.w; x++) {
            const size_t i = (size_t) y * box.w + x;
            const size_t w = (size_t) (y + box.y - win.y) * win.w + (x + box.x - win.x);
            res[i] = own[i] & k->best[w];
            seen = seen || (own[i] & k->zero[w]) != 0;
        }
    return seen;
}

/* Whether a pixel of @res reaches the high threshold on the score map. */
static gboolean
any_strong(const Test *k, const guint8 *res)
{
    const PcbBox box = k->box;
    for (int y = box.y; y < box.y + box.h; y++) {
        const guint8 *sv = pcb_view_row(k->s, y), *q = res + (size_t) (y - box.y) * box.w;
        for (int x = box.x; x < box.x + box.w; x++)
            if (q[x - box.x] && sv[x] >= pcb_high_at(k->th, x, y))
                return TRUE;
    }
    return FALSE;
}

/* The region made of the pixels of @res (box-sized). */
static PcbRawRegion
region_of(const Test *k, const guint8 *res)
{
    const PcbBox box = k->box;
    int x0 = G_MAXINT, y0 = G_MAXINT, x1 = -1, y1 = -1, area = 0, peak = 0;
    double sum = 0;
    for (int y = box.y; y < box.y + box.h; y++) {
        const guint8 *sv = pcb_view_row(k->s, y), *q = res + (size_t) (y - box.y) * box.w;
        for (int x = box.x; x < box.x + box.w; x++)
            if (q[x - box.x]) {
                x0 = MIN(x0, x);
                y0 = MIN(y0, y);
                x1 = MAX(x1, x);
                y1 = MAX(y1, y);
                area++;
                peak = MAX(peak, (int) sv[x]);
                sum += sv[x];
            }
    }
    return (PcbRawRegion){ x0, y0, x1 - x0 + 1, y1 - y0 + 1, area, peak, sum };
}

/* Cuts @r down to its own pixels that the best shift leaves changed, and, since the shift may
 * move a changed part's border by up to max_shift + radius px, the own pixels within that
 * distance of them: a defect keeps its full extent, a band of edge jitter that led up to it
 * is cut off. FALSE in *@keep when none reaches the high threshold. */
static gboolean
cut(const Test *k, const int *pixels, int npixels, PcbRawRegion *r, gboolean *keep, GError **error)
{
    const PcbBox box = k->box;
    const size_t n = (size_t) box.w * box.h;
    g_autofree guint8 *own = g_new(guint8, n);
    g_autofree guint8 *res = g_new(guint8, n);
    g_autofree guint8 *grown = g_new(guint8, n);
    *keep = TRUE;
    if (!own_pixels(k, pixels, npixels, own, res))
        return TRUE;
    if (!any_strong(k, res)) {
        *keep = FALSE;
        return TRUE;
    }
    pcbcv_view rv = { box.w, box.h, 1, (size_t) box.w, res };
    pcbcv_view gv = { box.w, box.h, 1, (size_t) box.w, grown };
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_morph(&rv, &gv, 1, 2 * (k->t->max_shift + k->t->radius) + 1,
                                  PCBCV_BORDER_DEFAULT, msg, sizeof msg),
                      msg, "shift test", PCB_ERROR_BACKEND, error))
        return FALSE;
    for (size_t i = 0; i < n; i++)
        grown[i] &= own[i];
    *r = region_of(k, grown);
    return TRUE;
}

gboolean
pcb_shift_residual(const PcbShiftTest *t, const pcbcv_view *score, const PcbThresholds *th,
                   const int *pixels, int npixels, PcbRawRegion *r, gboolean *keep, GError **error)
{
    Test k;
    long best, at_zero;
    *keep = TRUE;
    gboolean ok = test_init(&k, t, score, th, r, error) && best_shift(&k, &best, &at_zero, error);
    /* a shift that explains less than half of the strong difference around the region is no
     * explanation: around a part that came or went, some shift always lines up a few edges */
    if (ok && 2 * best <= at_zero)
        ok = cut(&k, pixels, npixels, r, keep, error);
    test_clear(&k);
    return ok;
}
