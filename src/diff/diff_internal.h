/* Internal: the differencing stage's pieces, and what the findings stage reuses of them (the
 * blur-matched crops, the Lab conversion and the one definition of the score). */
#ifndef PCB_DIFF_INTERNAL_H
#define PCB_DIFF_INTERNAL_H

#include <glib.h>
#include "pcbdiff/image.h"
#include "cv/pcbcv.h"

G_BEGIN_DECLS

/* ---- views, boxes, buffers (views.c) ---- */

static inline guint8 *
pcb_view_row(const pcbcv_view *v, int y)
{
    return v->data + (size_t) y * v->stride;
}

static inline float *
pcb_fview_row(const pcbcv_fview *v, int y)
{
    return (float *) (void *) ((guint8 *) v->data + (size_t) y * v->stride);
}

/* A rectangle, px; empty when w or h is <= 0. */
typedef struct {
    int x, y, w, h;
} PcbBox;

/* The intersection (all zero when empty), as cv::Rect's operator &. */
PcbBox pcb_box_and(PcbBox a, PcbBox b);
/* @a grown by @g px each way, within @bounds. */
PcbBox pcb_box_grow(PcbBox a, int g, PcbBox bounds);
/* The part of @v in @b (inside @v). */
pcbcv_view pcb_view_crop(const pcbcv_view *v, PcbBox b);

/* A growable owned pixel buffer: views of it stay valid until it grows or is cleared. */
typedef struct {
    void *data;
    size_t size;
} PcbBuf;

pcbcv_view pcb_buf_view(PcbBuf *buf, int width, int height, int channels);
pcbcv_fview pcb_buf_fview(PcbBuf *buf, int width, int height, int channels);
void pcb_buf_clear(PcbBuf *buf);

/* The element @n / 2 of @v (@n > 0) in sorted order, as std::nth_element finds it (@v is
 * reordered). */
float pcb_median_select(float *v, size_t n);
/* The element @nth (< @n) of @v in sorted order, likewise. */
float pcb_nth_select(float *v, size_t n, size_t nth);

/* The first failure of a parallel job's workers. */
typedef struct {
    GMutex lock;
    GError *error;
} PcbJob;

/* Records a failed shim call of a worker (the first one is kept); TRUE when @status is OK. */
gboolean pcb_job_check(PcbJob *job, pcbcv_status status, const char *msg, const char *what);
/* Records a worker's failure @error (taken; the first one is kept); returns FALSE. */
gboolean pcb_job_fail(PcbJob *job, GError *error);
/* Runs @fn over 0..@n-1 in parallel (pcbcv_parallel_for); FALSE with @error set from the
 * shim or from the first failure recorded in @job (initialised and cleared here). */
gboolean pcb_parallel(int n, void (*fn)(void *ctx, int begin, int end), void *ctx, PcbJob *job,
                      const char *what, GError **error);

/* ---- Lab (lab.c) ---- */

/* sRGB to CIELab in OpenCV's 8-bit scaling (L* * 255 / 100, a* + 128, b* + 128); same size. */
void pcb_rgb_to_lab(const pcbcv_view *rgb, pcbcv_view *lab);

/* ---- blur matching (blur_match.c) ---- */

/* Which image to blur, and by how much, to match the other's sharpness, per cell of a grid.
 * @sigma: @cols x @rows, row-major; > 0: the reference is blurred by it, < 0: the photo
 * (g_free). A NULL map or @sigma: no blurring. */
typedef struct {
    int cell, cols, rows; /* cell side, px; grid size */
    float *sigma;
} PcbBlurMap;

/* Where one image lost the other's texture (cover.c), per cell of @cell px: +1 where the photo
 * is plain over what the reference shows textured, under the cell's lightness ratio, -1 the
 * other way round, 0 elsewhere or where less than half the cell is covered. @window: the local
 * background's reach in cells, for the findings (a change that fills more than half of it is
 * its own background). */
typedef struct {
    int cols, rows, cell, window;
    signed char *sign; /* cols x rows; NULL: no cells */
} PcbCoverMap;

/* PcbDiffMap's private part. */
struct PcbDiffPrivate {
    PcbImage *ref_owned, *photo_owned; /* the reduced copies behind ref and photo when the
                                          working size is smaller */
    PcbBlurMap blur;                   /* blur matching (sigma NULL: none) */
    PcbCoverMap cover;                 /* where one image lost the other's texture */
};

typedef struct {
    int cells, measured; /* cells of the grid; cells with edges enough to measure */
    double median;       /* the measured cells' median sigma (signed as above) */
    double min, max;     /* the range of the map's sigmas */
} PcbBlurStats;

/* Per @cell x @cell cell, the Gaussian blur (up to @max_sigma) of one image that best matches
 * the other's sharpness (by the two-way +-@radius difference on the cell's most edged patch);
 * cells without edges take their neighbours'. The images are not changed: the score and the
 * shift test blur as they read. */
gboolean pcb_estimate_blur(const pcbcv_view *reference, const pcbcv_view *photo,
                           const pcbcv_view *valid, int radius, int cell, double max_sigma,
                           PcbBlurMap *map, PcbBlurStats *stats, GError **error);

/* @img's pixels in @r as the score compares them: blurred cell by cell where @bm (may be NULL)
 * says this image is the sharper (@sign: +1 the reference, -1 the photo), made in @buf; else
 * a view of @img. Each cell is filtered as a view into the whole image, so its halo is the
 * image's own pixels (the image's edges replicated). */
gboolean pcb_matched(const pcbcv_view *img, PcbBox r, const PcbBlurMap *bm, int sign, PcbBuf *buf,
                     pcbcv_view *out, GError **error);
/* The same copied into @out (its size, at @x, @y). */
gboolean pcb_matched_crop(const pcbcv_view *img, const PcbBlurMap *bm, int sign, int x, int y,
                          pcbcv_view *out, GError **error);

/* ---- the stages' steps ---- */

/* Marks pixels unusable where either image is clipped (any channel >= @level) within +-@reach
 * px: 0 in @valid (clip.c). With @recheck, the covered pixels so left out near a saturated
 * colour only (no near-white clipped pixel within reach) get bit 7 and their clipped channels
 * (bits 0-2 the reference's, 3-5 the photo's) in *@recheck, a width x height mask made only
 * when there is one (most photos have none; g_free), else NULL. */
gboolean pcb_exclude_clipped(const pcbcv_view *reference, const pcbcv_view *photo,
                             pcbcv_view *valid, int level, int reach, guint8 **recheck,
                             GError **error);
/* Compares again (255 in @valid) the @recheck pixels whose unclipped channels differ much;
 * how many. */
size_t pcb_readmit_clipped(const pcbcv_view *reference, const pcbcv_view *photo, pcbcv_view *valid,
                           const guint8 *recheck);

/* Photometric normalisation (normalise.c): per channel, maps the photo's local mean and
 * contrast onto the reference's over blocks of @block px, where @valid is set. In place on
 * @photo, and only when that lowers the median absolute difference to the reference (over a
 * sample of rows): *@improved (optional) says whether it did and was applied. */
gboolean pcb_normalise_light(const pcbcv_view *reference, pcbcv_view *photo,
                             const pcbcv_view *valid, int block, int *improved, GError **error);

/* Local background (background.c): per cell of @cell px, the @quantile of @score over covered
 * pixels; the median over the cells within @radius cells, smoothed, is subtracted from
 * @score in place. */
gboolean pcb_local_background(pcbcv_view *score, const pcbcv_view *valid, int cell, int radius,
                              double quantile, GError **error);

/* The cover map of @photo (before the light normalisation) against @reference where @valid
 * is set. */
gboolean pcb_cover_map(const pcbcv_view *reference, const pcbcv_view *photo,
                       const pcbcv_view *valid, int cell, int window, PcbCoverMap *out,
                       GError **error);
void pcb_cover_map_clear(PcbCoverMap *map);

/* The shift-tolerant colour difference in CIELab (score.c): per channel, the distance from a
 * pixel to the range of the other image within @radius px, taken both ways and the smaller
 * kept; each channel divided by its robust noise sigma; combined as an RMS. @one_way (0..1)
 * of the larger distance's excess is added where the other image is plain. Smoothed; written
 * as sigmas * @unit into the 1-channel @score (0 where @valid is 0). @noise gets the three
 * sigmas (Lab units), @light the L sigma over what the images' own noise explains. */
gboolean pcb_diff_score(const pcbcv_view *reference, const pcbcv_view *photo,
                        const pcbcv_view *valid, const PcbBlurMap *blur, int radius, double one_way,
                        double unit, pcbcv_view *score, double noise[3], double *light,
                        GError **error);

/* ---- the score, defined once (score.c): the band pass and the shift test both use it ---- */

/* How far around a pixel an image must be plain for a one-way difference there to count
 * (px beyond the tolerance radius). */
#define PCB_FLAT_REACH 2

/* The plain-surface gate in L levels, from the L noise sigma. */
int pcb_flat_gate(double noise_l);
/* A one-way weight 0..1 as the 8-bit fraction pcb_distance_row takes. */
int pcb_weight256(double one_way);

/* 255 in each of a pixel's three bytes where the L channel of the Lab image @lab varies by at
 * most @gate within +-@reach px (off the image counts as nothing), else 0; @out is 3 channels,
 * the size of @lab. */
gboolean pcb_flat_mask3(const pcbcv_view *lab, int reach, int gate, PcbBuf *scratch,
                        pcbcv_view *out, GError **error);

/* The rows one score row is made of: both images' Lab, their ranges within the tolerance
 * window, and their plain-surface masks; all interleaved 3 channels. */
typedef struct {
    const guint8 *r, *p;
    const guint8 *rmax, *rmin, *pmax, *pmin;
    const guint8 *rflat, *pflat;
} PcbScoreRows;

typedef struct {
    float inv[3]; /* 1 / noise sigma per Lab channel */
    int w256;     /* the one-way weight (pcb_weight256) */
} PcbScoreWeights;

void pcb_score_weights(const double noise[3], double one_way, PcbScoreWeights *w);

/* The unsmoothed score of @n pixels in sigmas into @out; @d: 3 * @n bytes of scratch. */
void pcb_score_span(const PcbScoreRows *rows, const PcbScoreWeights *w, guint8 *d, float *out,
                    int n);

/* The score's smoothing of the unsmoothed @acc into @sm (same size). */
gboolean pcb_score_smooth(const pcbcv_fview *acc, pcbcv_fview *sm, char *msg, size_t msglen);

G_END_DECLS

#endif
