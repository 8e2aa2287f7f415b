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

/* Registration. The shim runs the OpenCV calls; what to keep, how many and when to stop
 * (keypoint selection, gates, re-measuring) is decided in src/register/. */

typedef enum { PCBCV_DETECT_ORB = 0, PCBCV_DETECT_SIFT = 1 } pcbcv_detector;

/* A detected keypoint as the selection sees it. */
typedef struct {
    float x, y;     /* view px */
    float response; /* the detector's strength */
} pcbcv_keypoint;

/* Chooses the keypoints to describe: given the @n detected ones (detector order) and
 * @by_response (their indices, strongest first; ties in a fixed order), writes the indices to
 * keep, in the order wanted, into @keep (room for @n) and returns how many. Called once per
 * image, from worker threads at the same time: it must be reentrant. */
typedef int (*pcbcv_keypoint_select)(const pcbcv_keypoint *kp, const int *by_response, int n,
                                     int width, int height, int *keep, void *user);

typedef struct {
    pcbcv_detector detector;
    int detect_max;               /* keypoints asked of the detector (its nfeatures) */
    int orb_fast_threshold;       /* ORB: FAST corner threshold, grey levels */
    double sift_contrast;         /* SIFT: contrast threshold */
    pcbcv_keypoint_select select; /* NULL: describe every keypoint */
    void *select_user;
    double ratio; /* Lowe ratio: a match is kept when its distance < ratio * the second best's */
    unsigned seed;
} pcbcv_match_opts;

/* Ratio-tested matches between the described keypoints. */
typedef struct {
    int ref_keypoints, photo_keypoints; /* keypoints described */
    int matches;
    float *photo_xy, *ref_xy; /* 2 * matches each: photo view px -> reference view px; malloc'd,
                                 the caller frees them with free() (NULL when there are none) */
} pcbcv_matches;

/* Features (detect, select, describe; the two images in parallel) and ratio-tested 2-NN
 * brute-force matching, photo to reference. Grey views. No matches (not an error) when
 * either image has no keypoints. */
pcbcv_status pcbcv_match_features(const pcbcv_view *reference, const pcbcv_view *photo,
                                  const pcbcv_match_opts *opts, pcbcv_matches *out, char *msg,
                                  size_t msglen) PCBCV_NOEXCEPT;

/* One image's features (detected, selected, described as pcbcv_match_features does), kept to
 * match many photos against: a prepared reference's. Immutable once made: any number of
 * threads may match against it at once. */
typedef struct pcbcv_features pcbcv_features;

/* The features of grey view @grey with @opts (its detector, counts, selection and seed) into
 * *@out (pcbcv_features_free() it); an image under 3 px gets none. */
pcbcv_status pcbcv_features_detect(const pcbcv_view *grey, const pcbcv_match_opts *opts,
                                   pcbcv_features **out, char *msg, size_t msglen) PCBCV_NOEXCEPT;
void pcbcv_features_free(pcbcv_features *features) PCBCV_NOEXCEPT; /* NULL-safe */

/* pcbcv_match_features with the reference's features made before (with the same @opts): the
 * same matches, the photo's features made here. */
pcbcv_status pcbcv_match_to(const pcbcv_features *reference, const pcbcv_view *photo,
                            const pcbcv_match_opts *opts, pcbcv_matches *out, char *msg,
                            size_t msglen) PCBCV_NOEXCEPT;

/* One window pair to phase-correlate. */
typedef struct {
    int x0, y0;      /* in: window top-left, reference px; the window lies in the reference */
    double sx, sy;   /* in: the photo window is the one landing on (x0 + sx, y0 + sy) */
    int remeasure;   /* in: 1 when this window was measured before: the reference window is
                        then weighted as that measurement left it (see pcbcv_tile_shifts) */
    double dx, dy;   /* out: shift s of that photo window against the reference window */
    double response; /* out: phase-correlation peak response, 0..1 */
    double contrast; /* out: std of the reference window (grey levels); not remeasure */
} pcbcv_tile;

/* For each tile, warps the photo window through @h_ref_to_photo (reference -> photo) and
 * phase-correlates it (Hanning window) with the reference window (@tile px square, >= 16).
 * Grey views. Parallel. cv::phaseCorrelate weights the reference window in place when @tile
 * is DFT-optimal (64, 96 ...), and the registration always re-measured a tile with that
 * weighted window: a @remeasure tile keeps that behaviour. */
pcbcv_status pcbcv_tile_shifts(const pcbcv_view *reference, const pcbcv_view *photo,
                               const double h_ref_to_photo[9], int tile, pcbcv_tile *tiles,
                               int ntiles, char *msg, size_t msglen) PCBCV_NOEXCEPT;

/* How pcbcv_fit_homography fits. */
typedef struct {
    int robust;        /* 0: least squares over all points; 1: USAC MAGSAC++ */
    double thresh_px;  /* MAGSAC++ inlier threshold, dst px */
    int max_iters;     /* MAGSAC++ iterations at most */
    double confidence; /* MAGSAC++ confidence, 0..1 */
} pcbcv_fit_opts;

/* A homography through point pairs (src -> dst), n >= 4, h[8] = 1; @opts NULL: least
 * squares. @mask (optional, n) gets 1 for inliers (every point when not robust). _f: the same
 * through single-precision points. */
pcbcv_status pcbcv_fit_homography(const double *src_xy, const double *dst_xy, int n,
                                  const pcbcv_fit_opts *opts, double h[9], unsigned char *mask,
                                  char *msg, size_t msglen) PCBCV_NOEXCEPT;
pcbcv_status pcbcv_fit_homography_f(const float *src_xy, const float *dst_xy, int n,
                                    const pcbcv_fit_opts *opts, double h[9], unsigned char *mask,
                                    char *msg, size_t msglen) PCBCV_NOEXCEPT;

/* A 32-bit float image view: channels 1 or 3. */
typedef struct {
    int width, height, channels;
    size_t stride; /* bytes per row */
    float *data;
} pcbcv_fview;

/* Resamples @src (bilinear) into @dst (same format): dst(x, y) = src(map_x(x, y), map_y(x, y));
 * 0 where the sample falls outside @src. The maps are 1-channel, of @dst's size. */
pcbcv_status pcbcv_remap(const pcbcv_view *src, const pcbcv_fview *map_x, const pcbcv_fview *map_y,
                         pcbcv_view *dst, char *msg, size_t msglen) PCBCV_NOEXCEPT;

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

#ifdef __cplusplus
}
#endif

#endif
