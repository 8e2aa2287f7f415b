/* The OpenCV shim on bad input: every entry point answers a status (and a message), never an
 * exception or a crash: NULL views, data, options and outputs; zero or negative sizes; wrong
 * channel counts; strides shorter than a row; mismatched sizes; 1 x 1 and 1 x N images;
 * degenerate, NaN and infinite points; fewer than 4 points. A control per function checks
 * that good input still gives the right answer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "cv/pcbcv.h"

#define MSGLEN 256

/* Under valgrind (scripts/valgrind.sh sets PCBDIFF_VALGRIND) the cases that feed NaN or
 * infinite coordinates to OpenCV are skipped: its SIMD paths read padding there. */
static gboolean
under_valgrind(void)
{
    return g_getenv("PCBDIFF_VALGRIND") != NULL;
}

/* A deterministic textured image: w x h x ch bytes, freed with g_free. */
static guint8 *
texture(int w, int h, int ch)
{
    guint8 *buf = g_malloc((size_t) MAX(1, w * h * ch));
    guint32 s = 12345;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            int blocky = ((x / 6) ^ (y / 5)) & 1 ? 180 : 60; /* edges for the features */
            for (int c = 0; c < ch; c++)
                buf[(y * w + x) * ch + c] = (guint8) (blocky + (int) ((s >> 24) & 31) + 10 * c);
        }
    return buf;
}

static guint8 *
flat(int w, int h, int ch, guint8 value)
{
    guint8 *buf = g_malloc((size_t) MAX(1, w * h * ch));
    memset(buf, value, (size_t) MAX(1, w * h * ch));
    return buf;
}

static float *
fflat(int w, int h, int ch, float value)
{
    float *buf = g_new(float, (size_t) MAX(1, w * h * ch));
    for (int i = 0; i < MAX(1, w * h * ch); i++)
        buf[i] = value;
    return buf;
}

static pcbcv_view
view(guint8 *buf, int w, int h, int ch)
{
    pcbcv_view v = { w, h, ch, (size_t) MAX(0, w * ch), buf };
    return v;
}

static pcbcv_fview
fview(float *buf, int w, int h, int ch)
{
    pcbcv_fview v = { w, h, ch, (size_t) MAX(0, w * ch) * sizeof(float), buf };
    return v;
}

/* The ways a view goes wrong; NULL pointer first. */
#define N_BAD 10
static const char *const BAD_WHAT[N_BAD]
    = { "NULL view", "NULL data",  "width 0",    "height 0",   "width -1",
        "height -7", "0 channels", "2 channels", "4 channels", "stride shorter than a row" };

/* Variant @i of @v, with @elem bytes per sample. */
#define BAD_VARIANT(v, i, elem)                                                 \
    do {                                                                        \
        switch (i) {                                                            \
        case 1:                                                                 \
            (v).data = NULL;                                                    \
            break;                                                              \
        case 2:                                                                 \
            (v).width = 0;                                                      \
            break;                                                              \
        case 3:                                                                 \
            (v).height = 0;                                                     \
            break;                                                              \
        case 4:                                                                 \
            (v).width = -1;                                                     \
            break;                                                              \
        case 5:                                                                 \
            (v).height = -7;                                                    \
            break;                                                              \
        case 6:                                                                 \
            (v).channels = 0;                                                   \
            break;                                                              \
        case 7:                                                                 \
            (v).channels = 2;                                                   \
            break;                                                              \
        case 8:                                                                 \
            (v).channels = 4;                                                   \
            break;                                                              \
        case 9:                                                                 \
            (v).stride = (size_t) ((v).width * (v).channels) * (elem) - (elem); \
            break;                                                              \
        default:                                                                \
            break;                                                              \
        }                                                                       \
    } while (0)

/* A refused call: a status other than OK, and a message. @want: the exact status, or
 * PCBCV_OK for "any failure". */
static void
refused(pcbcv_status got, pcbcv_status want, const char *msg, const char *fn, const char *what)
{
    if (got == PCBCV_OK || (want != PCBCV_OK && got != want))
        g_test_fail_printf("%s(%s): status %d, expected %s %d", fn, what, got,
                           want == PCBCV_OK ? "a failure, not" : "", want);
    else if (msg[0] == '\0')
        g_test_fail_printf("%s(%s): status %d without a message", fn, what, got);
}

static void
accepted(pcbcv_status got, const char *msg, const char *fn, const char *what)
{
    if (got != PCBCV_OK)
        g_test_fail_printf("%s(%s): status %d: %s", fn, what, got, msg);
}

/* Up to four view arguments of one call: 8-bit or float views. */
typedef struct {
    pcbcv_view *v[4];
    pcbcv_fview *f[4];
} Args;

typedef pcbcv_status (*ViewCall)(const Args *a, char *msg);

/* Calls @call once per bad variant of each view argument (the others good): PCBCV_E_ARG
 * each time. @names: the arguments; @is_float: which are float views. */
static void
each_bad_view(const char *fn, const char *const names[], const Args *good,
              const gboolean is_float[], int nargs, ViewCall call)
{
    for (int arg = 0; arg < nargs; arg++)
        for (int i = 0; i < N_BAD; i++) {
            Args a = *good;
            pcbcv_view v = { 0 };
            pcbcv_fview f = { 0 };
            if (is_float[arg]) {
                f = *good->f[arg];
                BAD_VARIANT(f, i, sizeof(float));
                a.f[arg] = i == 0 ? NULL : &f;
            }
            else {
                v = *good->v[arg];
                BAD_VARIANT(v, i, 1);
                a.v[arg] = i == 0 ? NULL : &v;
            }
            char msg[MSGLEN] = "";
            g_autofree char *what = g_strdup_printf("%s: %s", names[arg], BAD_WHAT[i]);
            refused(call(&a, msg), PCBCV_E_ARG, msg, fn, what);
        }
}

static const gboolean BYTES[4] = { FALSE, FALSE, FALSE, FALSE };

/* ------------------------------------------------------------------------------- resize */

static pcbcv_status
call_resize(const Args *a, char *msg)
{
    return pcbcv_resize(a->v[0], a->v[1], msg, MSGLEN);
}

static void
test_resize_bad_views(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(8, 6, 3, 0);
    pcbcv_view src = view(a, 16, 12, 3), dst = view(b, 8, 6, 3);
    static const char *const names[] = { "src", "dst" };
    Args good = { .v = { &src, &dst } };
    each_bad_view("pcbcv_resize", names, &good, BYTES, 2, call_resize);
}

static void
test_resize_channel_mismatch(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(8, 6, 1, 0);
    pcbcv_view src = view(a, 16, 12, 3), dst = view(b, 8, 6, 1);
    char msg[MSGLEN] = "";
    refused(pcbcv_resize(&src, &dst, msg, sizeof msg), PCBCV_E_ARG, msg, "pcbcv_resize",
            "3 -> 1 channels");
    /* no message buffer: still a status */
    g_assert_cmpint(pcbcv_resize(&src, &dst, NULL, 0), ==, PCBCV_E_ARG);
}

/* 1 x 1 and 1 x N images, both ways. */
static void
test_resize_thin(void)
{
    guint8 one[3] = { 10, 20, 30 };
    g_autofree guint8 *big = flat(5, 4, 3, 0), *a = texture(9, 7, 3), *col = texture(1, 200, 1);
    g_autofree guint8 *row = texture(200, 1, 1), *c50 = flat(1, 50, 1, 0), *r50 = flat(50, 1, 1, 0);
    guint8 small[3] = { 0 };
    pcbcv_view p1 = view(one, 1, 1, 3), p5 = view(big, 5, 4, 3);
    pcbcv_view t = view(a, 9, 7, 3), p0 = view(small, 1, 1, 3);
    pcbcv_view vc = view(col, 1, 200, 1), vr = view(row, 200, 1, 1);
    pcbcv_view vc50 = view(c50, 1, 50, 1), vr50 = view(r50, 50, 1, 1);
    char msg[MSGLEN] = "";
    accepted(pcbcv_resize(&p1, &p5, msg, sizeof msg), msg, "pcbcv_resize", "1x1 -> 5x4");
    for (int i = 0; i < 5 * 4 * 3; i++)
        g_assert_cmpint(big[i], ==, one[i % 3]);
    accepted(pcbcv_resize(&t, &p0, msg, sizeof msg), msg, "pcbcv_resize", "9x7 -> 1x1");
    accepted(pcbcv_resize(&vc, &vc50, msg, sizeof msg), msg, "pcbcv_resize", "1x200 -> 1x50");
    accepted(pcbcv_resize(&vr, &vr50, msg, sizeof msg), msg, "pcbcv_resize", "200x1 -> 50x1");
    accepted(pcbcv_resize(&vr50, &vr, msg, sizeof msg), msg, "pcbcv_resize", "50x1 -> 200x1");
    accepted(pcbcv_resize(&vc, &vr, msg, sizeof msg), msg, "pcbcv_resize", "1x200 -> 200x1");
}

/* --------------------------------------------------------------------------------- gray */

static pcbcv_status
call_gray(const Args *a, char *msg)
{
    return pcbcv_gray(a->v[0], a->v[1], msg, MSGLEN);
}

static void
test_gray_bad_views(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(16, 12, 1, 0);
    pcbcv_view src = view(a, 16, 12, 3), dst = view(b, 16, 12, 1);
    static const char *const names[] = { "src", "dst" };
    Args good = { .v = { &src, &dst } };
    each_bad_view("pcbcv_gray", names, &good, BYTES, 2, call_gray);
}

static void
test_gray_mismatch(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(16, 12, 3, 0), *c = flat(15, 12, 1, 0);
    pcbcv_view src = view(a, 16, 12, 3), rgb = view(b, 16, 12, 3), narrow = view(c, 15, 12, 1);
    char msg[MSGLEN] = "";
    refused(pcbcv_gray(&src, &rgb, msg, sizeof msg), PCBCV_E_ARG, msg, "pcbcv_gray",
            "3-channel output");
    msg[0] = '\0';
    refused(pcbcv_gray(&src, &narrow, msg, sizeof msg), PCBCV_E_ARG, msg, "pcbcv_gray",
            "output 15x12 for 16x12");
}

/* BT.601 in OpenCV 4.6's fixed point (15 bits), byte for byte: every (r, g, b) on a coarse
 * lattice, a 1 x 1 image, a 1 x N image and a grey input (copied). (pcb_image_to_gray's 14-bit
 * coefficients, OpenCV 3's, differ from these by one level on a few pixels, e.g. 25 75 0.) */
static guint8
bt601(const guint8 *s)
{
    return (guint8) ((s[0] * 9798 + s[1] * 19235 + s[2] * 3735 + 16384) >> 15);
}

static void
test_gray_exact(void)
{
    const int n = 52 * 52 * 52; /* 0, 5, ..., 255 in each channel */
    g_autofree guint8 *rgb = g_malloc((size_t) n * 3), *out = g_malloc((size_t) n);
    for (int i = 0; i < n; i++) {
        rgb[3 * i] = (guint8) (5 * (i % 52));
        rgb[3 * i + 1] = (guint8) (5 * (i / 52 % 52));
        rgb[3 * i + 2] = (guint8) (5 * (i / 2704));
    }
    pcbcv_view src = view(rgb, 52 * 52, 52, 3), dst = view(out, 52 * 52, 52, 1);
    char msg[MSGLEN] = "";
    accepted(pcbcv_gray(&src, &dst, msg, sizeof msg), msg, "pcbcv_gray", "the lattice");
    for (int i = 0; i < n; i++)
        if (out[i] != bt601(rgb + 3 * i)) {
            g_test_fail_printf("pcbcv_gray(%d %d %d) = %d, want %d", rgb[3 * i], rgb[3 * i + 1],
                               rgb[3 * i + 2], out[i], bt601(rgb + 3 * i));
            break;
        }
    src = view(rgb, 1, 1, 3);
    dst = view(out, 1, 1, 1);
    accepted(pcbcv_gray(&src, &dst, msg, sizeof msg), msg, "pcbcv_gray", "1x1");
    g_assert_cmpint(out[0], ==, bt601(rgb));
    src = view(rgb, 1, 300, 3);
    dst = view(out, 1, 300, 1);
    accepted(pcbcv_gray(&src, &dst, msg, sizeof msg), msg, "pcbcv_gray", "1x300");
    for (int i = 0; i < 300; i++)
        g_assert_cmpint(out[i], ==, bt601(rgb + 3 * i));
    g_autofree guint8 *g = texture(7, 5, 1), *g2 = flat(7, 5, 1, 0);
    src = view(g, 7, 5, 1);
    dst = view(g2, 7, 5, 1);
    accepted(pcbcv_gray(&src, &dst, msg, sizeof msg), msg, "pcbcv_gray", "grey input");
    g_assert_cmpmem(g, 35, g2, 35);
}

/* -------------------------------------------------------------------------------- match */

static pcbcv_match_opts
match_opts(pcbcv_detector detector)
{
    pcbcv_match_opts o = { detector, 500, 4, 0.04, NULL, NULL, 0.8, 1 };
    return o;
}

static void
matches_clear(pcbcv_matches *m)
{
    free(m->photo_xy);
    free(m->ref_xy);
    memset(m, 0, sizeof *m);
}

static pcbcv_status
call_match(const Args *a, char *msg)
{
    pcbcv_match_opts o = match_opts(PCBCV_DETECT_ORB);
    pcbcv_matches m;
    pcbcv_status st = pcbcv_match_features(a->v[0], a->v[1], &o, &m, msg, MSGLEN);
    matches_clear(&m);
    return st;
}

static void
test_match_bad_views(void)
{
    g_autofree guint8 *a = texture(64, 48, 1), *b = texture(64, 48, 1);
    pcbcv_view ref = view(a, 64, 48, 1), photo = view(b, 64, 48, 1);
    static const char *const names[] = { "reference", "photo" };
    Args good = { .v = { &ref, &photo } };
    each_bad_view("pcbcv_match_features", names, &good, BYTES, 2, call_match);
}

static void
test_match_bad_arguments(void)
{
    g_autofree guint8 *a = texture(64, 48, 3), *b = texture(64, 48, 1);
    pcbcv_view rgb = view(a, 64, 48, 3), grey = view(b, 64, 48, 1);
    pcbcv_match_opts o = match_opts(PCBCV_DETECT_ORB);
    pcbcv_matches m;
    char msg[MSGLEN] = "";
    refused(pcbcv_match_features(&rgb, &grey, &o, &m, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_match_features", "RGB reference");
    matches_clear(&m);
    msg[0] = '\0';
    refused(pcbcv_match_features(&grey, &rgb, &o, &m, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_match_features", "RGB photo");
    matches_clear(&m);
    msg[0] = '\0';
    refused(pcbcv_match_features(&grey, &grey, NULL, &m, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_match_features", "opts NULL");
    msg[0] = '\0';
    refused(pcbcv_match_features(&grey, &grey, &o, NULL, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_match_features", "out NULL");
}

/* A keypoint selection that keeps none. */
static int
keep_none(const pcbcv_keypoint *kp, const int *by_response, int n, int width, int height, int *keep,
          void *user)
{
    (void) kp, (void) by_response, (void) n, (void) width, (void) height, (void) keep, (void) user;
    return 0;
}

/* The control: an image matched with itself, with both detectors, gives matches lying on
 * the identity; a selection keeping nothing gives none, and no error. */
static void
test_match_self(void)
{
    g_autofree guint8 *a = texture(160, 120, 1);
    pcbcv_view v = view(a, 160, 120, 1);
    for (int sift = 0; sift < 2; sift++) {
        pcbcv_match_opts o = match_opts(sift ? PCBCV_DETECT_SIFT : PCBCV_DETECT_ORB);
        pcbcv_matches m;
        char msg[MSGLEN] = "";
        accepted(pcbcv_match_features(&v, &v, &o, &m, msg, sizeof msg), msg, "pcbcv_match_features",
                 sift ? "SIFT, self" : "ORB, self");
        g_assert_cmpint(m.matches, >, 0);
        int same = 0;
        for (int i = 0; i < m.matches; i++)
            same += fabsf(m.photo_xy[2 * i] - m.ref_xy[2 * i]) < 0.01f
                    && fabsf(m.photo_xy[2 * i + 1] - m.ref_xy[2 * i + 1]) < 0.01f;
        g_assert_cmpint(same, >=, m.matches * 9 / 10);
        matches_clear(&m);
        o.select = keep_none;
        accepted(pcbcv_match_features(&v, &v, &o, &m, msg, sizeof msg), msg, "pcbcv_match_features",
                 "a selection keeping none");
        g_assert_cmpint(m.matches, ==, 0);
        g_assert_null(m.photo_xy);
        g_assert_null(m.ref_xy);
    }
}

/* Tiny, thin or featureless images: no matches (OK) or a refusal (E_NOMATCH or E_ARG, with a
 * message), for both detectors; never an exception from inside OpenCV. */
static const struct {
    const char *what;
    int w, h;
    gboolean textured;
} SMALL[] = {
    { "1x1", 1, 1, TRUE },
    { "2x2", 2, 2, TRUE },
    { "3x3", 3, 3, TRUE },
    { "8x8", 8, 8, TRUE },
    { "1x200", 1, 200, TRUE },
    { "200x1", 200, 1, TRUE },
    { "2x200", 2, 200, TRUE },
    { "200x2", 200, 2, TRUE },
    { "3x200", 3, 200, TRUE },
    { "200x3", 200, 3, TRUE },
    { "flat-128x96", 128, 96, FALSE },
};

static void
test_match_small(gconstpointer data)
{
    int k = GPOINTER_TO_INT(data) / 2, sift = GPOINTER_TO_INT(data) % 2;
    int w = SMALL[k].w, h = SMALL[k].h;
    g_autofree guint8 *a = SMALL[k].textured ? texture(w, h, 1) : flat(w, h, 1, 90);
    g_autofree guint8 *b = SMALL[k].textured ? texture(w, h, 1) : flat(w, h, 1, 90);
    g_autofree guint8 *big = texture(64, 48, 1);
    pcbcv_view small = view(a, w, h, 1), small2 = view(b, w, h, 1), good = view(big, 64, 48, 1);
    pcbcv_match_opts o = match_opts(sift ? PCBCV_DETECT_SIFT : PCBCV_DETECT_ORB);
    const pcbcv_view *pairs[3][2] = { { &small, &small2 }, { &small, &good }, { &good, &small } };
    for (int p = 0; p < 3; p++) {
        pcbcv_matches m;
        char msg[MSGLEN] = "";
        pcbcv_status st = pcbcv_match_features(pairs[p][0], pairs[p][1], &o, &m, msg, sizeof msg);
        g_strchomp(g_strdelimit(msg, "\n", ' '));
        if (st == PCBCV_OK)
            g_assert_cmpint(m.matches, ==, 0);
        else if ((st != PCBCV_E_NOMATCH && st != PCBCV_E_ARG) || msg[0] == '\0')
            g_test_fail_printf("pcbcv_match_features(%s, %s, pair %d): status %d (%s)",
                               sift ? "SIFT" : "ORB", SMALL[k].what, p, st, msg);
        matches_clear(&m);
    }
}

/* ---------------------------------------------------------------------- fit_homography */

static const pcbcv_fit_opts ROBUST = { 1, 3.0, 2000, 0.999 };

static void
test_fit_too_few(void)
{
    const double p[6] = { 0, 0, 10, 0, 0, 10 };
    const float pf[6] = { 0, 0, 10, 0, 0, 10 };
    double h[9];
    for (int robust = 0; robust < 2; robust++) {
        const pcbcv_fit_opts *o = robust ? &ROBUST : NULL;
        char msg[MSGLEN] = "";
        refused(pcbcv_fit_homography(NULL, NULL, 0, o, h, NULL, msg, sizeof msg), PCBCV_E_NOMATCH,
                msg, "pcbcv_fit_homography", "n 0, NULL points");
        msg[0] = '\0';
        refused(pcbcv_fit_homography(NULL, NULL, -4, o, h, NULL, msg, sizeof msg), PCBCV_E_NOMATCH,
                msg, "pcbcv_fit_homography", "n -4");
        msg[0] = '\0';
        refused(pcbcv_fit_homography(p, p, 3, o, h, NULL, msg, sizeof msg), PCBCV_E_NOMATCH, msg,
                "pcbcv_fit_homography", "n 3");
        msg[0] = '\0';
        refused(pcbcv_fit_homography_f(pf, pf, 3, o, h, NULL, msg, sizeof msg), PCBCV_E_NOMATCH,
                msg, "pcbcv_fit_homography_f", "n 3");
    }
}

static const double SQUARE[8] = { 0, 0, 10, 0, 10, 10, 0, 10 };
static const float SQUARE_F[8] = { 0, 0, 10, 0, 10, 10, 0, 10 };

static void
test_fit_null_pointers(void)
{
    double h[9];
    char msg[MSGLEN] = "";
    refused(pcbcv_fit_homography(NULL, SQUARE, 4, NULL, h, NULL, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_fit_homography", "src NULL");
    msg[0] = '\0';
    refused(pcbcv_fit_homography(SQUARE, NULL, 4, &ROBUST, h, NULL, msg, sizeof msg), PCBCV_E_ARG,
            msg, "pcbcv_fit_homography", "dst NULL");
    msg[0] = '\0';
    refused(pcbcv_fit_homography(SQUARE, SQUARE, 4, NULL, NULL, NULL, msg, sizeof msg), PCBCV_E_ARG,
            msg, "pcbcv_fit_homography", "h NULL");
    msg[0] = '\0';
    refused(pcbcv_fit_homography_f(NULL, NULL, 4, NULL, h, NULL, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_fit_homography_f", "points NULL");
    msg[0] = '\0';
    refused(pcbcv_fit_homography_f(SQUARE_F, SQUARE_F, 4, &ROBUST, NULL, NULL, msg, sizeof msg),
            PCBCV_E_ARG, msg, "pcbcv_fit_homography_f", "h NULL");
}

static gboolean
finite9(const double h[9])
{
    for (int i = 0; i < 9; i++)
        if (!isfinite(h[i]))
            return FALSE;
    return TRUE;
}

/* Degenerate point sets, to the corners of a square. */
static const struct {
    const char *what;
    double src[8];
    gboolean nonfinite;
} DEGENERATE[] = {
    { "four equal points", { 5, 5, 5, 5, 5, 5, 5, 5 }, FALSE },
    { "four collinear points", { 0, 0, 1, 1, 2, 2, 3, 3 }, FALSE },
    { "three equal points", { 0, 0, 0, 0, 0, 0, 9, 4 }, FALSE },
    { "a NaN coordinate", { NAN, 0, 1, 0, 1, 1, 0, 1 }, TRUE },
    { "an infinite coordinate", { INFINITY, 0, 1, 0, 1, 1, 0, 1 }, TRUE },
    { "a -infinite coordinate", { 0, 0, 1, -INFINITY, 1, 1, 0, 1 }, TRUE },
};

/* Every degenerate set, robust or least squares, double or float: a refusal with a message,
 * or (least squares) a finite best fit. Never OK with NaNs. */
static void
test_fit_degenerate(void)
{
    for (size_t k = 0; k < G_N_ELEMENTS(DEGENERATE); k++) {
        if (DEGENERATE[k].nonfinite && under_valgrind())
            continue;
        float srcf[8];
        for (int i = 0; i < 8; i++)
            srcf[i] = (float) DEGENERATE[k].src[i];
        for (int robust = 0; robust < 2; robust++)
            for (int single = 0; single < 2; single++) {
                double h[9] = { 0 };
                unsigned char mask[4];
                char msg[MSGLEN] = "";
                const pcbcv_fit_opts *o = robust ? &ROBUST : NULL;
                pcbcv_status st
                    = single ? pcbcv_fit_homography_f(srcf, SQUARE_F, 4, o, h, mask, msg, MSGLEN)
                             : pcbcv_fit_homography(DEGENERATE[k].src, SQUARE, 4, o, h, mask, msg,
                                                    MSGLEN);
                g_autofree char *what
                    = g_strdup_printf("%s, %s%s", DEGENERATE[k].what,
                                      robust ? "robust" : "least squares", single ? ", float" : "");
                if (robust)
                    refused(st, PCBCV_OK, msg, "pcbcv_fit_homography", what);
                else if (st == PCBCV_OK && !finite9(h))
                    g_test_fail_printf("pcbcv_fit_homography(%s): OK with a non-finite h", what);
                else if (st != PCBCV_OK && msg[0] == '\0')
                    g_test_fail_printf("pcbcv_fit_homography(%s): no message", what);
            }
    }
}

/* The control: four corners of a square, shifted, give the shift; so do 40 points with 10
 * outliers, robustly, with the outliers masked. */
static void
test_fit_exact(void)
{
    const double dst[8] = { 3, -2, 13, -2, 13, 8, 3, 8 };
    const float dstf[8] = { 3, -2, 13, -2, 13, 8, 3, 8 };
    const double want[9] = { 1, 0, 3, 0, 1, -2, 0, 0, 1 };
    double h[9];
    unsigned char mask[40] = { 0 };
    char msg[MSGLEN] = "";
    accepted(pcbcv_fit_homography(SQUARE, dst, 4, NULL, h, mask, msg, sizeof msg), msg,
             "pcbcv_fit_homography", "a shifted square");
    for (int i = 0; i < 9; i++)
        g_assert_cmpfloat_with_epsilon(h[i], want[i], 1e-9);
    for (int i = 0; i < 4; i++)
        g_assert_cmpint(mask[i], ==, 1);
    accepted(pcbcv_fit_homography_f(SQUARE_F, dstf, 4, NULL, h, NULL, msg, sizeof msg), msg,
             "pcbcv_fit_homography_f", "a shifted square");
    for (int i = 0; i < 9; i++)
        g_assert_cmpfloat_with_epsilon(h[i], want[i], 1e-5);
    double src[80], dst2[80];
    for (int i = 0; i < 40; i++) {
        src[2 * i] = (i % 8) * 13.0;
        src[2 * i + 1] = (i / 8) * 17.0;
        dst2[2 * i] = src[2 * i] + 3 + (i % 4 == 1 ? 50 : 0);
        dst2[2 * i + 1] = src[2 * i + 1] - 2;
    }
    accepted(pcbcv_fit_homography(src, dst2, 40, &ROBUST, h, mask, msg, sizeof msg), msg,
             "pcbcv_fit_homography", "robust, 10 outliers");
    for (int i = 0; i < 9; i++)
        g_assert_cmpfloat_with_epsilon(h[i], want[i], 1e-6);
    for (int i = 0; i < 40; i++)
        g_assert_cmpint(mask[i], ==, i % 4 == 1 ? 0 : 1);
}

/* ------------------------------------------------------------------------- tile_shifts */

static const double IDENTITY[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

static pcbcv_status
call_tiles(const Args *a, char *msg)
{
    pcbcv_tile t = { .x0 = 16, .y0 = 16 };
    return pcbcv_tile_shifts(a->v[0], a->v[1], IDENTITY, 32, &t, 1, msg, MSGLEN);
}

static void
test_tiles_bad_views(void)
{
    g_autofree guint8 *a = texture(64, 64, 1), *b = texture(64, 64, 1);
    pcbcv_view ref = view(a, 64, 64, 1), photo = view(b, 64, 64, 1);
    static const char *const names[] = { "reference", "photo" };
    Args good = { .v = { &ref, &photo } };
    each_bad_view("pcbcv_tile_shifts", names, &good, BYTES, 2, call_tiles);
}

static void
test_tiles_bad_arguments(void)
{
    g_autofree guint8 *a = texture(64, 64, 3), *b = texture(64, 64, 1);
    pcbcv_view rgb = view(a, 64, 64, 3), grey = view(b, 64, 64, 1);
    pcbcv_tile t = { .x0 = 16, .y0 = 16 };
    const struct {
        const char *what;
        const pcbcv_view *r, *p;
        const double *h;
        int tile, n;
        pcbcv_tile *tiles;
    } cases[] = {
        { "RGB reference", &rgb, &grey, IDENTITY, 32, 1, &t },
        { "RGB photo", &grey, &rgb, IDENTITY, 32, 1, &t },
        { "tile 15", &grey, &grey, IDENTITY, 15, 1, &t },
        { "tile -32", &grey, &grey, IDENTITY, -32, 1, &t },
        { "h NULL", &grey, &grey, NULL, 32, 1, &t },
        { "tiles NULL, ntiles 1", &grey, &grey, IDENTITY, 32, 1, NULL },
        { "ntiles -1", &grey, &grey, IDENTITY, 32, -1, &t },
    };
    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        char msg[MSGLEN] = "";
        refused(pcbcv_tile_shifts(cases[k].r, cases[k].p, cases[k].h, cases[k].tile, cases[k].tiles,
                                  cases[k].n, msg, sizeof msg),
                PCBCV_E_ARG, msg, "pcbcv_tile_shifts", cases[k].what);
    }
    /* windows leaving the reference, or a 1 x 1 reference */
    static const int off[][2] = { { -1, 0 }, { 0, -1 }, { 33, 0 }, { 0, 33 }, { 5000, 5000 } };
    for (size_t k = 0; k < G_N_ELEMENTS(off); k++) {
        pcbcv_tile o = { .x0 = off[k][0], .y0 = off[k][1] };
        char msg[MSGLEN] = "";
        refused(pcbcv_tile_shifts(&grey, &grey, IDENTITY, 32, &o, 1, msg, sizeof msg), PCBCV_E_ARG,
                msg, "pcbcv_tile_shifts", "a window off the reference");
    }
    guint8 one = 128;
    pcbcv_view tiny = view(&one, 1, 1, 1);
    pcbcv_tile z = { 0 };
    char msg[MSGLEN] = "";
    refused(pcbcv_tile_shifts(&tiny, &grey, IDENTITY, 16, &z, 1, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_tile_shifts", "a 1x1 reference");
}

/* No tiles, a 1 x 1 or 1 x N photo, flat images, singular and non-finite homographies: OK
 * (nothing measured is not an error), and the control: a known shift is found. */
static void
test_tiles_edge_cases(void)
{
    guint8 one = 128;
    g_autofree guint8 *a = texture(64, 64, 1), *f = flat(64, 64, 1, 77), *c = texture(1, 64, 1);
    g_autofree guint8 *noise = g_malloc(64 * 64), *s = g_malloc(64 * 64);
    guint32 r = 99;
    for (int i = 0; i < 64 * 64; i++) {
        r ^= r << 13, r ^= r >> 17, r ^= r << 5;
        noise[i] = (guint8) (r >> 24);
    }
    for (int y = 0; y < 64; y++) /* noise shifted by (3, 2): s(x, y) = noise(x - 3, y - 2) */
        for (int x = 0; x < 64; x++)
            s[y * 64 + x] = noise[CLAMP(y - 2, 0, 63) * 64 + CLAMP(x - 3, 0, 63)];
    pcbcv_view tiny = view(&one, 1, 1, 1), ref = view(a, 64, 64, 1), flat_v = view(f, 64, 64, 1);
    pcbcv_view col = view(c, 1, 64, 1), shifted = view(s, 64, 64, 1), nv = view(noise, 64, 64, 1);
    char msg[MSGLEN] = "";
    accepted(pcbcv_tile_shifts(&ref, &ref, IDENTITY, 32, NULL, 0, msg, sizeof msg), msg,
             "pcbcv_tile_shifts", "no tiles");
    pcbcv_tile t = { .x0 = 16, .y0 = 16 };
    accepted(pcbcv_tile_shifts(&ref, &tiny, IDENTITY, 32, &t, 1, msg, sizeof msg), msg,
             "pcbcv_tile_shifts", "1x1 photo");
    accepted(pcbcv_tile_shifts(&ref, &col, IDENTITY, 32, &t, 1, msg, sizeof msg), msg,
             "pcbcv_tile_shifts", "1x64 photo");
    accepted(pcbcv_tile_shifts(&flat_v, &flat_v, IDENTITY, 32, &t, 1, msg, sizeof msg), msg,
             "pcbcv_tile_shifts", "flat images");
    g_assert_cmpfloat(t.contrast, ==, 0);
    static const double zero[9] = { 0 };
    accepted(pcbcv_tile_shifts(&ref, &ref, zero, 32, &t, 1, msg, sizeof msg), msg,
             "pcbcv_tile_shifts", "a zero homography");
    if (!under_valgrind()) {
        static const double nan_h[9] = { NAN, 0, 0, 0, 1, 0, 0, 0, 1 };
        static const double inf_h[9] = { 1, 0, INFINITY, 0, 1, 0, 0, 0, 1 };
        pcbcv_status st = pcbcv_tile_shifts(&ref, &ref, nan_h, 32, &t, 1, msg, sizeof msg);
        g_assert_true(st == PCBCV_OK || msg[0] != '\0');
        st = pcbcv_tile_shifts(&ref, &ref, inf_h, 32, &t, 1, msg, sizeof msg);
        g_assert_true(st == PCBCV_OK || msg[0] != '\0');
    }
    pcbcv_tile m[2] = { { .x0 = 16, .y0 = 16 }, { .x0 = 16, .y0 = 16, .remeasure = 1 } };
    accepted(pcbcv_tile_shifts(&nv, &shifted, IDENTITY, 32, m, 2, msg, sizeof msg), msg,
             "pcbcv_tile_shifts", "a shift of (3, 2)");
    for (int i = 0; i < 2; i++) {
        g_assert_cmpfloat_with_epsilon(m[i].dx, 3, 0.2);
        g_assert_cmpfloat_with_epsilon(m[i].dy, 2, 0.2);
        g_assert_cmpfloat(m[i].response, >, 0.3);
    }
    g_assert_cmpfloat(m[0].contrast, >, 10);
}

/* -------------------------------------------------------------------------------- remap */

static pcbcv_status
call_remap(const Args *a, char *msg)
{
    return pcbcv_remap(a->v[0], a->f[1], a->f[2], a->v[3], msg, MSGLEN);
}

static void
test_remap_bad_views(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(8, 6, 3, 0);
    g_autofree float *mx = fflat(8, 6, 1, 2), *my = fflat(8, 6, 1, 3);
    pcbcv_view src = view(a, 16, 12, 3), dst = view(b, 8, 6, 3);
    pcbcv_fview fx = fview(mx, 8, 6, 1), fy = fview(my, 8, 6, 1);
    static const char *const names[] = { "src", "map_x", "map_y", "dst" };
    static const gboolean is_float[] = { FALSE, TRUE, TRUE, FALSE };
    Args good = { { &src, NULL, NULL, &dst }, { NULL, &fx, &fy, NULL } };
    each_bad_view("pcbcv_remap", names, &good, is_float, 4, call_remap);
}

static void
test_remap_mismatch(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(8, 6, 1, 0), *c = flat(8, 6, 3, 0);
    g_autofree float *mx = fflat(8, 6, 1, 2), *my = fflat(8, 6, 1, 3), *m7 = fflat(7, 6, 1, 0);
    g_autofree float *m3 = fflat(8, 6, 3, 0);
    pcbcv_view src = view(a, 16, 12, 3), grey = view(b, 8, 6, 1), dst = view(c, 8, 6, 3);
    pcbcv_fview fx = fview(mx, 8, 6, 1), fy = fview(my, 8, 6, 1), f7 = fview(m7, 7, 6, 1);
    pcbcv_fview f3 = fview(m3, 8, 6, 3);
    const struct {
        const char *what;
        const pcbcv_fview *x, *y;
        pcbcv_view *d;
    } cases[] = {
        { "RGB src, grey dst", &fx, &fy, &grey },    { "map_x 7x6 for dst 8x6", &f7, &fy, &dst },
        { "map_y 7x6 for dst 8x6", &fx, &f7, &dst }, { "3-channel map_x", &f3, &fy, &dst },
        { "3-channel map_y", &fx, &f3, &dst },
    };
    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        char msg[MSGLEN] = "";
        refused(pcbcv_remap(&src, cases[k].x, cases[k].y, cases[k].d, msg, sizeof msg), PCBCV_E_ARG,
                msg, "pcbcv_remap", cases[k].what);
    }
}

/* 1 x 1 onto 1 x 1 and onto 8 x 1; whole-pixel maps copy exactly; maps off the source and
 * non-finite maps give 0. */
static void
test_remap_values(void)
{
    guint8 one[3] = { 9, 99, 199 }, px[3] = { 0 };
    g_autofree guint8 *a = texture(16, 12, 3), *row = flat(8, 1, 3, 1), *b = flat(8, 6, 3, 1);
    float zero = 0;
    g_autofree float *mx = fflat(8, 6, 1, 0), *my = fflat(8, 6, 1, 0);
    pcbcv_view p1 = view(one, 1, 1, 3), o1 = view(px, 1, 1, 3), o8 = view(row, 8, 1, 3);
    pcbcv_view src = view(a, 16, 12, 3), dst = view(b, 8, 6, 3);
    pcbcv_fview z = fview(&zero, 1, 1, 1), fx = fview(mx, 8, 6, 1), fy = fview(my, 8, 6, 1);
    pcbcv_fview rx = fview(mx, 8, 1, 1), ry = fview(my, 8, 1, 1);
    char msg[MSGLEN] = "";
    accepted(pcbcv_remap(&p1, &z, &z, &o1, msg, sizeof msg), msg, "pcbcv_remap", "1x1 onto 1x1");
    g_assert_cmpmem(px, 3, one, 3);
    accepted(pcbcv_remap(&p1, &rx, &ry, &o8, msg, sizeof msg), msg, "pcbcv_remap", "1x1 onto 8x1");
    for (int i = 0; i < 8; i++)
        g_assert_cmpmem(row + 3 * i, 3, one, 3);
    for (int y = 0; y < 6; y++) /* dst(x, y) = src(x + 5, y + 3) */
        for (int x = 0; x < 8; x++) {
            mx[y * 8 + x] = (float) (x + 5);
            my[y * 8 + x] = (float) (y + 3);
        }
    accepted(pcbcv_remap(&src, &fx, &fy, &dst, msg, sizeof msg), msg, "pcbcv_remap", "a shift");
    for (int y = 0; y < 6; y++)
        g_assert_cmpmem(b + y * 24, 24, a + (y + 3) * 48 + 15, 24);
    const float far[] = { -1e9f, 1e9f, -50, 400, NAN, INFINITY, -INFINITY };
    for (size_t k = 0; k < G_N_ELEMENTS(far); k++) {
        if (!isfinite(far[k]) && under_valgrind())
            continue;
        for (int i = 0; i < 48; i++)
            mx[i] = far[k];
        memset(b, 1, 8 * 6 * 3);
        accepted(pcbcv_remap(&src, &fx, &fy, &dst, msg, sizeof msg), msg, "pcbcv_remap",
                 "maps off the source");
        for (int i = 0; i < 8 * 6 * 3; i++)
            if (b[i] != 0) {
                g_test_fail_printf("pcbcv_remap(map_x %g): dst[%d] = %d", far[k], i, b[i]);
                break;
            }
    }
}

/* ------------------------------------------------------------------------------ filters */

static pcbcv_status
call_gaussian(const Args *a, char *msg)
{
    return pcbcv_gaussian(a->v[0], 0, 0, a->v[1], 3, 1.0, PCBCV_BORDER_DEFAULT, msg, MSGLEN);
}

static pcbcv_status
call_gaussian_f(const Args *a, char *msg)
{
    return pcbcv_gaussian_f(a->f[0], a->f[1], 3, 1.0, PCBCV_BORDER_DEFAULT, msg, MSGLEN);
}

static pcbcv_status
call_morph(const Args *a, char *msg)
{
    return pcbcv_morph(a->v[0], a->v[1], 1, 3, PCBCV_BORDER_DEFAULT, msg, MSGLEN);
}

static void
test_filters_bad_views(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(16, 12, 3, 0);
    g_autofree float *fa = fflat(16, 12, 1, 5), *fb = fflat(16, 12, 1, 0);
    pcbcv_view src = view(a, 16, 12, 3), dst = view(b, 16, 12, 3);
    pcbcv_fview fs = fview(fa, 16, 12, 1), fd = fview(fb, 16, 12, 1);
    static const char *const names[] = { "src", "dst" };
    static const gboolean floats[] = { TRUE, TRUE };
    Args good = { .v = { &src, &dst } }, fgood = { .f = { &fs, &fd } };
    each_bad_view("pcbcv_gaussian", names, &good, BYTES, 2, call_gaussian);
    each_bad_view("pcbcv_morph", names, &good, BYTES, 2, call_morph);
    each_bad_view("pcbcv_gaussian_f", names, &fgood, floats, 2, call_gaussian_f);
}

static void
test_filters_bad_arguments(void)
{
    g_autofree guint8 *a = texture(16, 12, 3), *b = flat(16, 12, 3, 0), *c = flat(16, 12, 1, 0);
    g_autofree guint8 *d = flat(8, 6, 3, 0);
    g_autofree float *fa = fflat(16, 12, 1, 5), *fb = fflat(15, 12, 1, 0),
                     *fc = fflat(16, 12, 3, 0);
    pcbcv_view src = view(a, 16, 12, 3), dst = view(b, 16, 12, 3), grey = view(c, 16, 12, 1);
    pcbcv_view win = view(d, 8, 6, 3);
    pcbcv_fview fs = fview(fa, 16, 12, 1), fn = fview(fb, 15, 12, 1), f3 = fview(fc, 16, 12, 3);
    const pcbcv_border B = PCBCV_BORDER_DEFAULT;
    char msg[MSGLEN] = "";
#define REFUSED(call, want, fn, what)       \
    do {                                    \
        msg[0] = '\0';                      \
        refused(call, want, msg, fn, what); \
    } while (0)
    REFUSED(pcbcv_gaussian(&src, 0, 0, &grey, 3, 1, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_gaussian",
            "3 -> 1 channels");
    REFUSED(pcbcv_gaussian(&src, 9, 0, &win, 3, 1, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_gaussian",
            "a window off the right edge");
    REFUSED(pcbcv_gaussian(&src, 0, -1, &win, 3, 1, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_gaussian",
            "a window above the top");
    REFUSED(pcbcv_gaussian(&src, 0, 0, &dst, 4, 1, B, msg, MSGLEN), PCBCV_OK, "pcbcv_gaussian",
            "ksize 4");
    REFUSED(pcbcv_gaussian_f(&fs, &fn, 3, 1, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_gaussian_f",
            "16x12 -> 15x12");
    REFUSED(pcbcv_gaussian_f(&fs, &f3, 3, 1, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_gaussian_f",
            "1 -> 3 channels");
    REFUSED(pcbcv_gaussian_f(&fs, &fs, 6, 1, B, msg, MSGLEN), PCBCV_OK, "pcbcv_gaussian_f",
            "ksize 6");
    REFUSED(pcbcv_morph(&src, &src, 1, 3, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_morph", "in place");
    REFUSED(pcbcv_morph(&src, &grey, 1, 3, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_morph",
            "3 -> 1 channels");
    REFUSED(pcbcv_morph(&src, &win, 0, 3, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_morph",
            "16x12 -> 8x6");
    REFUSED(pcbcv_morph(&src, &dst, 0, 0, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_morph", "ksize 0");
    REFUSED(pcbcv_morph(&src, &dst, 1, -5, B, msg, MSGLEN), PCBCV_E_ARG, "pcbcv_morph", "ksize -5");
#undef REFUSED
}

/* 1 x 1 and 1 x N images through every filter and border: OK; a constant image stays
 * constant (the default and replicated borders). */
static void
test_filters_thin(void)
{
    static const int sizes[][2] = { { 1, 1 }, { 1, 40 }, { 40, 1 } };
    for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
        int w = sizes[k][0], h = sizes[k][1];
        g_autofree guint8 *a = flat(w, h, 3, 77), *b = flat(w, h, 3, 0);
        g_autofree float *fa = fflat(w, h, 1, 7), *fb = fflat(w, h, 1, 0);
        pcbcv_view src = view(a, w, h, 3), dst = view(b, w, h, 3);
        pcbcv_fview fs = fview(fa, w, h, 1), fd = fview(fb, w, h, 1);
        for (int border = PCBCV_BORDER_DEFAULT; border <= PCBCV_BORDER_ZERO; border++) {
            char msg[MSGLEN] = "";
            g_autofree char *what = g_strdup_printf("%dx%d, border %d", w, h, border);
            accepted(pcbcv_gaussian(&src, 0, 0, &dst, 5, 1.5, border, msg, sizeof msg), msg,
                     "pcbcv_gaussian", what);
            if (border != PCBCV_BORDER_ZERO)
                for (int i = 0; i < w * h * 3; i++)
                    g_assert_cmpint(b[i], ==, 77);
            accepted(pcbcv_gaussian(&src, 0, 0, &dst, 0, 2.0, border, msg, sizeof msg), msg,
                     "pcbcv_gaussian", what);
            accepted(pcbcv_gaussian_f(&fs, &fd, 5, 1.5, border, msg, sizeof msg), msg,
                     "pcbcv_gaussian_f", what);
            accepted(pcbcv_gaussian_f(&fs, &fs, 3, 1.0, border, msg, sizeof msg), msg,
                     "pcbcv_gaussian_f", what);
            for (int dilate = 0; dilate < 2; dilate++) {
                accepted(pcbcv_morph(&src, &dst, dilate, 7, border, msg, sizeof msg), msg,
                         "pcbcv_morph", what);
                if (border == PCBCV_BORDER_DEFAULT)
                    for (int i = 0; i < w * h * 3; i++)
                        g_assert_cmpint(b[i], ==, 77);
            }
        }
    }
}

/* ------------------------------------------------------------------------- parallel_for */

static void
count_range(void *ctx, int begin, int end)
{
    int *hits = ctx;
    for (int i = begin; i < end; i++)
        g_atomic_int_inc(&hits[i]);
}

static void
test_parallel_for(void)
{
    int hits[1000] = { 0 };
    char msg[MSGLEN] = "";
    accepted(pcbcv_parallel_for(1000, count_range, hits, msg, sizeof msg), msg,
             "pcbcv_parallel_for", "1000");
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(hits[i], ==, 1);
    accepted(pcbcv_parallel_for(0, count_range, NULL, msg, sizeof msg), msg, "pcbcv_parallel_for",
             "n 0");
    accepted(pcbcv_parallel_for(-5, NULL, NULL, msg, sizeof msg), msg, "pcbcv_parallel_for",
             "n -5");
    refused(pcbcv_parallel_for(3, NULL, NULL, msg, sizeof msg), PCBCV_E_ARG, msg,
            "pcbcv_parallel_for", "fn NULL");
    g_assert_cmpint(pcbcv_parallel_for(3, NULL, NULL, NULL, 0), ==, PCBCV_E_ARG);
    /* on two threads as well */
    int threads = pcbcv_get_threads();
    pcbcv_set_threads(2);
    memset(hits, 0, sizeof hits);
    accepted(pcbcv_parallel_for(1000, count_range, hits, msg, sizeof msg), msg,
             "pcbcv_parallel_for", "1000 on two threads");
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(hits[i], ==, 1);
    pcbcv_set_threads(threads);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    pcbcv_set_threads(1);
    g_test_add_func("/cv/resize/bad-views", test_resize_bad_views);
    g_test_add_func("/cv/resize/channel-mismatch", test_resize_channel_mismatch);
    g_test_add_func("/cv/resize/thin", test_resize_thin);
    g_test_add_func("/cv/gray/bad-views", test_gray_bad_views);
    g_test_add_func("/cv/gray/mismatched-output", test_gray_mismatch);
    g_test_add_func("/cv/gray/bt601-exact", test_gray_exact);
    g_test_add_func("/cv/match/bad-views", test_match_bad_views);
    g_test_add_func("/cv/match/bad-arguments", test_match_bad_arguments);
    g_test_add_func("/cv/match/self", test_match_self);
    for (size_t k = 0; k < G_N_ELEMENTS(SMALL); k++)
        for (int sift = 0; sift < 2; sift++) {
            g_autofree char *path
                = g_strdup_printf("/cv/match/small/%s-%s", sift ? "sift" : "orb", SMALL[k].what);
            g_test_add_data_func(path, GINT_TO_POINTER(2 * (int) k + sift), test_match_small);
        }
    g_test_add_func("/cv/fit/too-few-points", test_fit_too_few);
    g_test_add_func("/cv/fit/null-pointers", test_fit_null_pointers);
    g_test_add_func("/cv/fit/degenerate-points", test_fit_degenerate);
    g_test_add_func("/cv/fit/exact", test_fit_exact);
    g_test_add_func("/cv/tiles/bad-views", test_tiles_bad_views);
    g_test_add_func("/cv/tiles/bad-arguments", test_tiles_bad_arguments);
    g_test_add_func("/cv/tiles/edge-cases", test_tiles_edge_cases);
    g_test_add_func("/cv/remap/bad-views", test_remap_bad_views);
    g_test_add_func("/cv/remap/mismatched-views", test_remap_mismatch);
    g_test_add_func("/cv/remap/values", test_remap_values);
    g_test_add_func("/cv/filters/bad-views", test_filters_bad_views);
    g_test_add_func("/cv/filters/bad-arguments", test_filters_bad_arguments);
    g_test_add_func("/cv/filters/thin", test_filters_thin);
    g_test_add_func("/cv/parallel-for", test_parallel_for);
    return g_test_run();
}
