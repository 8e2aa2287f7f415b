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

void pcbcv_free(void *p) PCBCV_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif
