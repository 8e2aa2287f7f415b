/* Photometric normalisation: per channel, the photo's local mean and contrast are mapped onto
 * the reference's, block by block, where that brings the photo closer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "diff/diff_internal.h"
#include "diff/kernels.h"

#define SAMPLES_PER_BLOCK 8     /* the estimate's reduced pixels per block side */
#define MIN_BLOCK         4     /* smallest block accepted, px */
#define COVERED_MEAN      249   /* a reduced pixel counts when its coverage mean is above this */
#define SMOOTH_SIGMA      4.0   /* moment smoothing, reduced px: half a block */
#define FLAT_LAMBDA       64.0f /* pulls the contrast ratio to 1 where both are flat (levels^2) */
#define MIN_WEIGHT        0.05f /* coverage weight below which a node keeps no correction */
#define MIN_GAIN          0.6f  /* the contrast ratio's range */
#define MAX_GAIN          1.6f
#define GROUP             8   /* rows sharing one interpolated correction row */
#define GROUP_MID         3.5 /* the row of a group where its correction is made (centre) */
#define SAMPLE_ROW        3   /* the row of a group that the improvement test samples */
#define SAMPLE_COVERED    250 /* ... at pixels this covered, */
#define SAMPLE_STEP       2   /* ... every second one */
#define LEVELS            256 /* byte values */
#define MOMENTS           5   /* weight, reference, photo, their squares */
#define ROBUST_RADIUS     16 /* the robust correction's median reaches this many nodes (2 blocks) */
#define ROBUST_STEP       4  /* ... taking every fourth node each way (half a block) */
#define ANCHOR_LO         64.0f /* a correction is compared by what it makes of these levels */
#define ANCHOR_HI         192.0f
#define DARK_LEVEL        16.0f /* levels added before a ratio: dark noise */
#define OUTLIER_FACTOR    4.0   /* a reduced pixel is an outlier this many median residuals off */
#define OUTLIER_MIN       0.25f /* ... and at least this far in log colour, */
#define OUTLIER_AREA      16    /* ... in a group of at least this many nodes (a quarter block) */
#define OUTLIER           1     /* drop_large's mark */

/* The mean of each whole @f x @f cell of @src (8 bits, any channels), rounded: what
 * cv::resize(INTER_AREA) gives for a whole factor, but one pass over the source whatever @f
 * (OpenCV's general area path took 80 ms at f = 68 on 24 MP). Parallel over cell rows. */
typedef struct {
    const pcbcv_view *src;
    pcbcv_view *dst;
    int f;
} MeansJob;

static void
means_rows(void *ctx, int begin, int end)
{
    const MeansJob *j = ctx;
    const int ch = j->src->channels, f = j->f, ow = j->dst->width;
    const size_t n = (size_t) ow * f * ch;
    const guint32 cell = (guint32) f * (guint32) f;
    guint32 *sum = g_new(guint32, n);
    for (int oy = begin; oy < end; oy++) {
        memset(sum, 0, n * sizeof *sum);
        for (int y = oy * f; y < (oy + 1) * f; y++)
            pcb_add_row(pcb_view_row(j->src, y), sum, (int) n);
        guint8 *d = pcb_view_row(j->dst, oy);
        for (int ox = 0; ox < ow; ox++)
            for (int c = 0; c < ch; c++) {
                guint32 acc = 0;
                for (int k = 0; k < f; k++)
                    acc += sum[((size_t) ox * f + k) * ch + c];
                d[ox * ch + c] = (guint8) ((acc + cell / 2) / cell);
            }
    }
    g_free(sum);
}

static gboolean
block_means(const pcbcv_view *src, int f, pcbcv_view *dst, GError **error)
{
    MeansJob j = { src, dst, f };
    PcbJob job;
    return pcb_parallel(dst->height, means_rows, &j, &job, "photometric normalisation", error);
}

/* The median of integer data 0..@bins-1 from its histogram, interpolated within its bin. */
static double
hist_median(const long *hist, int bins)
{
    long n = 0, acc = 0;
    for (int i = 0; i < bins; i++)
        n += hist[i];
    if (n == 0)
        return 0;
    int m = 0;
    for (; m < bins - 1 && 2 * (acc + hist[m]) < n; m++)
        acc += hist[m];
    double frac = hist[m] > 0 ? ((double) n / 2 - acc) / (double) hist[m] : 0.5;
    return MAX(0.0, m - 0.5 + frac);
}

/* The correction: gain and offset per channel at the nodes of the reduced grid (@w x @h). */
typedef struct {
    int f, w, h;        /* reduction factor; node grid */
    int cols, rows;     /* full size */
    float *gain, *offs; /* 3 * w * h */
    int *ix;            /* per full column: the node at its left ... */
    float *wx;          /* ... and the weight of the next */
} Correction;

/* The smoothed, coverage-weighted moments of the reduced images: weight, mean of the
 * reference and the photo, and of their squares. */
typedef struct {
    PcbBuf m, r, p, rr, pp; /* smoothed */
    PcbBuf raw;             /* the unsmoothed one at hand */
} Moments;

/* Smooths @raw (@w x @h, @ch channels) into @out. */
static gboolean
smooth(PcbBuf *raw, PcbBuf *out, int w, int h, int ch, GError **error)
{
    char msg[256] = "";
    pcbcv_fview in = pcb_buf_fview(raw, w, h, ch), sm = pcb_buf_fview(out, w, h, ch);
    return pcb_cv_check(
        pcbcv_gaussian_f(&in, &sm, 0, SMOOTH_SIGMA, PCBCV_BORDER_DEFAULT, msg, sizeof msg), msg,
        "photometric normalisation", PCB_ERROR_BACKEND, error);
}

/* One moment of the reduced images (@what: 0 the weight, 1 the reference, 2 the photo, 3 the
 * reference squared, 4 the photo squared), weighted by coverage, into mo->raw. */
static void
moment(const pcbcv_view *rs, const pcbcv_view *ps, const pcbcv_view *vs, int what, Moments *mo)
{
    const int w = rs->width, h = rs->height, ch = what == 0 ? 1 : 3;
    float *o = pcb_buf_fview(&mo->raw, w, h, ch).data;
    for (int y = 0; y < h; y++) {
        const guint8 *a = pcb_view_row(what % 2 ? rs : ps, y), *v = pcb_view_row(vs, y);
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t) y * w + x;
            const float k = v[x] > COVERED_MEAN ? 1.0f : 0.0f;
            for (int c = 0; c < ch; c++) {
                const float fa = a[3 * x + c];
                o[ch * i + c] = what == 0 ? k : what < 3 ? fa * k : fa * fa * k;
            }
        }
    }
}

static gboolean
moments(const pcbcv_view *rs, const pcbcv_view *ps, const pcbcv_view *vs, Moments *mo,
        GError **error)
{
    PcbBuf *out[] = { &mo->m, &mo->r, &mo->p, &mo->rr, &mo->pp };
    for (int what = 0; what < MOMENTS; what++) {
        moment(rs, ps, vs, what, mo);
        if (!smooth(&mo->raw, out[what], rs->width, rs->height, what == 0 ? 1 : 3, error))
            return FALSE;
    }
    return TRUE;
}

/* Local affine correction: per channel, the photo's Gaussian-weighted local mean and contrast
 * (std) over about one block are matched to the reference's. Contrast ratios, unlike a
 * regression slope, do not shrink when the images are a pixel apart. */
static void
gains(const Moments *mo, Correction *c)
{
    const float *w = mo->m.data, *a = mo->r.data, *b = mo->p.data;
    const float *ab = mo->rr.data, *bb = mo->pp.data;
    for (size_t n = 0; n < (size_t) c->w * c->h; n++)
        for (int k = 0; k < 3; k++) {
            const size_t i = 3 * n + k;
            float slope = 1.0f, off = 0.0f;
            if (w[n] > MIN_WEIGHT) {
                float mr = a[i] / w[n], mp = b[i] / w[n];
                float vr = ab[i] / w[n] - mr * mr, vp = bb[i] / w[n] - mp * mp;
                slope = sqrtf(((vr < 0.0f ? 0.0f : vr) + FLAT_LAMBDA)
                              / ((vp < 0.0f ? 0.0f : vp) + FLAT_LAMBDA));
                float lo = MIN_GAIN < slope ? slope : MIN_GAIN;
                slope = lo < MAX_GAIN ? lo : MAX_GAIN;
                off = mr - slope * mp;
            }
            c->gain[i] = slope;
            c->offs[i] = off;
        }
}

/* The robust correction: per node, the median over ROBUST_RADIUS of what its neighbours'
 * corrections make of two anchor levels (@lo, @hi: 3 * w * h). A change of light varies slowly
 * or along an edge; a change of the board as large as a block (a sticker on a part's top, a
 * part replaced) is taken for light by the local moments, but covers less than half of the
 * nodes around it, so the median takes it out. */
typedef struct {
    const Correction *c;
    const float *weight; /* smoothed coverage per node */
    float *lo, *hi;
} RobustJob;

static void
robust_rows(void *ctx, int begin, int end)
{
    const RobustJob *j = ctx;
    const Correction *c = j->c;
    const int side = 2 * (ROBUST_RADIUS / ROBUST_STEP) + 1;
    float *a = g_new(float, (size_t) side *side), *b = g_new(float, (size_t) side *side);
    for (int y = begin; y < end; y++)
        for (int x = 0; x < c->w; x++)
            for (int k = 0; k < 3; k++) {
                size_t n = 0;
                for (int v = y - ROBUST_RADIUS; v <= y + ROBUST_RADIUS; v += ROBUST_STEP)
                    for (int u = x - ROBUST_RADIUS; u <= x + ROBUST_RADIUS; u += ROBUST_STEP) {
                        if (u < 0 || v < 0 || u >= c->w || v >= c->h)
                            continue;
                        const size_t m = (size_t) v * c->w + u;
                        if (j->weight[m] <= MIN_WEIGHT)
                            continue;
                        a[n] = c->gain[3 * m + k] * ANCHOR_LO + c->offs[3 * m + k];
                        b[n++] = c->gain[3 * m + k] * ANCHOR_HI + c->offs[3 * m + k];
                    }
                const size_t i = 3 * ((size_t) y * c->w + x) + k;
                j->lo[i] = n > 0 ? pcb_median_select(a, n) : ANCHOR_LO;
                j->hi[i] = n > 0 ? pcb_median_select(b, n) : ANCHOR_HI;
            }
    g_free(a);
    g_free(b);
}

/* Sets @vs to 0 over the 8-connected groups of nodes with @e above @limit that are at least
 * OUTLIER_AREA nodes large; how many nodes that is. Smaller changes do not dominate the moments'
 * window (its sigma is half a block); a part or a highlight whose colour a change of light maps
 * in its own way (a red LED under a warm light) is left in. */
static size_t
drop_large(pcbcv_view *vs, const float *e, int w, int h, float limit)
{
    const int n = w * h;
    g_autofree guint8 *m = g_new(guint8, n);
    g_autofree int *list = g_new(int, n);
    for (int i = 0; i < n; i++)
        m[i] = e[i] > limit ? OUTLIER : 0;
    size_t dropped = 0;
    for (int s = 0; s < n; s++) {
        if (m[s] != OUTLIER)
            continue;
        const int size = pcb_grow_component(m, w, h, s, OUTLIER, 0, list);
        for (int i = 0; size >= OUTLIER_AREA && i < size; i++)
            pcb_view_row(vs, list[i] / w)[list[i] % w] = 0;
        dropped += size >= OUTLIER_AREA ? (size_t) size : 0;
    }
    return dropped;
}

/* Leaves out of the estimate (@vs to 0) the reduced pixels that the robust correction cannot
 * bring to the reference: what changed, not the light. */
static gboolean
drop_outliers(const pcbcv_view *rs, const pcbcv_view *ps, pcbcv_view *vs, const Correction *c,
              const float *weight, GError **error)
{
    const size_t nodes = (size_t) c->w * c->h;
    RobustJob j = { c, weight, g_new(float, 3 * nodes), g_new(float, 3 * nodes) };
    PcbJob job;
    gboolean ok = pcb_parallel(c->h, robust_rows, &j, &job, "photometric normalisation", error);
    g_autofree float *e = g_new(float, nodes);
    g_autofree float *sorted = g_new(float, nodes);
    size_t covered = 0;
    for (int y = 0; ok && y < c->h; y++) {
        const guint8 *r = pcb_view_row(rs, y), *p = pcb_view_row(ps, y), *v = pcb_view_row(vs, y);
        for (int x = 0; x < c->w; x++) {
            const size_t n = (size_t) y * c->w + x;
            e[n] = -1;
            if (v[x] <= COVERED_MEAN)
                continue;
            /* in log units against the robust prediction: a change of light scales the
             * channels alike (the neighbours' white balance is in the prediction); a change of
             * the board's colour does not */
            float d[3], mean = 0, worst = 0;
            for (int k = 0; k < 3; k++) {
                const float lo = j.lo[3 * n + k], hi = j.hi[3 * n + k];
                const float g = (hi - lo) / (ANCHOR_HI - ANCHOR_LO);
                const float pred = MAX(0.0f, lo + g * (p[3 * x + k] - ANCHOR_LO));
                d[k] = logf((r[3 * x + k] + DARK_LEVEL) / (pred + DARK_LEVEL));
                mean += d[k] / 3;
            }
            for (int k = 0; k < 3; k++)
                worst = MAX(worst, fabsf(d[k] - mean));
            e[n] = worst;
            sorted[covered++] = worst;
        }
    }
    if (ok && covered > 0) {
        const float limit
            = MAX(OUTLIER_MIN, (float) OUTLIER_FACTOR * pcb_median_select(sorted, covered));
        size_t dropped = drop_large(vs, e, c->w, c->h, limit);
        g_debug(
            "normalisation: %zu of %zu reduced pixels (%.1f%%) off the robust correction's colour "
            "by more than %.2f are left out",
            dropped, covered, 100.0 * dropped / covered, limit);
    }
    g_free(j.lo);
    g_free(j.hi);
    return ok;
}

/* The reduced images (whole factor @f over the whole blocks; the few columns and rows left
 * over at the right and bottom take the last node's correction) and the correction maps. */
static gboolean
estimate(const pcbcv_view *ref, const pcbcv_view *pho, const pcbcv_view *val, int block,
         Correction *c, GError **error)
{
    c->f = MAX(1, MIN(block / SAMPLES_PER_BLOCK, MIN(ref->width, ref->height)));
    c->w = ref->width / c->f;
    c->h = ref->height / c->f;
    c->cols = ref->width;
    c->rows = ref->height;
    const PcbBox whole = { 0, 0, c->w * c->f, c->h * c->f };
    PcbBuf rb = { 0 }, pb = { 0 }, vb = { 0 };
    pcbcv_view rs = pcb_buf_view(&rb, c->w, c->h, 3), ps = pcb_buf_view(&pb, c->w, c->h, 3);
    pcbcv_view vs = pcb_buf_view(&vb, c->w, c->h, 1);
    pcbcv_view rw = pcb_view_crop(ref, whole), pw = pcb_view_crop(pho, whole);
    pcbcv_view vw = pcb_view_crop(val, whole);
    Moments mo;
    memset(&mo, 0, sizeof mo);
    gboolean ok = block_means(&rw, c->f, &rs, error) && block_means(&pw, c->f, &ps, error)
                  && block_means(&vw, c->f, &vs, error) && moments(&rs, &ps, &vs, &mo, error);
    if (ok) {
        c->gain = g_new(float, 3 * (size_t) c->w * c->h);
        c->offs = g_new(float, 3 * (size_t) c->w * c->h);
        gains(&mo, c);
        /* again without what the robust correction cannot explain */
        ok = drop_outliers(&rs, &ps, &vs, c, mo.m.data, error)
             && moments(&rs, &ps, &vs, &mo, error);
        if (ok)
            gains(&mo, c);
    }
    PcbBuf *bufs[] = { &rb, &pb, &vb, &mo.m, &mo.r, &mo.p, &mo.rr, &mo.pp, &mo.raw };
    for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
        pcb_buf_clear(bufs[i]);
    return ok;
}

/* Per full column, the node to its left and the weight of the next one. */
static void
column_weights(Correction *c)
{
    c->ix = g_new(int, c->cols);
    c->wx = g_new(float, c->cols);
    for (int x = 0; x < c->cols; x++) {
        double gx = MIN(MAX((x + 0.5) / c->f - 0.5, 0.0), c->w - 1.0);
        c->ix[x] = c->w < 2 ? 0 : MIN((int) gx, c->w - 2);
        c->wx[x] = c->w < 2 ? 0.0f : (float) (gx - c->ix[x]);
    }
}

/* Scratch rows of one worker: the nodes of a grid row (@gn, @on) and a full row's correction
 * (@gr gain, @orow offset). */
typedef struct {
    float *gn, *on, *gr, *orow;
} Rows;

static void
rows_init(Rows *r, const Correction *c)
{
    r->gn = g_new(float, 3 * (size_t) c->w + 3);
    r->on = g_new(float, 3 * (size_t) c->w + 3);
    r->gr = g_new(float, 3 * (size_t) c->cols);
    r->orow = g_new(float, 3 * (size_t) c->cols);
}

static void
rows_clear(Rows *r)
{
    g_free(r->gn);
    g_free(r->on);
    g_free(r->gr);
    g_free(r->orow);
}

/* The correction rows for a group of GROUP rows, made at the group's middle (the maps vary
 * over a block, > 100 px): bilinear, first down the column of nodes, then along the row. */
static void
correction(const Correction *c, int group, Rows *r)
{
    const int nodes = 3 * c->w;
    const double ym = MIN(group * GROUP + GROUP_MID, c->rows - 1.0);
    double gy = MIN(MAX((ym + 0.5) / c->f - 0.5, 0.0), c->h - 1.0);
    int iy = c->h < 2 ? 0 : MIN((int) gy, c->h - 2);
    float wy = c->h < 2 ? 0.0f : (float) (gy - iy);
    const float *g0 = c->gain + (size_t) iy * nodes, *o0 = c->offs + (size_t) iy * nodes;
    const float *g1 = c->h < 2 ? g0 : g0 + nodes, *o1 = c->h < 2 ? o0 : o0 + nodes;
    for (int i = 0; i < nodes; i++) {
        r->gn[i] = g0[i] + wy * (g1[i] - g0[i]);
        r->on[i] = o0[i] + wy * (o1[i] - o0[i]);
    }
    for (int i = nodes; i < nodes + 3; i++) { /* one node: its own neighbour */
        r->gn[i] = r->gn[i - 3];
        r->on[i] = r->on[i - 3];
    }
    for (int x = 0; x < c->cols; x++) {
        const int i0 = 3 * c->ix[x];
        const float w = c->wx[x];
        for (int k = 0; k < 3; k++) {
            r->gr[3 * x + k] = r->gn[i0 + k] + w * (r->gn[i0 + 3 + k] - r->gn[i0 + k]);
            r->orow[3 * x + k] = r->on[i0 + k] + w * (r->on[i0 + 3 + k] - r->on[i0 + k]);
        }
    }
}

/* The correction models a change of light. Where the photo already agrees with the reference
 * (a scan or a fixture under the same light, a binarised image) the moments it matches differ
 * only because the content does, and applying it would make things worse: it helps only if
 * it lowers the median absolute difference over a sample (the groups' middle rows). */
static gboolean
helps(const Correction *c, const pcbcv_view *ref, const pcbcv_view *pho, const pcbcv_view *val)
{
    Rows r;
    rows_init(&r, c);
    long before[LEVELS] = { 0 }, after[LEVELS] = { 0 };
    for (int group = 0; group * GROUP < c->rows; group++) {
        const int y = MIN(group * GROUP + SAMPLE_ROW, c->rows - 1);
        correction(c, group, &r);
        const guint8 *a = pcb_view_row(ref, y), *b = pcb_view_row(pho, y);
        const guint8 *v = pcb_view_row(val, y);
        for (int x = 0; x < c->cols; x += SAMPLE_STEP)
            if (v[x] >= SAMPLE_COVERED)
                for (int k = 0; k < 3; k++) {
                    const int i = 3 * x + k;
                    const float f = b[i] * r.gr[i] + r.orow[i] + 0.5f;
                    const int q = (int) MIN(MAX(f, 0.0f), (float) (LEVELS - 1));
                    before[abs(b[i] - a[i])]++;
                    after[abs(q - a[i])]++;
                }
    }
    rows_clear(&r);
    return hist_median(after, LEVELS) < hist_median(before, LEVELS);
}

typedef struct {
    const Correction *c;
    pcbcv_view *pho;
} ApplyJob;

static void
apply_rows(void *ctx, int begin, int end)
{
    const ApplyJob *j = ctx;
    Rows r;
    rows_init(&r, j->c);
    int made = -1; /* the row group the correction rows were made for */
    for (int y = begin; y < end; y++) {
        if (y / GROUP != made) {
            made = y / GROUP;
            correction(j->c, made, &r);
        }
        pcb_apply_row(pcb_view_row(j->pho, y), r.gr, r.orow, 3 * j->c->cols);
    }
    rows_clear(&r);
}

gboolean
pcb_normalise_light(const pcbcv_view *reference, pcbcv_view *photo, const pcbcv_view *valid,
                    int block, int *improved, GError **error)
{
    if (reference->channels != 3 || photo->channels != 3 || valid->channels != 1
        || reference->width != photo->width || reference->height != photo->height
        || valid->width != reference->width || valid->height != reference->height
        || block < MIN_BLOCK) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "normalise: bad arguments");
        return FALSE;
    }
    Correction c = { 0 };
    gboolean ok = estimate(reference, photo, valid, block, &c, error);
    if (ok) {
        column_weights(&c);
        gboolean better = helps(&c, reference, photo, valid);
        if (improved != NULL)
            *improved = better;
        ApplyJob j = { &c, photo };
        PcbJob job;
        if (better)
            ok = pcb_parallel(photo->height, apply_rows, &j, &job, "photometric normalisation",
                              error);
    }
    g_free(c.gain);
    g_free(c.offs);
    g_free(c.ix);
    g_free(c.wx);
    return ok;
}
