/* Differencing and findings: benign differences give nothing; real changes give one finding
 * of the right kind at the right place. */
#include <math.h>
#include <stdlib.h>
#include "testutil.h"
#include "core/imgops.h"
#include "cv/pcbcv.h"
#include "diff/diff_internal.h"

#define W 480
#define H 360

static guint32 seed = 1;

static double
gauss(void)
{
    /* Box-Muller on a small xorshift: deterministic */
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    double u = (seed % 1000000 + 0.5) / 1000000.0;
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    double v = (seed % 1000000 + 0.5) / 1000000.0;
    return sqrt(-2 * log(u)) * cos(2 * G_PI * v);
}

static void
paint(PcbImage *img, int x0, int y0, int w, int h, int r, int g, int b)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            guint8 *p = pcb_image_row(img, y) + 3 * x;
            p[0] = (guint8) r;
            p[1] = (guint8) g;
            p[2] = (guint8) b;
        }
}

/* The reference: a board with a bare patch of mask at (200..280, 140..220) and a small part
 * (a 12x6 dark body on two pads) at (100, 60). */
static PcbImage *
reference(void)
{
    PcbImage *b = tu_make_board(W, H, 11);
    paint(b, 200, 140, 80, 80, 30, 100, 50);
    paint(b, 80, 50, 50, 30, 30, 100, 50);
    paint(b, 96, 60, 6, 6, 200, 190, 160);
    paint(b, 114, 60, 6, 6, 200, 190, 160);
    paint(b, 102, 60, 12, 6, 40, 35, 30);
    return b;
}

/* A photo of the same pixels: light changed (gain, offset, gradient), noise added. */
static PcbImage *
relit(const PcbImage *src, double gain, double gradient, double noise)
{
    PcbImage *out = pcb_image_copy(src, NULL);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                guint8 *p = pcb_image_row(out, y) + 3 * x + c;
                double g = gain * (1 + gradient * (x - W / 2.0) / W) * (c == 2 ? 0.95 : 1.0);
                double v = 255 * pow(*p / 255.0, 0.92) * g + 6 + noise * gauss();
                *p = (guint8) CLAMP(lround(v), 0, 255);
            }
    return out;
}

/* The findings of @photo against @ref: differencing with @dp and @ignore, findings with @fp
 * and @board at @px_per_mm (0: unknown); every one optional. */
static GArray *
extract(const PcbImage *ref, const PcbImage *photo, const PcbImage *ignore, const PcbBoard *board,
        const PcbDiffParams *dp, const PcbFindingsParams *fp, double px_per_mm)
{
    PcbDiffMap map;
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbImage) work = pcb_image_copy(photo, &error); /* normalised in place */
    g_assert_nonnull(work);
    g_assert_true(pcb_difference(ref, work, NULL, ignore, dp, &map, &error));
    g_assert_no_error(error);
    g_test_message("noise sigma %.2f %.2f %.2f", map.noise[0], map.noise[1], map.noise[2]);
    GArray *f = pcb_findings_extract(&map, board, px_per_mm, NULL, fp, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < f->len && g_test_verbose(); i++) {
        const PcbFinding *x = &g_array_index(f, PcbFinding, i);
        g_test_message("%s at %.0f,%.0f %.0fx%.0f peak %.1f score %.2f", pcb_kind_name(x->kind),
                       x->bbox.x, x->bbox.y, x->bbox.w, x->bbox.h, x->peak, x->score);
    }
    pcb_diff_map_clear(&map);
    return f;
}

/* The findings of @photo against @ref with the differencing's @params. */
static GArray *
findings_with(const PcbImage *ref, const PcbImage *photo, const PcbDiffParams *params)
{
    return extract(ref, photo, NULL, NULL, params, NULL, 10.0);
}

static GArray *
findings(const PcbImage *ref, const PcbImage *photo, const PcbImage *ignore, const PcbBoard *board)
{
    return extract(ref, photo, ignore, board, NULL, NULL, 10.0);
}

static void
test_lighting_alone(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) photo = relit(ref, 1.25, 0.25, 2.0);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 0);
}

/* How much the light on the parts differs: the difference's noise over the images' own. About
 * 1 for the same scene under smoothly changed light; several times that when every surface is
 * shaded otherwise (a light from another side: a pattern of gains finer than the light
 * normalisation's blocks). */
static double
light_change_of(const PcbImage *ref, const PcbImage *photo)
{
    PcbDiffMap map;
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbImage) work = pcb_image_copy(photo, &error);
    g_assert_nonnull(work);
    g_assert_true(pcb_difference(ref, work, NULL, NULL, NULL, &map, &error));
    double light = map.light_change;
    g_test_message("noise L %.2f, light change %.2f", map.noise[0], light);
    pcb_diff_map_clear(&map);
    return light;
}

/* @src with every surface shaded otherwise: a light from another side, a pattern of gains
 * finer than the light normalisation's blocks. */
static PcbImage *
shaded_otherwise(const PcbImage *src)
{
    PcbImage *out = pcb_image_copy(src, NULL);
    for (int y = 0; y < out->height; y++)
        for (int x = 0; x < out->width; x++) {
            double g = 1 + 0.35 * sin(x / 5.0) * sin(y / 7.0);
            for (int c = 0; c < 3; c++) {
                guint8 *p = pcb_image_row(out, y) + 3 * x + c;
                *p = (guint8) CLAMP(lround(*p * g), 0, 255);
            }
        }
    return out;
}

static void
test_light_change_measured(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) same = relit(ref, 1.25, 0.25, 2.0);
    g_assert_cmpfloat(light_change_of(ref, same), <, 2.0);
    g_autoptr(PcbImage) shaded = shaded_otherwise(same);
    g_assert_cmpfloat(light_change_of(ref, shaded), >=, 3.0);
}

/* @board in the middle of a plain grey backdrop twice its size each way, with noise of
 * @noise grey levels on the backdrop. */
static PcbImage *
on_backdrop(const PcbImage *board, double noise)
{
    PcbImage *out = pcb_image_new(2 * W, 2 * H, PCB_FORMAT_RGB8, NULL);
    for (int y = 0; y < 2 * H; y++)
        for (int x = 0; x < 2 * W; x++) {
            guint8 *p = pcb_image_row(out, y) + 3 * x;
            const gboolean in = x >= W / 2 && x < W / 2 + W && y >= H / 2 && y < H / 2 + H;
            for (int c = 0; c < 3; c++)
                p[c] = in ? pcb_image_row(board, y - H / 2)[3 * (x - W / 2) + c]
                          : (guint8) CLAMP(lround(110 + noise * gauss()), 0, 255);
        }
    return out;
}

/* A board that fills a quarter of the frame on a plain backdrop that the light leaves as it
 * is (lit the same, or too dark to show it): the backdrop's samples outnumber the board's, and
 * the light is judged on the parts, not on them. */
static void
test_light_change_on_small_board(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) same = relit(ref, 1.25, 0.25, 2.0);
    g_autoptr(PcbImage) shaded = shaded_otherwise(same);
    g_autoptr(PcbImage) big_ref = on_backdrop(ref, 2.0);
    g_autoptr(PcbImage) big_same = on_backdrop(same, 2.0);
    g_autoptr(PcbImage) big_shaded = on_backdrop(shaded, 2.0);
    g_assert_cmpfloat(light_change_of(big_ref, big_same), <, 2.0);
    g_assert_cmpfloat(light_change_of(big_ref, big_shaded), >=, 3.0);
}

static void
test_one_pixel_shift(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) shifted = pcb_image_copy(ref, NULL);
    for (int y = 0; y < H; y++) /* content moves 1 px right and 1 px down */
        for (int x = 0; x < W; x++)
            memcpy(pcb_image_row(shifted, y) + 3 * x,
                   pcb_image_row(ref, MAX(0, y - 1)) + 3 * MAX(0, x - 1), 3);
    g_autoptr(PcbImage) photo = relit(shifted, 1.0, 0, 1.5);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 0);
}

static void
test_added_part(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 230, 170, 12, 6, 25, 25, 28); /* a 12x6 dark part on bare mask */
    g_autoptr(PcbImage) photo = relit(changed, 1.1, 0.1, 2.0);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 1);
    const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
    g_assert_cmpint(x->kind, ==, PCB_KIND_ADDED);
    g_assert_cmpfloat(fabs(x->bbox.x + x->bbox.w / 2 - 236), <, 4);
    g_assert_cmpfloat(fabs(x->bbox.y + x->bbox.h / 2 - 173), <, 4);
    g_assert_cmpfloat(x->bbox.w, <, 24);
    g_assert_cmpfloat(x->area_mm2, >, 0.3); /* 10 px/mm: 72 px = 0.72 mm^2 */
    g_assert_cmpfloat(x->score, >, 0);
    g_assert_cmpfloat(x->score, <=, 1);
}

/* A sticker over a part's whole top: a large uniform change that an affine change of light
 * would explain inside its box, but not on the unchanged board around it. */
static void
test_sticker_on_part_top(void)
{
    g_autoptr(PcbImage) ref = reference();
    paint(ref, 210, 150, 60, 60, 180, 182, 185); /* a silver capacitor top */
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 210, 150, 60, 60, 200, 30, 35); /* covered by a red sticker */
    g_autoptr(PcbImage) photo = relit(changed, 1.1, 0.1, 2.0);
    /* the sticker is larger than a normalisation block (40 px): the local moments alone would
     * take it for light there */
    g_autoptr(GArray) f = findings_with(ref, photo, NULL);
    const PcbFinding *x = NULL;
    for (guint i = 0; i < f->len; i++) {
        const PcbFinding *y = &g_array_index(f, PcbFinding, i);
        if (fabs(y->bbox.x + y->bbox.w / 2 - 240) < 6 && fabs(y->bbox.y + y->bbox.h / 2 - 180) < 6)
            x = y;
    }
    g_assert_nonnull(x);
    g_assert_cmpfloat(x->bbox.w, >, 50);
    g_assert_cmpfloat(x->bbox.h, >, 50);
}

/* A module as large as two normalisation blocks put over the board's parts and traces (an M.2
 * SSD over the components it hides): a neutral, dark, plain surface, a change of lightness and
 * of texture more than of colour, under a change of gain, tone and gradient. */
static PcbImage *
module_over_parts(const PcbImage *ref)
{
    PcbImage *changed = pcb_image_copy(ref, NULL);
    paint(changed, 300, 60, 120, 80, 34, 34, 37);
    paint(changed, 320, 90, 60, 3, 200, 200, 200); /* its label's print */
    PcbImage *photo = relit(changed, 1.1, 0.1, 2.0);
    pcb_image_free(changed);
    return photo;
}

/* The largest finding over the module's place, or NULL. */
static const PcbFinding *
over_module(const GArray *f)
{
    const PcbFinding *x = NULL;
    for (guint i = 0; i < f->len; i++) {
        const PcbFinding *y = &g_array_index(f, PcbFinding, i);
        const gboolean over = y->bbox.x < 420 && y->bbox.x + y->bbox.w > 300 && y->bbox.y < 140
                              && y->bbox.y + y->bbox.h > 60;
        if (over && (x == NULL || y->bbox.w * y->bbox.h > x->bbox.w * x->bbox.h))
            x = y;
    }
    return x;
}

/* The reference with a field of small parts and traces where the module goes: a board area
 * dense with components, as around a BMC. */
static PcbImage *
parts_field(void)
{
    PcbImage *b = reference();
    for (int y = 62; y < 138; y += 10) {
        paint(b, 300, y + 7, 120, 1, 45, 130, 60); /* a trace between the rows */
        for (int x = 302 + (y / 10 % 2) * 5; x + 8 < 420; x += 12) {
            paint(b, x, y, 3, 4, 200, 190, 160); /* a passive: pads and body */
            paint(b, x + 3, y, 3, 4, 60, 50, 40);
            paint(b, x + 6, y, 3, 4, 200, 190, 160);
        }
    }
    return b;
}

/* The local moments would take the module for light inside it, and the local background for
 * the level around it: it must still be one finding covering most of it. */
static void
test_large_module_over_parts(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) photo = module_over_parts(ref);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    const PcbFinding *x = over_module(f);
    g_assert_nonnull(x);
    g_assert_cmpint(x->kind, ==, PCB_KIND_ADDED);
    g_assert_cmpfloat(x->bbox.w, >, 100);
    g_assert_cmpfloat(x->bbox.h, >, 65);
}

/* The findings of @photo when the light is taken to differ (from 0.3 times the images' own
 * noise) and the score's thresholds are out of reach (its unit then that light's residue, as
 * under a lamp from another side): what only the texture cover finds. */
static GArray *
cover_only(const PcbImage *ref, const PcbImage *photo)
{
    PcbFindingsParams p;
    pcb_findings_params_init(&p);
    p.light_changed = 0.3;
    p.high_sigma = p.low_sigma = 15; /* the score's path sees nothing */
    return extract(ref, photo, NULL, NULL, NULL, &p, 10.0);
}

/* Under another light, a plain module over the parts is found by the texture it hides. */
static void
test_large_module_by_lost_texture(void)
{
    g_autoptr(PcbImage) ref = parts_field();
    g_autoptr(PcbImage) photo = module_over_parts(ref);
    g_autoptr(GArray) f = cover_only(ref, photo);
    const PcbFinding *x = over_module(f);
    g_assert_nonnull(x);
    g_assert_cmpint(x->kind, ==, PCB_KIND_ADDED);
    g_assert_cmpfloat(x->bbox.w, >, 80);
    g_assert_cmpfloat(x->bbox.h, >, 50);
    /* taken off again: the golden shows the module, the photo the parts */
    g_autoptr(GArray) back = cover_only(photo, ref);
    x = over_module(back);
    g_assert_nonnull(x);
    g_assert_cmpint(x->kind, ==, PCB_KIND_REMOVED);
    /* nothing changed, the light changed: shade scales texture, it does not wipe it out */
    g_autoptr(PcbImage) same = relit(ref, 0.6, 0.3, 2.0);
    g_autoptr(GArray) none = cover_only(ref, same);
    g_assert_cmpuint(none->len, ==, 0);
}

static void
test_removed_part(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 102, 60, 12, 6, 30, 100, 50); /* body gone, pads stay */
    g_autoptr(PcbImage) photo = relit(changed, 0.9, -0.1, 2.0);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 1);
    const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
    g_assert_cmpint(x->kind, ==, PCB_KIND_REMOVED);
    g_assert_cmpfloat(fabs(x->bbox.x + x->bbox.w / 2 - 108), <, 5);
}

/* A part whose body is near the board's colour (a small or blurred part, a dark board),
 * standing across a trace: what counts is which way the pixels moved, away from the board or
 * towards it, not whether each side is within the bare-board tolerance. */
/* A dark part body whose colour the photo tints a little (a tone curve the normalisation does
 * not follow in the dark: 12 levels less red, 8 more green, 16 less blue at 8% lightness,
 * about 10 sigmas, most of it chroma) is no change; the same tint on a mid-grey body is one. */
static void
test_dark_tint(void)
{
    for (int light = 0; light < 2; light++) {
        const int v = light ? 110 : 20;
        g_autoptr(PcbImage) ref = reference();
        paint(ref, 210, 150, 50, 24, v, v - 4, v - 5);
        g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
        paint(changed, 230, 156, 20, 12, v - 12, v + 8, v - 16);
        g_autoptr(PcbImage) photo = relit(changed, 1.0, 0.0, 1.5);
        g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
        g_assert_cmpuint(f->len, ==, (guint) light);
    }
}

static void
test_part_near_board_colour(void)
{
    g_autoptr(PcbImage) ref = reference();
    paint(ref, 200, 178, 80, 2, 90, 160, 100); /* a trace across the bare patch */
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 232, 174, 14, 8, 45, 85, 40); /* 23 from the mask colour: "bare" */
    g_autoptr(PcbImage) photo = relit(changed, 1.05, 0.05, 2.0);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 1);
    const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
    g_assert_cmpint(x->kind, ==, PCB_KIND_ADDED);
    g_assert_cmpfloat(fabs(x->bbox.x + x->bbox.w / 2 - 239), <, 4);
    g_assert_cmpfloat(fabs(x->bbox.y + x->bbox.h / 2 - 178), <, 4);
}

static void
test_ignore_region(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 230, 170, 12, 6, 25, 25, 28);
    g_autoptr(PcbImage) photo = relit(changed, 1.0, 0, 2.0);
    g_autoptr(PcbImage) ignore = pcb_image_new(W, H, PCB_FORMAT_GRAY8, NULL);
    for (int y = 150; y < 200; y++)
        memset(pcb_image_row(ignore, y) + 210, 255, 60);
    g_autoptr(GArray) f = findings(ref, photo, ignore, NULL);
    g_assert_cmpuint(f->len, ==, 0);
}

static void
test_zone_named(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 230, 170, 12, 6, 25, 25, 28);
    g_autoptr(PcbImage) photo = relit(changed, 1.0, 0, 2.0);
    g_autoptr(PcbBoard) board = pcb_board_new_from_image("golden.png", 10.0);
    PcbZone z = { g_strdup("BMC"), { 200, 140, 80, 80 }, 1.5 };
    g_array_append_val(board->zones, z);
    g_autoptr(GArray) f = findings(ref, photo, NULL, board);
    g_assert_cmpuint(f->len, ==, 1);
    g_assert_cmpstr(g_array_index(f, PcbFinding, 0).zone, ==, "BMC");
}

/* A binarised scan: white board, black copper. White is content there, not glare: copper added
 * on the white is found; a one-pixel jitter of the edges is not. */
static void
test_white_board(void)
{
    g_autoptr(PcbImage) ref = pcb_image_new(W, H, PCB_FORMAT_RGB8, NULL);
    for (int y = 0; y < H; y++)
        memset(pcb_image_row(ref, y), 255, 3 * W);
    for (int i = 0; i < 12; i++) /* traces */
        paint(ref, 20 + 36 * i, 20, 10, H - 40, 0, 0, 0);
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 35, 150, 12, 8, 0, 0, 0); /* a short between two traces */
    g_autoptr(GArray) f = findings(ref, changed, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 1);
    g_assert_cmpfloat(fabs(g_array_index(f, PcbFinding, 0).bbox.y - 150), <, 4);
}

/* The binarised scene of test_white_board, its traces @shift px to the right and @grow px
 * wider (binarisation jitter). */
static PcbImage *
white_board(int shift, int grow)
{
    PcbImage *img = pcb_image_new(W, H, PCB_FORMAT_RGB8, NULL);
    for (int y = 0; y < H; y++)
        memset(pcb_image_row(img, y), 255, 3 * W);
    for (int i = 0; i < 12; i++)
        paint(img, 20 + 36 * i + shift, 20, 10 + grow, H - 40, 0, 0, 0);
    return img;
}

static GArray *
findings_unscaled(const PcbImage *ref, const PcbImage *photo, double max_shift_px)
{
    PcbFindingsParams params;
    pcb_findings_params_init(&params);
    params.max_shift_px = max_shift_px;
    return extract(ref, photo, NULL, NULL, NULL, &params, 0);
}

/* A photo that is off by a few pixels, more than the score's tolerance, with edges a pixel
 * wider: the bands along every edge are explained by a local shift and dropped; a short
 * between two traces is not, and is found at its place and size. */
static void
test_shifted_edges_explained(void)
{
    g_autoptr(PcbImage) ref = white_board(0, 0);
    g_autoptr(PcbImage) photo = white_board(3, 1);
    paint(photo, 38, 150, 12, 8, 0, 0, 0); /* a short from the shifted trace to the next */
    g_autoptr(GArray) without = findings_unscaled(ref, photo, 0);
    g_assert_cmpuint(without->len, >, 1); /* the edge bands, without the shift test */
    g_autoptr(GArray) f = findings_unscaled(ref, photo, 3);
    g_assert_cmpuint(f->len, ==, 1);
    const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
    g_assert_cmpfloat(fabs(x->bbox.y - 150), <, 4);
    g_assert_cmpfloat(x->bbox.h, <, 16);
    g_assert_cmpfloat(x->bbox.x, >, 30);
    g_assert_cmpfloat(x->bbox.x + x->bbox.w, <, 60);
}

/* A scratch two pixels wide across a copper pour, in the photo only: both ways it scores
 * nothing (the photo's window around it holds copper too); one way, it is found. */
static void
test_thin_scratch_found(void)
{
    g_autoptr(PcbImage) ref = white_board(0, 0);
    paint(ref, 200, 100, 160, 120, 0, 0, 0); /* a pour */
    g_autoptr(PcbImage) photo = pcb_image_copy(ref, NULL);
    for (int i = 0; i < 80; i++) /* a diagonal stroke, 2 px wide */
        paint(photo, 230 + i, 130 + 3 * i / 4, 2, 2, 255, 255, 255);
    PcbDiffParams dp;
    pcb_diff_params_init(&dp);
    for (int pass = 0; pass < 2; pass++) {
        dp.one_way = pass == 0 ? 0 : 0.5;
        g_autoptr(GArray) f = extract(ref, photo, NULL, NULL, &dp, NULL, 0);
        if (pass == 0) {
            g_assert_cmpuint(f->len, ==, 0);
            continue;
        }
        g_assert_cmpuint(f->len, ==, 1);
        const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
        g_assert_cmpfloat(fabs(x->bbox.x - 230), <, 4);
        g_assert_cmpfloat(fabs(x->bbox.y - 130), <, 4);
        g_assert_cmpfloat(fabs(x->bbox.w - 81), <, 6);
        g_assert_cmpfloat(fabs(x->bbox.h - 61), <, 6);
    }
}

/* Traces two pixels wider or narrower on each side than the golden's (etching, binarisation):
 * beyond the tolerance, each edge differs one way, but next to an edge of the other image,
 * not on a plain surface, so it is no stroke; even without the shift test nothing is found. */
static void
test_grown_traces_not_strokes(void)
{
    g_autoptr(PcbImage) ref = white_board(0, 0);
    g_autoptr(PcbImage) wider = white_board(-2, 4);
    g_autoptr(GArray) f = findings_unscaled(ref, wider, 0);
    g_assert_cmpuint(f->len, ==, 0);
    g_autoptr(PcbImage) narrower = white_board(2, -4);
    g_autoptr(GArray) g = findings_unscaled(ref, narrower, 0);
    g_assert_cmpuint(g->len, ==, 0);
}

/* A clipped pixel in either image is left out with everything within the reach around it
 * (its flanks take its lost tint through the camera's blur), and nothing beyond. Here the photo
 * clips on a tin pad, bright in the reference too (glare); where the reference is dark, see
 * clipped-part-on-dark-board-compared. */
static void
test_clipped_reach(void)
{
    g_autoptr(PcbImage) ref = reference();
    paint(ref, 146, 96, 9, 9, 200, 190, 160); /* a tin pad */
    g_autoptr(PcbImage) photo = pcb_image_copy(ref, NULL);
    paint(photo, 150, 100, 1, 1, 255, 254, 240); /* one clipped pixel, in the photo */
    g_autoptr(PcbImage) valid = pcb_image_new(W, H, PCB_FORMAT_GRAY8, NULL);
    for (int y = 0; y < H; y++)
        memset(pcb_image_row(valid, y), 255, W);
    pcbcv_view rv = pcb_view(ref), pv = pcb_view(photo), vv = pcb_view(valid);
    g_assert_true(pcb_exclude_clipped(&rv, &pv, &vv, 253, 3, NULL, NULL));
    for (int y = 90; y < 110; y++)
        for (int x = 140; x < 160; x++) {
            gboolean near = abs(x - 150) <= 3 && abs(y - 100) <= 3;
            g_assert_cmpint(pcb_image_row(valid, y)[x], ==, near ? 0 : 255);
        }
}

/* A white part put on dark board, photographed brighter: it clips (255) where the reference
 * shows dark solder mask. A highlight on a surface that dark leaves it short of clipping, so
 * the clipped pixels are no glare: the part is compared, and found (left out as glare before,
 * with everything within reach of it, nothing was found). */
static void
test_clipped_part_on_dark_board(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) photo = relit(ref, 1.1, 0.0, 2.0);
    paint(photo, 150, 100, 10, 18, 255, 255, 255);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 1);
    const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
    g_assert_cmpfloat(fabs(x->bbox.x + x->bbox.w / 2 - 155), <, 4);
    g_assert_cmpfloat(fabs(x->bbox.y + x->bbox.h / 2 - 109), <, 4);
}

/* A bright red sticker whose red channel is clipped (255) still shows what it is in its green
 * and blue: it is compared, not left out as glare. */
static void
test_saturated_sticker_found(void)
{
    g_autoptr(PcbImage) ref = reference();
    paint(ref, 210, 150, 60, 60, 180, 182, 185); /* a silver capacitor top */
    g_autoptr(PcbImage) changed = pcb_image_copy(ref, NULL);
    paint(changed, 225, 165, 30, 24, 255, 40, 40); /* a red sticker, its red clipped */
    g_autoptr(PcbImage) photo = relit(changed, 1.05, 0.0, 2.0);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 1);
    const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
    g_assert_cmpfloat(fabs(x->bbox.x + x->bbox.w / 2 - 240), <, 4);
    g_assert_cmpfloat(fabs(x->bbox.y + x->bbox.h / 2 - 177), <, 4);
    g_assert_cmpfloat(x->bbox.w, >, 24);
}

/* The same red mark in both images, clipped in the brighter photo only, differs in its red
 * channel alone, which clipping hides: nothing to report. */
static void
test_saturated_mark_clipped_in_one(void)
{
    g_autoptr(PcbImage) ref = reference();
    paint(ref, 300, 60, 60, 8, 235, 20, 20);
    paint(ref, 352, 40, 8, 40, 235, 20, 20);
    g_autoptr(PcbImage) photo = relit(ref, 1.15, 0.0, 2.0);
    g_assert_cmpint(pcb_image_row(photo, 64)[3 * 330], >=, 253);
    g_autoptr(GArray) f = findings(ref, photo, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 0);
}

/* @src blurred by the binomial kernel 1 4 6 4 1 / 16 each way (a Gaussian of sigma 1): a
 * softer camera. */
static PcbImage *
softened(const PcbImage *src)
{
    static const int k[5] = { 1, 4, 6, 4, 1 };
    g_autoptr(PcbImage) tmp = pcb_image_copy(src, NULL);
    PcbImage *out = pcb_image_copy(src, NULL);
    for (int pass = 0; pass < 2; pass++) {
        const PcbImage *in = pass == 0 ? src : tmp;
        PcbImage *to = pass == 0 ? tmp : out;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) {
                    int sum = 0;
                    for (int i = -2; i <= 2; i++) {
                        int xx = pass == 0 ? CLAMP(x + i, 0, W - 1) : x;
                        int yy = pass == 1 ? CLAMP(y + i, 0, H - 1) : y;
                        sum += k[i + 2] * pcb_image_row(in, yy)[3 * xx + c];
                    }
                    pcb_image_row(to, y)[3 * x + c] = (guint8) ((sum + 8) / 16);
                }
    }
    return out;
}

static guint
count_findings(const PcbImage *ref, const PcbImage *photo, gboolean match_blur, GArray **out)
{
    PcbDiffParams dp;
    pcb_diff_params_init(&dp);
    dp.match_blur = match_blur;
    GArray *f = extract(ref, photo, NULL, NULL, &dp, NULL, 10.0);
    guint n = f->len;
    if (out != NULL)
        *out = f;
    else
        g_array_unref(f);
    return n;
}

/* A sharp golden against a softer photo: blur matching finds nothing where nothing changed,
 * and finds a line of marking erased from an IC body. Unmatched, only the line's one-pixel
 * core differs (the camera spread the rest of it), too thin to be told from edge noise. */
static void
test_blur_matched(void)
{
    g_autoptr(PcbImage) ref = reference();
    paint(ref, 290, 90, 70, 50, 40, 35, 30); /* an IC body with three lines of marking */
    for (int i = 0; i < 3; i++)
        paint(ref, 300, 100 + 12 * i, 50, 1, 200, 200, 190);
    g_autoptr(PcbImage) soft = softened(ref);
    g_autoptr(PcbImage) same = relit(soft, 1.0, 0, 1.0);
    g_assert_cmpuint(count_findings(ref, same, TRUE, NULL), ==, 0);

    g_autoptr(PcbImage) erased = pcb_image_copy(ref, NULL);
    paint(erased, 300, 112, 50, 1, 40, 35, 30); /* the middle line is gone */
    g_autoptr(PcbImage) soft2 = softened(erased);
    g_autoptr(PcbImage) photo = relit(soft2, 1.0, 0, 1.0);
    g_assert_cmpuint(count_findings(ref, photo, FALSE, NULL), ==, 0);
    GArray *f = NULL;
    g_assert_cmpuint(count_findings(ref, photo, TRUE, &f), ==, 1);
    const PcbFinding *x = &g_array_index(f, PcbFinding, 0);
    g_assert_cmpfloat(fabs(x->bbox.y + x->bbox.h / 2 - 112), <, 4);
    g_assert_cmpfloat(fabs(x->bbox.x + x->bbox.w / 2 - 325), <, 6);
    g_array_unref(f);
}

/* Sharpness that varies over the photo (focus falling off to one side): the left half of the
 * photo is softer than the golden, the right half as sharp. Each cell is matched on its own:
 * nothing is found. */
static void
test_blur_varies_over_photo(void)
{
    g_autoptr(PcbImage) ref = reference();
    g_autoptr(PcbImage) soft = softened(ref);
    g_autoptr(PcbImage) mixed = pcb_image_copy(ref, NULL);
    for (int y = 0; y < H; y++)
        memcpy(pcb_image_row(mixed, y), pcb_image_row(soft, y), 3 * (W / 2));
    g_autoptr(PcbImage) photo = relit(mixed, 1.0, 0, 1.0);
    g_assert_cmpuint(count_findings(ref, photo, TRUE, NULL), ==, 0);
    /* the golden is blurred on the left only: by about the camera's sigma of 1 */
    PcbDiffParams dp;
    pcb_diff_params_init(&dp);
    PcbDiffMap map;
    g_autoptr(PcbImage) work = pcb_image_copy(photo, NULL);
    g_assert_true(pcb_difference(ref, work, NULL, NULL, &dp, &map, NULL));
    g_assert_nonnull(map.priv->blur.sigma);
    double left = 0, right = 0;
    int nl = 0, nr = 0;
    for (int gy = 0; gy < map.priv->blur.rows; gy++)
        for (int gx = 0; gx < map.priv->blur.cols; gx++) {
            double s = map.priv->blur.sigma[gy * map.priv->blur.cols + gx];
            double cx = (gx + 0.5) * map.priv->blur.cell;
            if (cx < W / 2.0 - map.priv->blur.cell / 2.0) {
                left += s;
                nl++;
            }
            else if (cx > W / 2.0 + map.priv->blur.cell / 2.0) {
                right += s;
                nr++;
            }
        }
    pcb_diff_map_clear(&map);
    g_assert_cmpint(nl, >, 0);
    g_assert_cmpint(nr, >, 0);
    g_assert_cmpfloat(left / nl, >, 0.6);
    g_assert_cmpfloat(fabs(right / nr), <, 0.25);
}

/* The photometric normalisation is skipped when it would only fit differences of content (a
 * binarised pair whose traces differ in width), applied for a real change of light. */
static void
test_normalisation_only_when_it_helps(void)
{
    g_autoptr(PcbImage) ref = white_board(0, 0);
    g_autoptr(PcbImage) wider = white_board(0, 3);
    g_autoptr(PcbImage) before = pcb_image_copy(wider, NULL);
    g_autoptr(PcbImage) valid = pcb_image_new(W, H, PCB_FORMAT_GRAY8, NULL);
    for (int y = 0; y < H; y++)
        memset(pcb_image_row(valid, y), 255, W);
    pcbcv_view rv = pcb_view(ref), pv = pcb_view(wider), vv = pcb_view(valid);
    int improved = -1;
    g_assert_true(pcb_normalise_light(&rv, &pv, &vv, 40, &improved, NULL));
    g_assert_cmpint(improved, ==, 0);
    for (int y = 0; y < H; y++) /* untouched */
        g_assert_cmpmem(pcb_image_row(wider, y), 3 * W, pcb_image_row(before, y), 3 * W);

    g_autoptr(PcbImage) board = reference();
    g_autoptr(PcbImage) lit = relit(board, 1.25, 0.25, 2.0);
    rv = pcb_view(board);
    pv = pcb_view(lit);
    g_assert_true(pcb_normalise_light(&rv, &pv, &vv, 40, &improved, NULL));
    g_assert_cmpint(improved, ==, 1);
}

/* Textbook CIELab (D65) of an sRGB byte triple, in OpenCV's 8-bit scaling. */
static void
textbook_lab(const guint8 rgb[3], double out[3])
{
    double lin[3];
    for (int c = 0; c < 3; c++) {
        double v = rgb[c] / 255.0;
        lin[c] = v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    static const double m[9] = { 0.412453, 0.357580, 0.180423, 0.212671, 0.715160,
                                 0.072169, 0.019334, 0.119193, 0.950227 };
    static const double white[3] = { 0.950456, 1.0, 1.088754 };
    double f[3];
    for (int r = 0; r < 3; r++) {
        double t = (m[3 * r] * lin[0] + m[3 * r + 1] * lin[1] + m[3 * r + 2] * lin[2]) / white[r];
        f[r] = t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116;
    }
    out[0] = (116 * f[1] - 16) * 255 / 100;
    out[1] = 500 * (f[0] - f[1]) + 128;
    out[2] = 200 * (f[1] - f[2]) + 128;
}

/* The difference's own Lab conversion stays within one 8-bit step of the formula over a grid
 * of colours (rows wider than its internal chunk). */
static void
test_lab_conversion(void)
{
    const int step = 5, n = 256 / step + 1, count = n * n * n, w = 1500;
    const int h = (count + w - 1) / w;
    g_autoptr(PcbImage) rgb = pcb_image_new(w, h, PCB_FORMAT_RGB8, NULL);
    g_autoptr(PcbImage) lab = pcb_image_new(w, h, PCB_FORMAT_RGB8, NULL);
    for (int i = 0; i < count; i++) {
        guint8 *p = pcb_image_row(rgb, i / w) + 3 * (i % w);
        p[0] = (guint8) MIN(255, step * (i % n));
        p[1] = (guint8) MIN(255, step * (i / n % n));
        p[2] = (guint8) MIN(255, step * (i / n / n));
    }
    pcbcv_view rv = { rgb->width, rgb->height, 3, rgb->stride, rgb->data };
    pcbcv_view lv = { lab->width, lab->height, 3, lab->stride, lab->data };
    pcb_rgb_to_lab(&rv, &lv);
    double worst = 0;
    for (int i = 0; i < count; i++) {
        const guint8 *p = pcb_image_row(rgb, i / w) + 3 * (i % w);
        const guint8 *q = pcb_image_row(lab, i / w) + 3 * (i % w);
        double want[3];
        textbook_lab(p, want);
        for (int c = 0; c < 3; c++)
            worst = MAX(worst, fabs(q[c] - CLAMP(want[c], 0, 255)));
    }
    g_assert_cmpfloat(worst, <=, 1.0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    pcb_init(2);
    g_test_add_func("/diff/lab-conversion-matches-formula", test_lab_conversion);
    g_test_add_func("/diff/light-change-measured", test_light_change_measured);
    g_test_add_func("/diff/light-change-on-small-board", test_light_change_on_small_board);
    g_test_add_func("/diff/lighting-change-alone-gives-nothing", test_lighting_alone);
    g_test_add_func("/diff/white-board-compares-white", test_white_board);
    g_test_add_func("/diff/one-pixel-shift-gives-nothing", test_one_pixel_shift);
    g_test_add_func("/diff/added-part-on-bare-mask", test_added_part);
    g_test_add_func("/diff/removed-part", test_removed_part);
    g_test_add_func("/diff/sticker-on-part-top-found", test_sticker_on_part_top);
    g_test_add_func("/diff/large-module-over-parts-found", test_large_module_over_parts);
    g_test_add_func("/diff/large-module-found-by-lost-texture", test_large_module_by_lost_texture);
    g_test_add_func("/diff/part-near-board-colour-is-added", test_part_near_board_colour);
    g_test_add_func("/diff/dark-tint-is-no-change", test_dark_tint);
    g_test_add_func("/diff/ignore-region-suppresses", test_ignore_region);
    g_test_add_func("/diff/zone-is-reported", test_zone_named);
    g_test_add_func("/diff/shifted-edges-explained", test_shifted_edges_explained);
    g_test_add_func("/diff/thin-scratch-found", test_thin_scratch_found);
    g_test_add_func("/diff/grown-traces-are-not-strokes", test_grown_traces_not_strokes);
    g_test_add_func("/diff/clipped-pixels-left-out-within-reach", test_clipped_reach);
    g_test_add_func("/diff/clipped-part-on-dark-board-compared", test_clipped_part_on_dark_board);
    g_test_add_func("/diff/saturated-sticker-found", test_saturated_sticker_found);
    g_test_add_func("/diff/saturated-mark-clipped-in-one-only", test_saturated_mark_clipped_in_one);
    g_test_add_func("/diff/blur-matched-marking-found", test_blur_matched);
    g_test_add_func("/diff/blur-varies-over-photo", test_blur_varies_over_photo);
    g_test_add_func("/diff/normalisation-only-when-it-helps",
                    test_normalisation_only_when_it_helps);
    return g_test_run();
}
