/* The shift-tolerant colour difference score in noise units, defined once: pcb_score_span is
 * what both the full-image band pass here and the findings' shift test compute. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/imgops.h"
#include "pcbdiff/error.h"
#include "diff/diff_internal.h"
#include "diff/kernels.h"

#define BAND           64  /* rows per band of the fused pass: a band's Lab stays in cache */
#define FLAT_SIGMAS    6.0 /* a plain surface's L range within the reach, in L noise sigmas */
#define W256           256 /* pcb_distance_row's weight 1 */
#define DARK_L         51  /* 8-bit L (L* 20) below which two pixels' chroma counts less */
#define SMOOTH_KSIZE   3   /* the score's smoothing: 3 x 3 ... */
#define SMOOTH_SIGMA   0.8 /* ... Gaussian */
#define VALID_MARGIN   2   /* the valid mask is eroded by the radius and this many px more */
#define DIFFS          511 /* differences -255..255 ... */
#define DIFF_ZERO      255 /* ... the bin of difference 0 */
#define PLANES         4   /* range rows per colour row: ref max, ref min, photo max, photo min */
#define MAD_TO_SIGMA   1.4826 /* the MAD of a normal distribution is this many sigmas */
#define NOISE_EVERY    32     /* noise is sampled on a group of rows every this many ... */
#define NOISE_ROWS     4      /* ... this many rows, */
#define NOISE_STEP     2      /* ... every second column */
#define LIGHT_CELLS    8      /* the light is also judged on LIGHT_CELLS^2 cells of the image: */
#define LIGHT_MIN_N    500    /* those with this many samples and content, weighted by it: ... */
#define CONTENT_SHARE  0.02   /* ... at least this share of the reference's L values ... */
#define CONTENT_SIGMAS 4.0    /* ... this many of its own noise sigmas off their median */
#define LEVELS         256    /* byte values */
static const double noise_floor[3] = { 1.5, 1.0, 1.0 }; /* least sigma per Lab channel */

int
pcb_flat_gate(double noise_l)
{
    return (int) lround(FLAT_SIGMAS * noise_l);
}

int
pcb_weight256(double one_way)
{
    return (int) lround(W256 * MIN(MAX(one_way, 0.0), 1.0));
}

void
pcb_score_weights(const double noise[3], double one_way, PcbScoreWeights *w)
{
    for (int c = 0; c < 3; c++)
        w->inv[c] = (float) (1.0 / noise[c]);
    w->w256 = pcb_weight256(one_way);
}

void
pcb_score_span(const PcbScoreRows *rows, const PcbScoreWeights *w, guint8 *d, float *out, int n)
{
    pcb_distance_row(rows->r, rows->p, rows->rmax, rows->rmin, rows->pmax, rows->pmin, rows->rflat,
                     rows->pflat, w->w256, d, 3 * n);
    /* the chroma noise was measured where most pixels are, far lighter; in the dark a tone
     * curve the light normalisation cannot follow tints a colour by several of its sigmas */
    pcb_dark_chroma_row(rows->r, rows->p, d, DARK_L, n);
    pcb_sigma_row(d, w->inv, out, n);
}

gboolean
pcb_score_smooth(const pcbcv_fview *acc, pcbcv_fview *sm, char *msg, size_t msglen)
{
    return pcbcv_gaussian_f(acc, sm, SMOOTH_KSIZE, SMOOTH_SIGMA, PCBCV_BORDER_REPLICATE, msg,
                            msglen)
           == PCBCV_OK;
}

gboolean
pcb_flat_mask3(const pcbcv_view *lab, int reach, int gate, PcbBuf *scratch, pcbcv_view *out,
               GError **error)
{
    const int w = lab->width, h = lab->height;
    guint8 *mem = pcb_buf_view(scratch, w, 3 * h, 1).data;
    pcbcv_view l = { w, h, 1, (size_t) w, mem }, hi = { w, h, 1, (size_t) w, mem + (size_t) w * h };
    pcbcv_view lo = { w, h, 1, (size_t) w, mem + 2 * (size_t) w * h };
    for (int y = 0; y < h; y++) {
        const guint8 *s = pcb_view_row(lab, y);
        guint8 *d = pcb_view_row(&l, y);
        for (int x = 0; x < w; x++)
            d[x] = s[3 * x];
    }
    char msg[256] = "";
    const int k = 2 * reach + 1;
    if (!pcb_cv_check(pcbcv_morph(&l, &hi, 1, k, PCBCV_BORDER_DEFAULT, msg, sizeof msg), msg,
                      "plain surfaces", PCB_ERROR_BACKEND, error)
        || !pcb_cv_check(pcbcv_morph(&l, &lo, 0, k, PCBCV_BORDER_DEFAULT, msg, sizeof msg), msg,
                         "plain surfaces", PCB_ERROR_BACKEND, error))
        return FALSE;
    for (int y = 0; y < h; y++)
        pcb_flat_row(pcb_view_row(&hi, y), pcb_view_row(&lo, y), gate, pcb_view_row(out, y), w);
    return TRUE;
}

/* ---- noise ---- */

/* The median bin of @hist (@bins bins, @n > 0 values); *@below: the values in the bins below
 * it. */
static int
median_bin(const long *hist, int bins, long n, long *below)
{
    long acc = 0;
    int m = 0;
    for (; m < bins - 1 && 2 * (acc + hist[m]) < n; m++)
        acc += hist[m];
    *below = acc;
    return m;
}

/* Robust sigma (1.4826 * MAD) from a histogram of differences (DIFFS bins, -255..255). */
static double
hist_mad_sigma(const long *hist, long n)
{
    if (n == 0)
        return 0;
    long acc;
    const int med = median_bin(hist, DIFFS, n, &acc);
    long dev[DIFFS + 1] = { 0 };
    for (int i = 0; i < DIFFS; i++)
        dev[abs(i - med)] += hist[i];
    const int mad = median_bin(dev, DIFFS + 1, n, &acc);
    /* MAD of integer data is coarse: interpolate within the bin for a usable small sigma */
    double below = (double) acc;
    double frac = dev[mad] > 0 ? ((double) n / 2 - below) / (double) dev[mad] : 0.5;
    return MAD_TO_SIGMA * MAX(0.0, mad - 0.5 + frac);
}

/* One light cell's samples: the L differences, each image's own (as NoiseJob's) and the
 * reference's L values. */
typedef struct {
    long diff[DIFFS], own[2 * DIFFS], value[LEVELS];
} LightCell;

typedef struct {
    const pcbcv_view *ref, *pho, *v; /* v: the eroded valid mask */
    const PcbBlurMap *blur;
    long hist[3 * DIFFS];
    long own[2 * DIFFS]; /* each image's L differences between horizontal neighbours */
    LightCell cells[LIGHT_CELLS * LIGHT_CELLS]; /* row by row */
    PcbJob job;
} NoiseJob;

static void
cell_add(LightCell *to, const LightCell *from)
{
    for (int i = 0; i < DIFFS; i++)
        to->diff[i] += from->diff[i];
    for (int i = 0; i < 2 * DIFFS; i++)
        to->own[i] += from->own[i];
    for (int i = 0; i < LEVELS; i++)
        to->value[i] += from->value[i];
}

/* Whether any sampled pixel of the rows is covered. */
static gboolean
rows_covered(const pcbcv_view *v, PcbBox r)
{
    for (int y = r.y; y < r.y + r.h; y++) {
        const guint8 *pv = pcb_view_row(v, y);
        for (int x = 0; x < r.w; x += NOISE_STEP)
            if (pv[x] != 0)
                return TRUE;
    }
    return FALSE;
}

/* Adds a group of rows' Lab differences at covered pixels to @h and @own, and their L to
 * @cells (the group's row of light cells). */
static gboolean
noise_group(NoiseJob *j, PcbBox r, PcbBuf bufs[4], long *h, long *own, LightCell *cells)
{
    GError *err = NULL;
    pcbcv_view a, b;
    if (!pcb_matched(j->ref, r, j->blur, 1, &bufs[0], &a, &err)
        || !pcb_matched(j->pho, r, j->blur, -1, &bufs[1], &b, &err))
        return pcb_job_fail(&j->job, err);
    pcbcv_view al = pcb_buf_view(&bufs[2], r.w, r.h, 3), bl = pcb_buf_view(&bufs[3], r.w, r.h, 3);
    pcb_rgb_to_lab(&a, &al);
    pcb_rgb_to_lab(&b, &bl);
    for (int y = 0; y < r.h; y++) {
        const guint8 *p = pcb_view_row(&al, y), *q = pcb_view_row(&bl, y);
        const guint8 *pv = pcb_view_row(j->v, r.y + y);
        for (int x = 0; x + 1 < r.w; x += NOISE_STEP)
            if (pv[x]) {
                LightCell *cell = &cells[(gint64) x * LIGHT_CELLS / r.w];
                for (int c = 0; c < 3; c++)
                    h[c * DIFFS + q[3 * x + c] - p[3 * x + c] + DIFF_ZERO]++;
                cell->diff[q[3 * x] - p[3 * x] + DIFF_ZERO]++;
                cell->value[p[3 * x]]++;
                if (pv[x + 1]) {
                    const int dp = p[3 * x + 3] - p[3 * x] + DIFF_ZERO;
                    const int dq = q[3 * x + 3] - q[3 * x] + DIFF_ZERO;
                    own[dp]++;
                    own[DIFFS + dq]++;
                    cell->own[dp]++;
                    cell->own[DIFFS + dq]++;
                }
            }
    }
    return TRUE;
}

static void
noise_groups(void *ctx, int begin, int end)
{
    NoiseJob *j = ctx;
    const int rows = j->ref->height;
    long *h = g_new0(long, 5 * DIFFS), *own = h + 3 * DIFFS;
    LightCell *cells = g_new(LightCell, LIGHT_CELLS); /* a group's row of them */
    PcbBuf bufs[4] = { { 0 } };                       /* matched and Lab rows of both images */
    for (int g = begin; g < end; g++) {
        const PcbBox r
            = { 0, NOISE_EVERY * g, j->ref->width, MIN(NOISE_ROWS, rows - NOISE_EVERY * g) };
        if (!rows_covered(j->v, r))
            continue;
        memset(cells, 0, LIGHT_CELLS * sizeof *cells);
        if (!noise_group(j, r, bufs, h, own, cells))
            break;
        /* the group's cells: the row of its first row */
        LightCell *to = &j->cells[(gint64) r.y * LIGHT_CELLS / rows * LIGHT_CELLS];
        g_mutex_lock(&j->job.lock);
        for (int i = 0; i < LIGHT_CELLS; i++)
            cell_add(&to[i], &cells[i]);
        g_mutex_unlock(&j->job.lock);
    }
    g_mutex_lock(&j->job.lock);
    for (int i = 0; i < 3 * DIFFS; i++)
        j->hist[i] += h[i];
    for (int i = 0; i < 2 * DIFFS; i++)
        j->own[i] += own[i];
    g_mutex_unlock(&j->job.lock);
    g_free(cells);
    for (int i = 0; i < 4; i++)
        pcb_buf_clear(&bufs[i]);
    g_free(h);
}

static long
hist_count(const long *hist, int bins)
{
    long n = 0;
    for (int i = 0; i < bins; i++)
        n += hist[i];
    return n;
}

static double
hist_sigma(const long *hist)
{
    return hist_mad_sigma(hist, hist_count(hist, DIFFS));
}

/* The L difference's sigma over the images' own noise (@d: the differences, @own: each
 * image's neighbour differences, DIFFS bins each). */
static double
light_ratio(const long *d, const long *own)
{
    /* a neighbour difference holds a pixel's noise twice */
    double o = hypot(hist_sigma(own), hist_sigma(own + DIFFS)) / G_SQRT2;
    return MAX(hist_sigma(d), noise_floor[0]) / MAX(o, noise_floor[0]);
}

/* The share of the byte values in @hist (LEVELS bins) more than @reach from their median. */
static double
share_off_median(const long *hist, double reach)
{
    const long n = hist_count(hist, LEVELS);
    if (n == 0)
        return 0;
    long below, off = 0;
    const int med = median_bin(hist, LEVELS, n, &below);
    for (int i = 0; i < LEVELS; i++)
        off += fabs((double) (i - med)) > reach ? hist[i] : 0;
    return (double) off / n;
}

/* A cell's light ratio and its weight. */
typedef struct {
    double ratio, weight;
} CellLight;

static int
cmp_cell_light(const void *a, const void *b)
{
    const double x = ((const CellLight *) a)->ratio, y = ((const CellLight *) b)->ratio;
    return (x > y) - (x < y);
}

/* The light over the cells with content: the median of their ratios, each weighted by its share
 * of content (0: no cell has any). A board may fill only part of the photo: a plain backdrop or
 * mat around it, lit the same or too dark to show the light, can hold most of the samples and
 * says nothing of the light on the parts. */
static double
cells_light(const NoiseJob *j)
{
    CellLight c[LIGHT_CELLS * LIGHT_CELLS];
    int n = 0;
    double total = 0;
    for (int i = 0; i < LIGHT_CELLS * LIGHT_CELLS; i++) {
        const LightCell *cell = &j->cells[i];
        if (hist_count(cell->diff, DIFFS) < LIGHT_MIN_N)
            continue;
        /* a neighbour difference holds a pixel's noise twice */
        const double own = MAX(hist_sigma(cell->own) / G_SQRT2, noise_floor[0]);
        const double share = share_off_median(cell->value, CONTENT_SIGMAS * own);
        if (share >= CONTENT_SHARE) {
            c[n++] = (CellLight){ light_ratio(cell->diff, cell->own), share };
            total += share;
        }
    }
    if (n == 0)
        return 0;
    qsort(c, (size_t) n, sizeof *c, cmp_cell_light);
    double acc = 0;
    int i = 0;
    for (; i < n - 1 && 2 * (acc + c[i].weight) < total; i++)
        acc += c[i].weight;
    return c[i].ratio;
}

/* Noise: robust sigma per Lab channel from an eighth of the rows (groups of 4 rows every 32:
 * one blur and conversion call per group), every second column. *@light: that L sigma over
 * what the two images' own noise explains (each image's from the differences of neighbouring
 * pixels, most of which lie on plain surfaces): about 1 when the photo differs from the golden
 * only by its noise, several when the light on the parts differs; over the whole image or over
 * its cells with content (cells_light), whichever is larger. */
static gboolean
estimate_noise(const pcbcv_view *ref, const pcbcv_view *pho, const pcbcv_view *v,
               const PcbBlurMap *blur, double noise[3], double *light, GError **error)
{
    NoiseJob *j = g_new0(NoiseJob, 1);
    *j = (NoiseJob){ .ref = ref, .pho = pho, .v = v, .blur = blur };
    const int groups = (ref->height + NOISE_EVERY - 1) / NOISE_EVERY;
    gboolean ok = pcb_parallel(groups, noise_groups, j, &j->job, "noise", error);
    for (int c = 0; ok && c < 3; c++)
        noise[c] = MAX(hist_sigma(&j->hist[c * DIFFS]), noise_floor[c]);
    if (ok)
        *light = MAX(light_ratio(j->hist, j->own), cells_light(j));
    g_free(j);
    return ok;
}

/* ---- the band pass ---- */

typedef struct {
    const pcbcv_view *ref, *pho, *v; /* v: the eroded valid mask */
    const PcbBlurMap *blur;
    pcbcv_view *out;
    int radius;
    gboolean one_way; /* whether the one-way term counts at all */
    int gate;         /* pcb_flat_gate */
    float unit;
    PcbScoreWeights w;
    PcbJob job;
} BandJob;

/* A worker's buffers: Lab and flat masks of both images over a band's colour rows, the row
 * ranges (4 rows per colour row: ref max, ref min, photo max, photo min), the window ranges of
 * one row laid out the same way, distances, zeros, and the score before and after smoothing. */
typedef struct {
    PcbBuf m[2], lab[2], flat[2], scratch, acc, sm;
    guint8 *hb, *win, *d, *zero;
} BandBufs;

static void
band_bufs_init(BandBufs *b, const BandJob *j)
{
    const size_t n3 = 3 * (size_t) j->ref->width;
    const size_t cap = BAND + 2 + 2 * (size_t) (j->radius + PCB_FLAT_REACH);
    memset(b, 0, sizeof *b);
    b->hb = g_new(guint8, PLANES * cap * n3);
    b->win = g_new(guint8, PLANES * n3);
    b->d = g_new(guint8, n3);
    b->zero = g_new0(guint8, n3);
}

static void
band_bufs_clear(BandBufs *b)
{
    PcbBuf *bufs[] = { &b->m[0],    &b->m[1],    &b->lab[0], &b->lab[1], &b->flat[0],
                       &b->flat[1], &b->scratch, &b->acc,    &b->sm };
    for (size_t i = 0; i < G_N_ELEMENTS(bufs); i++)
        pcb_buf_clear(bufs[i]);
    g_free(b->hb);
    g_free(b->win);
    g_free(b->d);
    g_free(b->zero);
}

/* Both images' Lab over colour rows [@c0, @c1), their plain-surface masks when the one-way term
 * counts, and the range of each along each row within +-radius (edges replicated). */
static gboolean
band_colour(BandJob *j, BandBufs *b, int c0, int c1, pcbcv_view lab[2], pcbcv_view flat[2])
{
    const int cols = j->ref->width, n3 = 3 * cols;
    const PcbBox rows = { 0, c0, cols, c1 - c0 };
    GError *err = NULL;
    for (int k = 0; k < 2; k++) {
        pcbcv_view m;
        if (!pcb_matched(k == 0 ? j->ref : j->pho, rows, j->blur, k == 0 ? 1 : -1, &b->m[k], &m,
                         &err))
            return pcb_job_fail(&j->job, err);
        lab[k] = pcb_buf_view(&b->lab[k], cols, c1 - c0, 3);
        pcb_rgb_to_lab(&m, &lab[k]);
        flat[k] = pcb_buf_view(&b->flat[k], cols, c1 - c0, 3);
        if (j->one_way
            && !pcb_flat_mask3(&lab[k], j->radius + PCB_FLAT_REACH, j->gate, &b->scratch, &flat[k],
                               &err))
            return pcb_job_fail(&j->job, err);
    }
    for (int y = 0; y < c1 - c0; y++) {
        guint8 *h = b->hb + PLANES * (size_t) y * n3;
        pcb_row_range(pcb_view_row(&lab[0], y), cols, j->radius, h, h + n3);
        pcb_row_range(pcb_view_row(&lab[1], y), cols, j->radius, h + 2 * n3, h + 3 * n3);
    }
    return TRUE;
}

/* The unsmoothed score of row @y (colour rows from @c0 to @c1) into @acc. */
static void
band_row(const BandJob *j, BandBufs *b, const pcbcv_view lab[2], const pcbcv_view flat[2], int c0,
         int c1, int y, float *acc)
{
    const int cols = j->ref->width, n3 = 3 * cols;
    /* the row ranges down the columns: the full window */
    const int w0 = MAX(c0, y - j->radius), w1 = MIN(c1 - 1, y + j->radius);
    memcpy(b->win, b->hb + PLANES * (size_t) (w0 - c0) * n3, PLANES * (size_t) n3);
    for (int w = w0 + 1; w <= w1; w++)
        pcb_window_rows(b->hb + PLANES * (size_t) (w - c0) * n3, b->win, n3);
    const PcbScoreRows rows = {
        .r = pcb_view_row(&lab[0], y - c0),
        .p = pcb_view_row(&lab[1], y - c0),
        .rmax = b->win,
        .rmin = b->win + n3,
        .pmax = b->win + 2 * n3,
        .pmin = b->win + 3 * n3,
        .rflat = j->one_way ? pcb_view_row(&flat[0], y - c0) : b->zero,
        .pflat = j->one_way ? pcb_view_row(&flat[1], y - c0) : b->zero,
    };
    pcb_score_span(&rows, &j->w, b->d, acc, cols);
}

/* One band of output rows [@y0, @y1): score rows one more each way for the smoothing; colour
 * rows beyond those as far as the plain-surface test looks (beyond the tolerance radius). */
static gboolean
band(BandJob *j, BandBufs *b, int y0, int y1)
{
    const int rows = j->ref->height, cols = j->ref->width, halo = j->radius + PCB_FLAT_REACH;
    const int s0 = MAX(0, y0 - 1), s1 = MIN(rows, y1 + 1);
    const int c0 = MAX(0, s0 - halo), c1 = MIN(rows, s1 + halo);
    pcbcv_view lab[2], flat[2];
    if (!band_colour(j, b, c0, c1, lab, flat))
        return FALSE;
    pcbcv_fview acc = pcb_buf_fview(&b->acc, cols, s1 - s0, 1);
    pcbcv_fview sm = pcb_buf_fview(&b->sm, cols, s1 - s0, 1);
    for (int y = s0; y < s1; y++)
        band_row(j, b, lab, flat, c0, c1, y, pcb_fview_row(&acc, y - s0));
    char msg[256] = "";
    if (!pcb_job_check(&j->job,
                       pcb_score_smooth(&acc, &sm, msg, sizeof msg) ? PCBCV_OK : PCBCV_E_OPENCV,
                       msg, "difference"))
        return FALSE;
    for (int y = y0; y < y1; y++)
        pcb_quantise_row(pcb_fview_row(&sm, y - s0), pcb_view_row(j->v, y), j->unit,
                         pcb_view_row(j->out, y), cols);
    return TRUE;
}

static void
bands(void *ctx, int begin, int end)
{
    BandJob *j = ctx;
    BandBufs b;
    band_bufs_init(&b, j);
    for (int k = begin; k < end; k++)
        if (!band(j, &b, k * BAND, MIN(j->ref->height, k * BAND + BAND)))
            break;
    band_bufs_clear(&b);
}

gboolean
pcb_diff_score(const pcbcv_view *reference, const pcbcv_view *photo, const pcbcv_view *valid,
               const PcbBlurMap *blur, int radius, double one_way, double unit, pcbcv_view *score,
               double noise[3], double *light, GError **error)
{
    const pcbcv_view *r = reference;
    if (r->channels != 3 || photo->channels != 3 || valid->channels != 1 || score->channels != 1
        || photo->width != r->width || photo->height != r->height || valid->width != r->width
        || valid->height != r->height || score->width != r->width || score->height != r->height
        || radius < 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_BACKEND, "diff: bad arguments");
        return FALSE;
    }
    /* the comparison needs whole neighbourhoods: off the image counts as uncovered */
    g_autofree guint8 *vmem = g_new(guint8, (size_t) r->width * r->height);
    pcbcv_view v = { r->width, r->height, 1, (size_t) r->width, vmem };
    char msg[256] = "";
    if (!pcb_cv_check(pcbcv_morph(valid, &v, 0, 2 * (radius + VALID_MARGIN) + 1, PCBCV_BORDER_ZERO,
                                  msg, sizeof msg),
                      msg, "difference", PCB_ERROR_BACKEND, error)
        || !estimate_noise(reference, photo, &v, blur, noise, light, error))
        return FALSE;
    BandJob j = { .ref = reference,
                  .pho = photo,
                  .v = &v,
                  .blur = blur,
                  .out = score,
                  .radius = radius,
                  .one_way = one_way > 0,
                  .gate = pcb_flat_gate(noise[0]),
                  .unit = (float) unit };
    pcb_score_weights(noise, one_way, &j.w);
    return pcb_parallel((r->height + BAND - 1) / BAND, bands, &j, &j.job, "difference", error);
}
