/* synthboard: seeded synthetic server boards, and re-photographs of them, for pcbdiff's tests,
 * samples and benchmarks.
 *
 *   synthboard board --out golden.png [--width-mm 150 --height-mm 100 --px-per-mm 8 --seed N]
 *                    [--profile board.ini]
 *   synthboard photo --golden golden.png --out photo.jpg --seed N [--board-seed B] [--px-per-mm 8]
 *                    [--scale 1.4 --rotate-deg 17 --tilt-deg 2 --k1 0.01 --light 0.15 --noise 2
 *                     --blur 0.6 --quality 90] [--implant] [--remove] [--truth truth.json]
 *   synthboard pair --out DIR --megapixels 24 --seed N [--implant] [--remove]
 *
 * The board is a scene in millimetres (parts, pads, traces, vias, silkscreen) that depends on the
 * seed and the board size only. It is drawn at any px/mm with analytic anti-aliasing, so a photo
 * at 1.4x the golden's resolution is drawn at 1.4x with real detail, not upscaled.
 *
 * A photo: the scene (with an implant and/or a removed passive, if asked) is drawn at
 * px/mm x scale, then seen through a camera: a homography (rotation, scale, tilt), radial lens
 * distortion, a table around the board, gain / gamma / white balance, a light gradient or a
 * vignette, Gaussian blur, Gaussian sensor noise, JPEG. Pixel coordinates are those of pixel
 * centres (pixel (i, j) is the point (i, j)), as in OpenCV.
 *
 * Lens model (the bench's): photo pixel p -> ideal u = c + (p - c) (1 + k1 |p - c|^2 / r^2), with
 * c the photo centre and r its half-diagonal; reference = inverse(H_reference_to_photo) u.
 * homography_photo_to_reference in the truth is exact when k1 = 0, otherwise the least-squares
 * best fit (geometric error in reference pixels) over a 30 x 30 grid of board points.
 *
 * Random numbers: our own xorshift64* streams seeded through splitmix64, never rand(), so the
 * output is the same on every machine given the same compiler maths.
 *
 * This header is private to the tool: its files are laid out by section (rng, canvas, text,
 * scene, place, layout, draw, render, changes, camera, homography, photo, truth, main).
 */
#ifndef SYNTHBOARD_H
#define SYNTHBOARD_H

#include <math.h>
#include <string.h>
#include <glib.h>
#include "pcbdiff/image.h"

#define EXIT_USAGE 2

/* -------------------------------------------------------------------------------- types */

typedef struct {
    guint64 s;
} Rng;

enum {
    STREAM_SCENE = 1,
    STREAM_CAMERA = 2,
    STREAM_NOISE = 3,
    STREAM_CHANGES = 4,
    STREAM_TABLE = 5,
};

typedef struct {
    float r, g, b;
} Rgb;

typedef struct {
    guint8 *data;
    size_t stride;
    int width, height;
    double ppm; /* pixels per millimetre; pixel (i, j) covers [i, i+1] x [j, j+1] / ppm mm */
} Canvas;

typedef struct {
    double x0, y0, x1, y1;
} Box;

enum { PROF_FLAT, PROF_LINEAR, PROF_CYL, PROF_LEAD, PROF_RADIAL };
enum { BLEND_OVER, BLEND_ADD, BLEND_MUL };

/* How a shape is filled: a colour (or c0 -> c1 along a profile), a blend mode, an opacity, an
 * edge softness in pixels (1: anti-aliased; more: soft shadows) and a per-pixel grain. */
typedef struct {
    Rgb c0, c1;
    guint8 profile, axis, flip, blend; /* axis 0: profile along board x, 1: along y */
    float alpha, soft, grain;
} Paint;

typedef enum {
    PK_CHIP,     /* two-terminal passive: resistor, capacitor */
    PK_GULL,     /* gull-wing leads: SOIC, TSSOP, QFP, SOT-23 */
    PK_FLAT,     /* QFN / DFN: the pads end at the body's edge */
    PK_BGA,      /* substrate with a mould cap (style 0) or a metal lid (style 1) */
    PK_POLYCAP,  /* polymer aluminium capacitor: a can on a square base */
    PK_INDUCTOR, /* moulded power inductor */
    PK_CRYSTAL,  /* metal-lid crystal */
    PK_HEADER,   /* 2.54 mm shrouded pin header */
    PK_FANCONN,  /* white 4-pin fan connector */
    PK_STICKER,  /* serial-number label */
} PkKind;

enum { CHIP_CAP, CHIP_RES };
enum { SIDE_N, SIDE_S, SIDE_E, SIDE_W };

typedef struct {
    PkKind kind;
    double x, y;     /* centre on the board, mm */
    int rot;         /* quarter turns: local +x points to board +x, +y, -x, -y */
    double L, W;     /* body along local x and y, mm */
    double lw, lp;   /* lead width, lead length beyond the body (QFN: fillet length) */
    double pitch[4]; /* per side: n (local -y), s (+y), e (+x), w (-x) */
    int pins[4];
    int style;
    double height; /* mm above the board: the shadow's length */
    Rgb body, metal;
    char ref[8];        /* designator */
    char mark[2][16];   /* marking, two lines */
    guint64 aux;        /* sticker: barcode bits */
    gboolean populated; /* FALSE: a spare footprint, pads only */
    gboolean removed;   /* TRUE: taken off for a photo, pads left */
    gboolean implant;
} Part;

typedef struct {
    double x0, y0, x1, y1, w;
} Seg;

typedef struct {
    double x, y, r, hole;
    gboolean tented;
} Via;

typedef struct {
    double x[8], y[8];
    int n;
} Poly;

typedef struct {
    double x, y, h;
    int rot;
    char text[24];
} Label;

#define MOTTLE_MM  4.0
#define MOTTLE2_MM 1.3

typedef struct {
    double width_mm, height_mm;
    Rgb mask, trace_add, pour_add, silk_col, tin, laminate;
    int mot_nx, mot_ny, mot2_nx, mot2_ny;
    float *mottle, *mottle2; /* lattices of 3-channel offsets */
    double grad[3];          /* linear shading: levels per board width (x), height (y); hue */
    GArray *pours;           /* Poly: copper pours under the mask */
    GArray *segs;            /* Seg: traces under the mask */
    GArray *vias;            /* Via */
    GArray *silk;            /* Seg: silkscreen lines */
    GArray *labels;          /* Label: silkscreen text */
    GArray *parts;           /* Part */
    GArray *occ;             /* Box: board area taken by parts and labels (layout only) */
    GArray *holes;           /* Via: mounting holes */
    GArray *fids;            /* Via: fiducials */
    int bmc, flash;
    int spare[4], n_spare;
    int six_pad[2]; /* the spares an implant fits */
    Box zone_bmc, zone_flash, sticker;
    int next_r, next_c, next_u;
} Scene;

typedef struct {
    const char *kind; /* "added" | "removed" */
    const char *op;   /* "implant" | "remove" */
    char package[40];
    char where[48];
    Box mm; /* the changed part, mm */
} Change;

typedef struct {
    double scale, rotate_deg, tilt_deg, k1, light, noise, blur;
    int quality;
} PhotoOpts;

typedef struct {
    double H_rp[9], H_pr[9]; /* reference -> ideal photo, and back */
    int width, height;
    double scale; /* photo pixels per reference pixel at the board's centre */
    double tilt_x, tilt_y, cx, cy, rnorm;
    double gain, gamma, wb[3], illum_amp, illum_dir;
    gboolean vignette;
    Rgb table;
    PhotoOpts o;
} Camera;

/* ---------------------------------------------------------------------------- functions */

/* rng.c */
void rng_init(Rng *r, guint64 seed, guint64 stream);
double rng_uniform(Rng *r);
double rng_range(Rng *r, double lo, double hi);
int rng_int(Rng *r, int n);
double rng_normal(Rng *r);

/* canvas.c */
float lead_profile(float s); /* used by paint_colour */
Rgb rgb(double r, double g, double b);
Rgb rgb_mul(Rgb c, double k);
Rgb rgb_add(Rgb c, double d);
Paint paint_flat(Rgb c);
Paint paint_prof(Rgb c0, Rgb c1, int profile, int axis, int flip);
Paint paint_blend(Rgb c, int blend, double alpha);
void span(double lo, double hi, int n, int *a, int *b);
void draw_rrect(const Canvas *cv, double x0, double y0, double x1, double y1, double r,
                const Paint *p);
void draw_box(const Canvas *cv, Box b, double r, const Paint *p);
void draw_disc_clip(const Canvas *cv, double x, double y, double r, double r_in, const Box *clip,
                    const Paint *p);
void draw_disc(const Canvas *cv, double x, double y, double r, double r_in, const Paint *p);
void draw_seg(const Canvas *cv, double x0, double y0, double x1, double y1, double w,
              const Paint *p);
void draw_poly(const Canvas *cv, const double *xs, const double *ys, int n, const Paint *p);

/* text.c */
double text_width(const char *text, double height);
void draw_text(const Canvas *cv, double cx, double cy, double height, int rot, const char *text,
               const Paint *p);

/* scene.c */
void scene_free(Scene *sc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scene, scene_free)
Box box(double x0, double y0, double x1, double y1);
Box box_grow(Box b, double m);
gboolean box_overlap(Box a, Box b);
Box part_box(const Part *p, double lx0, double ly0, double lx1, double ly1);
void part_point(const Part *p, double lx, double ly, double *x, double *y);
void part_axis(const Part *p, int dx, int dy, Paint *paint);
Box side_box(const Part *p, int side, double c, double a, double d0, double d1);
void side_dir(int side, int *dx, int *dy);
double side_half(const Part *p, int side);
double pin_pos(const Part *p, int side, int i);
void chip_pad(const Part *p, double *inner, double *outer, double *half_h);
Box part_extent(const Part *p);
Box part_outline(const Part *p);
Part pk_chip(double L, double W, int style);
Part pk_leads(PkKind kind, double L, double W, double lw, double lp, double pitch, int n, int s,
              int e, int w);
Part pk_simple(PkKind kind, double L, double W, double height);
Part pk_implant(void);

/* place.c */
gboolean scene_free_at(const Scene *sc, Box b, double clear);
void add_silk_rect(Scene *sc, Box b, double w);
gboolean add_label(Scene *sc, Box fp, const char *text, double h, gboolean vertical);
int place_part(Scene *sc, Part p, double x, double y, int rot, double clear);
Part *scene_part(const Scene *sc, int i);
Rgb tin_colour(Rng *rng);
int place_ic(Scene *sc, Rng *rng, Part p, double x, double y, int rot, const char *m0,
             const char *m1);
int place_passive(Scene *sc, Rng *rng, double x, double y, int rot, int size, double label_p);
void add_bus(Scene *sc, Rng *rng, double x, double y, int dir, int nseg, int ntr, double w,
             double gap);
gboolean via_ok(const Scene *sc, double x, double y, double r);
void add_via(Scene *sc, Rng *rng, double x, double y);
void bmc_fanout(Scene *sc, Rng *rng, const Part *p, int side);

/* layout.c */
Scene *scene_build(guint64 seed, double wmm, double hmm);

/* draw.c */
void draw_pads(const Part *p, const Canvas *cv, Rgb tin);
void draw_part(const Part *p, const Canvas *cv);
void draw_shadow(const Part *p, const Canvas *cv);

/* render.c */
PcbImage *render_board(const Scene *sc, double ppm, int width, int height, GError **error);

/* changes.c */
Box mm_to_px_box(Box b, double ppm, int bbox[4]);
void apply_implant(Scene *sc, Rng *rng, Change *ch);
gboolean apply_removal(Scene *sc, Rng *rng, Change *ch);

/* camera.c */
void mat3_mul(const double *a, const double *b, double *out);
void mat3_inv(const double *m, double *out);
void mat3_normalise(double *m);
void mat3_apply(const double *h, double x, double y, double *ox, double *oy);
void camera_init(Camera *cam, int w, int h, const PhotoOpts *o, guint64 seed, double target_mp);
void ref_to_photo(const Camera *cam, double rx, double ry, double *px, double *py);

/* homography.c */
void truth_homography(const Camera *cam, int w, int h, double H[9], double *rms, double *max_err);

/* photo.c */
PcbImage *render_photo(const Scene *sc, const Camera *cam, double ref_ppm, int ref_w, int ref_h,
                       guint64 seed, GError **error);

/* truth.c */
gboolean write_truth(const char *path, const Camera *cam, int ref_w, int ref_h, double ppm,
                     guint64 seed, guint64 board_seed, const Change *changes, int n_changes,
                     GError **error);
gboolean write_profile(const char *path, const char *golden, const Scene *sc, double ppm,
                       guint64 seed, GError **error);

/* ------------------------------------------------------------- per-pixel helpers (inline) */

static inline guint64
rng_next(Rng *r)
{
    guint64 x = r->s; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline guint8
clamp_u8(float v)
{
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (guint8) (v + 0.5f);
}

/* A small, fast per-pixel hash in [-1, 1]: texture (grain) on bodies, silkscreen, metal. */
static inline float
hash_noise(guint32 x, guint32 y)
{
    guint32 h = x * 0x8DA6B343u ^ y * 0xD8163841u ^ 0x9E3779B9u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return (float) (h & 0xFFFF) * (2.0f / 65535.0f) - 1.0f;
}

static inline Rgb
paint_colour(const Paint *p, float u, float v, int ix, int iy)
{
    Rgb c = p->c0;
    if (p->profile != PROF_FLAT) {
        float s = (p->profile == PROF_RADIAL || p->axis == 0) ? u : v, t;
        if (p->flip)
            s = 1.0f - s;
        switch (p->profile) {
        case PROF_CYL:
            t = 1.0f - (2.0f * s - 1.0f) * (2.0f * s - 1.0f);
            break;
        case PROF_LEAD:
            t = lead_profile(s);
            break;
        default:
            t = s;
            break;
        }
        c.r += (p->c1.r - p->c0.r) * t;
        c.g += (p->c1.g - p->c0.g) * t;
        c.b += (p->c1.b - p->c0.b) * t;
    }
    if (p->grain > 0.0f) {
        float g = p->grain * hash_noise((guint32) ix, (guint32) iy);
        c.r += g;
        c.g += g;
        c.b += g;
    }
    return c;
}

static inline void
blend_pixel(guint8 *px, const Paint *p, float a, Rgb c)
{
    const float v[3] = { c.r, c.g, c.b };
    for (int k = 0; k < 3; k++) {
        float o = px[k], n;
        switch (p->blend) {
        case BLEND_ADD:
            n = o + v[k] * a;
            break;
        case BLEND_MUL:
            n = o * (1.0f - a * (1.0f - v[k]));
            break;
        default:
            n = o + (v[k] - o) * a;
            break;
        }
        px[k] = clamp_u8(n);
    }
}

static inline guint8 *
canvas_px(const Canvas *cv, int i, int j)
{
    return cv->data + (size_t) j * cv->stride + (size_t) i * 3;
}

#endif
