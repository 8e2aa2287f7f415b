/* pcbcv: the thin extern "C" shim over OpenCV 4.6. The ONLY place C++ lives.
 *
 * Rules (see ../shared/STYLE.md §3.3): pixels are owned by C and lent as views; no
 * exception crosses this boundary (every entry point catches everything and returns a
 * status with the message copied into the caller's buffer); no global error state; policy
 * (thresholds, gates, fallbacks) lives in C. This header is plain C. */
#ifndef PCBCV_H
#define PCBCV_H

#include <stddef.h>

#ifdef __cplusplus
#define PCBCV_NOEXCEPT noexcept
extern "C" {
#else
#define PCBCV_NOEXCEPT
#endif

typedef enum {
    PCBCV_OK = 0,
    PCBCV_E_ARG,     /* bad arguments (sizes, channels, output reallocation) */
    PCBCV_E_NOMATCH, /* not enough features or matches */
    PCBCV_E_OPENCV,  /* cv::Exception */
    PCBCV_E_NOMEM,
    PCBCV_E_UNKNOWN,
} pcbcv_status;

/* An 8-bit image view: channels 1 or 3 (RGB order). */
typedef struct {
    int width, height, channels;
    size_t stride;
    unsigned char *data;
} pcbcv_view;

void pcbcv_set_threads(int threads) PCBCV_NOEXCEPT;
int pcbcv_get_threads(void) PCBCV_NOEXCEPT;

/* Resizes @src into the caller-allocated @dst (same channels) by area averaging (shrinking)
 * or bilinear (enlarging). */
pcbcv_status pcbcv_resize(const pcbcv_view *src, pcbcv_view *dst, char *msg,
                          size_t msglen) PCBCV_NOEXCEPT;

/* RGB -> grey (BT.601) into a caller-allocated 1-channel view of the same size. */
pcbcv_status pcbcv_gray(const pcbcv_view *src, pcbcv_view *dst, char *msg,
                        size_t msglen) PCBCV_NOEXCEPT;

typedef enum { PCBCV_DETECT_ORB = 0, PCBCV_DETECT_SIFT = 1 } pcbcv_detector;

typedef struct {
    pcbcv_detector detector;
    int max_features; /* kept per image, spread over a grid */
    int grid;         /* grid cells per side for spreading keypoints */
    double ratio;     /* Lowe ratio */
    double ransac_px; /* MAGSAC++ threshold, in reference (view) pixels */
    unsigned seed;
} pcbcv_match_opts;

typedef struct {
    double h[9]; /* photo view -> reference view */
    int ref_keypoints, photo_keypoints;
    int matches; /* ratio-tested */
    int inliers;
    double rms_px; /* inlier RMS, reference view px */
    double spread; /* fraction of a 4x4 grid of the reference covered by inliers */
} pcbcv_homography;

/* Features, ratio-tested matching, USAC MAGSAC++ homography. Grey views. */
pcbcv_status pcbcv_match_homography(const pcbcv_view *reference, const pcbcv_view *photo,
                                    const pcbcv_match_opts *opts, pcbcv_homography *out, char *msg,
                                    size_t msglen) PCBCV_NOEXCEPT;

typedef struct {
    double cx, cy;   /* in: tile centre, reference px */
    double dx, dy;   /* out: shift of the warped photo against the reference (reference px) */
    double response; /* out: phase-correlation peak response, 0..1 */
    double contrast; /* out: std of the reference tile (grey levels) */
    int ok;          /* out: 1 if the tile lies inside the photo and was measured */
} pcbcv_tile;

/* For each tile, warps the photo window through @h_ref_to_photo (reference -> photo) and
 * phase-correlates it with the reference window (@tile px square). Grey views. Parallel. */
pcbcv_status pcbcv_tile_shifts(const pcbcv_view *reference, const pcbcv_view *photo,
                               const double h_ref_to_photo[9], int tile, double reshift_px,
                               pcbcv_tile *tiles, int ntiles, char *msg,
                               size_t msglen) PCBCV_NOEXCEPT;

/* A least-squares or robust homography through point pairs (src -> dst), n >= 4.
 * @robust: 0 = least squares on all, 1 = MAGSAC++ with @thresh px. @mask (optional, n) gets
 * 1 for inliers. */
pcbcv_status pcbcv_fit_homography(const double *src_xy, const double *dst_xy, int n, int robust,
                                  double thresh, double h[9], unsigned char *mask, char *msg,
                                  size_t msglen) PCBCV_NOEXCEPT;

/* Single-resampling warp: for every output pixel q, the photo is sampled at
 * h_ref_to_photo * (q + field(q)), field bilinear over a grid (NULL for none). Bilinear.
 * @valid (optional, 1 channel) gets 255 where the sample lies inside the photo. Parallel. */
typedef struct {
    int cols, rows;
    double step_x, step_y;
    const float *dx, *dy;
} pcbcv_field;

pcbcv_status pcbcv_warp(const pcbcv_view *photo, const double h_ref_to_photo[9],
                        const pcbcv_field *field, pcbcv_view *out, pcbcv_view *valid, char *msg,
                        size_t msglen) PCBCV_NOEXCEPT;

/* A 32-bit float image view: channels 1 or 3. */
typedef struct {
    int width, height, channels;
    size_t stride; /* bytes per row */
    float *data;
} pcbcv_fview;

/* How filters read beyond an image: OpenCV's default (reflect-101 for smoothing, a neutral
 * value for dilate / erode), the edge replicated, or zero. */
typedef enum {
    PCBCV_BORDER_DEFAULT = 0,
    PCBCV_BORDER_REPLICATE,
    PCBCV_BORDER_ZERO,
} pcbcv_border;

/* Runs @fn(@ctx, begin, end) over ranges that cover 0..@n-1 on OpenCV's thread pool (the
 * count set with pcbcv_set_threads). @fn must not throw or longjmp; it reports its own
 * errors through @ctx. */
pcbcv_status pcbcv_parallel_for(int n, void (*fn)(void *ctx, int begin, int end), void *ctx,
                                char *msg, size_t msglen) PCBCV_NOEXCEPT;

/* Gaussian blur of the window of @src at @x, @y (the size of @dst, same format) into @dst.
 * Pixels around the window are read from @src; @border applies only beyond @src's edges.
 * @ksize 0: from @sigma (OpenCV's rule). */
pcbcv_status pcbcv_gaussian(const pcbcv_view *src, int x, int y, pcbcv_view *dst, int ksize,
                            double sigma, pcbcv_border border, char *msg,
                            size_t msglen) PCBCV_NOEXCEPT;

/* The same on float images of one size; @dst may be @src. */
pcbcv_status pcbcv_gaussian_f(const pcbcv_fview *src, pcbcv_fview *dst, int ksize, double sigma,
                              pcbcv_border border, char *msg, size_t msglen) PCBCV_NOEXCEPT;

/* Dilation (@dilate 1: the max) or erosion (0: the min) by a @ksize x @ksize square, per
 * channel, into @dst (same size and format, not @src). */
pcbcv_status pcbcv_morph(const pcbcv_view *src, pcbcv_view *dst, int dilate, int ksize,
                         pcbcv_border border, char *msg, size_t msglen) PCBCV_NOEXCEPT;

/* sRGB to CIELab in OpenCV's 8-bit scaling (L* * 255 / 100, a* + 128, b* + 128), the space
 * the difference is measured in. @lab is 3 channels, the size of @rgb. */
pcbcv_status pcbcv_rgb_to_lab(const pcbcv_view *rgb, pcbcv_view *lab, char *msg,
                              size_t msglen) PCBCV_NOEXCEPT;

/* Photometric normalisation: per channel, maps the photo's local mean and contrast onto the
 * reference's over blocks of @block px, where @valid is set. In place on @photo, and only
 * when that lowers the median absolute difference to the reference (over a sample of rows):
 * *@improved (optional) says whether it did and was applied. */
pcbcv_status pcbcv_normalise_light(const pcbcv_view *reference, pcbcv_view *photo,
                                   const pcbcv_view *valid, int block, int *improved, char *msg,
                                   size_t msglen) PCBCV_NOEXCEPT;

/* Local background: per cell of @cell px, the @quantile of @score over covered pixels; the
 * median over the cells within @radius cells (a change covers few of them), smoothed, is
 * subtracted from @score in place: a finding must stand out of the evidence around it. */
pcbcv_status pcbcv_local_background(pcbcv_view *score, const pcbcv_view *valid, int cell,
                                    int radius, double quantile, char *msg,
                                    size_t msglen) PCBCV_NOEXCEPT;

typedef struct {
    int cells, measured; /* cells of the grid; cells with edges enough to measure */
    double median;       /* the measured cells' median sigma (signed as below) */
    double min, max;     /* the range of the map's sigmas */
} pcbcv_blur_stats;

/* Which image to blur, and by how much, to match the other's sharpness, per cell of a grid.
 * @sigma: @cols x @rows, row-major; > 0: the reference is blurred by it, < 0: the photo; free
 * with pcbcv_free. A NULL map or @sigma: no blurring. */
typedef struct {
    int cell, cols, rows; /* cell side, px; grid size */
    float *sigma;
} pcbcv_blur_map;

/* Blur matching: per @cell x @cell cell, the Gaussian blur (up to @max_sigma) of one image
 * that best matches the other's sharpness (by the two-way +-@radius difference on the cell's
 * most edged patch); cells without edges take their neighbours'. The images are not changed:
 * the score and the shift test blur as they read. */
pcbcv_status pcbcv_estimate_blur(const pcbcv_view *reference, const pcbcv_view *photo,
                                 const pcbcv_view *valid, int radius, int cell, double max_sigma,
                                 pcbcv_blur_map *map, pcbcv_blur_stats *stats, char *msg,
                                 size_t msglen) PCBCV_NOEXCEPT;

/* The crop of @image at @x, @y (the size of @out, same format) as the score compares it: blurred
 * where @blur (may be NULL) blurs this image (@sign: +1 the reference, -1 the photo). */
pcbcv_status pcbcv_matched_crop(const pcbcv_view *image, const pcbcv_blur_map *blur, int sign,
                                int x, int y, pcbcv_view *out, char *msg,
                                size_t msglen) PCBCV_NOEXCEPT;

/* Shift-tolerant colour difference in CIELab: per channel, the distance from a pixel to the
 * range of the other image within @radius px, taken both ways and the smaller kept; each
 * channel divided by its robust noise sigma; combined as an RMS. @one_way (0..1) of the
 * larger distance's excess is added: a stroke narrower than the window that exists in one
 * image only (a marking, a scratch, an open) scores 0 both ways. Smoothed; written as sigmas *
 * @unit into the 1-channel @score (0 where @valid is 0). @noise gets the three sigmas (Lab units).
 */
pcbcv_status pcbcv_diff_score(const pcbcv_view *reference, const pcbcv_view *photo,
                              const pcbcv_view *valid, const pcbcv_blur_map *blur, int radius,
                              double one_way, double unit, pcbcv_view *score, double noise[3],
                              char *msg, size_t msglen) PCBCV_NOEXCEPT;

/* Marks pixels unusable where either image is clipped (any channel >= @level) within +-@reach
 * px: 0 in @valid. Glare and over-exposure hide what is there, and the camera's blur (and blur
 * matching) spreads what clipping lost over the pixels around it. */
pcbcv_status pcbcv_exclude_clipped(const pcbcv_view *reference, const pcbcv_view *photo,
                                   pcbcv_view *valid, int level, int reach, char *msg,
                                   size_t msglen) PCBCV_NOEXCEPT;

typedef struct {
    int x, y, w, h; /* bounding box, view px */
    int area;       /* pixels above the low threshold */
    int peak;       /* highest score value inside */
    double sum;     /* sum of score values inside */
} pcbcv_region;

/* The shift test of pcbcv_regions: the inputs and settings of the score (pcbcv_diff_score),
 * and how far the photo may be moved. */
typedef struct {
    const pcbcv_view *reference, *photo, *valid; /* RGB, RGB (normalised), coverage mask */
    const pcbcv_blur_map *blur;                  /* the score's blur matching, or NULL */
    double noise[3];                             /* the score's Lab sigmas */
    double unit;                                 /* score values per sigma */
    int radius;                                  /* the score's tolerance radius */
    double one_way;                              /* the score's one-way weight */
    int max_shift;                               /* largest shift tried, px each way */
    int ring;                                    /* least context around a box, px */
} pcbcv_shift_test;

/* Hysteresis: connected regions (8-connected) of @score >= the low threshold that reach the
 * high threshold somewhere. The thresholds are per pixel from @low_map / @high_map when given,
 * else @low / @high everywhere. Returns a malloc(3)ed array in *regions (free with
 * pcbcv_free), count in *n.
 *
 * With @shift, each region is tested against a local shift of the photo (up to max_shift px
 * each way, whole pixels): the score is recomputed over the region's box and a ring around
 * it (ring px, or half the box's longer side) for every shift, and the shift that leaves the
 * fewest strong (>= high) pixels in that window is taken if it removes at least half of them.
 * The region is then cut down to its own pixels that stay >= low under that shift, and those
 * within max_shift + radius px of them (the shift may move a real change's border that far);
 * it is dropped when none of them reaches the high threshold. An edge that moved by a few
 * pixels (registration residual, binarisation or etching jitter) is explained by a shift; a
 * part or a defect is not, since the shift has to fit the edges around it too. */
pcbcv_status pcbcv_regions(const pcbcv_view *score, const pcbcv_view *low_map,
                           const pcbcv_view *high_map, int low, int high,
                           const pcbcv_shift_test *shift, pcbcv_region **regions, int *n, char *msg,
                           size_t msglen) PCBCV_NOEXCEPT;

void pcbcv_free(void *p) PCBCV_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif
