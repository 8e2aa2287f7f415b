/* The findings stage's parallax test, through pcb_findings_extract on hand-made scenes: a tall
 * part whose top the photo shows displaced along the parallax direction is no finding, nor are
 * pin tips displaced between pixels; a part
 * added on flat board is one, also right beside a tall part; a tall part whose top moved out
 * of the photo's view is none; without a valid parallax field nothing changes. */
#include <math.h>
#include <string.h>
#include "testutil.h"

#define W     240
#define H     180
#define PPM   12.7 /* px per mm: an 0603 body (1.6 x 0.8 mm) is about 22 x 12 px */
#define MOVE  8    /* the tall part's top appears this far along u in the photo, px */
#define NOISE 3.0  /* the images' noise, grey levels */
#define DIFF  25   /* a pixel differs by more than this in some channel: score 12 sigma */

static const guint8 BOARD[3] = { 34, 96, 50 };    /* bare solder mask */
static const guint8 COPPER[3] = { 190, 160, 90 }; /* pads */
static const guint8 SILK[3] = { 225, 225, 220 };  /* silkscreen */
static const guint8 BODY[3] = { 38, 38, 44 };     /* a part's dark top */
static const guint8 MARKING[3] = { 160, 160, 165 };
static const guint8 SIDE[3] = { 70, 66, 60 };   /* a part's side face */
static const guint8 ADDED[3] = { 28, 26, 30 };  /* the body of an added 0603 */
static const guint8 PIN[3] = { 235, 205, 130 }; /* a gold pin tip */

/* The tall part: its top in the reference, px. */
enum { PART_X = 100, PART_Y = 80, PART_W = 40, PART_H = 30 };

static void
fill(PcbImage *img, int x0, int y0, int w, int h, const guint8 *v)
{
    for (int y = MAX(0, y0); y < MIN(img->height, y0 + h); y++)
        for (int x = MAX(0, x0); x < MIN(img->width, x0 + w); x++)
            memcpy(pcb_image_row(img, y) + 3 * x, v, 3);
}

/* A textured bare board: pads and silkscreen strokes at seeded places. */
static PcbImage *
board(guint32 seed)
{
    PcbImage *img = pcb_image_new(W, H, PCB_FORMAT_RGB8, NULL);
    g_assert_nonnull(img);
    fill(img, 0, 0, W, H, BOARD);
    g_autoptr(GRand) rng = g_rand_new_with_seed(seed);
    for (int i = 0; i < 140; i++) {
        int x = g_rand_int_range(rng, 0, W), y = g_rand_int_range(rng, 0, H);
        if (i % 3 == 0)
            fill(img, x, y, g_rand_int_range(rng, 6, 14), 2, SILK);
        else
            fill(img, x, y, g_rand_int_range(rng, 3, 7), g_rand_int_range(rng, 3, 7), COPPER);
    }
    return img;
}

/* The tall part's top, its top-left corner at @x, @y: a dark body with markings. */
static void
part_top_at(PcbImage *img, int x, int y, guint32 seed)
{
    fill(img, x, y, PART_W, PART_H, BODY);
    g_autoptr(GRand) rng = g_rand_new_with_seed(seed);
    for (int i = 0; i < 14; i++)
        fill(img, x + g_rand_int_range(rng, 2, PART_W - 6),
             y + g_rand_int_range(rng, 2, PART_H - 4), g_rand_int_range(rng, 2, 5),
             g_rand_int_range(rng, 2, 4), MARKING);
}

static void
part_top(PcbImage *img, int x, guint32 seed)
{
    part_top_at(img, x, PART_Y, seed);
}

/* A @w x @h square of @v whose top-left corner lies at (@x0, @y0), between pixels: each pixel
 * mixes @v with what is there by the share of it the square covers (a camera's area sampling). */
static void
fill_between(PcbImage *img, double x0, double y0, double w, double h, const guint8 *v)
{
    for (int y = MAX(0, (int) floor(y0)); y < MIN(img->height, (int) ceil(y0 + h)); y++)
        for (int x = MAX(0, (int) floor(x0)); x < MIN(img->width, (int) ceil(x0 + w)); x++) {
            double cx = MIN(x + 1, x0 + w) - MAX(x, x0), cy = MIN(y + 1, y0 + h) - MAX(y, y0);
            double share = MAX(0, cx) * MAX(0, cy);
            guint8 *p = pcb_image_row(img, y) + 3 * x;
            for (int c = 0; c < 3; c++)
                p[c] = (guint8) lround(p[c] + share * (v[c] - p[c]));
        }
}

static void
add_noise(PcbImage *img, guint32 seed)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(seed);
    for (int y = 0; y < H; y++) {
        guint8 *row = pcb_image_row(img, y);
        for (int i = 0; i < 3 * W; i++)
            row[i] = (guint8) CLAMP(lround(row[i] + NOISE * (g_rand_double(rng) * 2 - 1) * 1.7), 0,
                                    255);
    }
}

/* A scene: the reference, the photo in the reference frame, and what the test adds. */
typedef struct {
    PcbImage *ref, *photo;
} Scene;

static void
scene_clear(Scene *s)
{
    g_clear_pointer(&s->ref, pcb_image_free);
    g_clear_pointer(&s->photo, pcb_image_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Scene, scene_clear)

/* The same flat board in both images (findings() adds independent noise to each). */
static void
scene_flat(Scene *s)
{
    s->ref = board(11);
    s->photo = board(11);
}

/* The tall part: the reference sees its top from straight above; the photo, from another
 * pose, sees the top moved by MOVE px along +x (the board it hid there is gone from view) and
 * the side face between the foot and the top. */
static void
scene_tall_part(Scene *s)
{
    part_top(s->ref, PART_X, 5);
    fill(s->photo, PART_X, PART_Y, MOVE, PART_H, SIDE);
    part_top(s->photo, PART_X + MOVE, 5);
}

/* A pin header: a dark body on the board and a row of 4 pin tips 2.54 mm apart, 1 mm square
 * with their shoulders, standing tall: the photo sees the tips moved by @move px along +x and 0.4
 * px across it (the registration's residual), both between pixels. */
static void
scene_pin_header(Scene *s, double move)
{
    const double pitch = 2.54 * PPM, side = 1.0 * PPM;
    fill(s->ref, 40, 120, (int) (4 * pitch), 30, BODY);
    fill(s->photo, 40, 120, (int) (4 * pitch), 30, BODY);
    for (int i = 0; i < 4; i++) {
        const double x = 40 + 0.5 * pitch + i * pitch - side / 2, y = 135.25 - side / 2;
        fill_between(s->ref, x, y, side, side, PIN);
        fill_between(s->photo, x + move, y + 0.4, side, side, PIN);
    }
}

/* Fine copper lines on the board (both images), and the photo's @w x @h area at @x, @y over
 * them painted brown, each pixel as light as it was: a change of colour (a coat, a part's
 * body) that keeps the board's luminance structure. */
static void
scene_recoloured(Scene *s, int x0, int y0, int w, int h)
{
    for (int x = x0 - 20; x < x0 + w + 20; x += 5) {
        fill(s->ref, x, y0 - 20, 2, h + 40, COPPER);
        fill(s->photo, x, y0 - 20, 2, h + 40, COPPER);
    }
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            guint8 *p = pcb_image_row(s->photo, y) + 3 * x;
            const double luma = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            const double brown[3] = { 1.5, 0.8, 0.55 }; /* luma 0.98 */
            for (int c = 0; c < 3; c++)
                p[c] = (guint8) CLAMP(lround(luma * brown[c] / 0.98), 0, 255);
        }
}

/* An added 0603-like body (12 x 22 px) in the photo at @x, @y. */
static void
scene_added(Scene *s, int x, int y)
{
    fill(s->photo, x, y, 12, 22, ADDED);
}

/* The hand-made score: 12 sigma where the images differ. */
static PcbImage *
score_of(const PcbImage *ref, const PcbImage *photo)
{
    PcbImage *score = pcb_image_new(W, H, PCB_FORMAT_GRAY8, NULL);
    g_assert_nonnull(score);
    for (int y = 0; y < H; y++) {
        const guint8 *a = pcb_image_row(ref, y), *b = pcb_image_row(photo, y);
        guint8 *o = pcb_image_row(score, y);
        for (int x = 0; x < W; x++) {
            int d = 0;
            for (int c = 0; c < 3; c++)
                d = MAX(d, ABS(a[3 * x + c] - b[3 * x + c]));
            o[x] = d > DIFF ? (guint8) (12 * PCB_DIFF_UNIT) : 0;
        }
    }
    return score;
}

/* A field that moves raised points along +x (or -x) everywhere, up to 1.2 * 10 mm * 1 px/mm
 * + 2 px = 14 px (pcb_parallax_at). */
static PcbParallax
field(double dir)
{
    PcbParallax p = { 0 };
    p.valid = TRUE;
    p.seen = TRUE;
    p.metric = TRUE;
    p.a = 0;
    p.bx = dir;
    p.by = 0;
    p.max_height = 10;
    p.max_px = 12;
    return p;
}

/* The findings of @s (noise added here) with @parallax (NULL: none), the photo covering the
 * reference left of x = @cover_x only (black and not valid beyond, as a warp leaves it); only
 * the region logic and the parallax test (the shift and light filters off). */
static GArray *
findings_covered(Scene *s, const PcbParallax *parallax, int cover_x)
{
    g_autoptr(PcbImage) ref = pcb_image_copy(s->ref, NULL);
    g_autoptr(PcbImage) photo = pcb_image_copy(s->photo, NULL);
    add_noise(ref, 1);
    add_noise(photo, 2);
    PcbDiffMap map = { 0 };
    map.valid = pcb_image_new(W, H, PCB_FORMAT_GRAY8, NULL);
    for (int y = 0; y < H; y++) {
        memset(pcb_image_row(map.valid, y), 255, cover_x);
        memset(pcb_image_row(map.valid, y) + cover_x, 0, W - cover_x);
        memset(pcb_image_row(photo, y) + 3 * cover_x, 0, 3 * (W - cover_x));
    }
    map.score = score_of(ref, photo);
    for (int y = 0; y < H; y++)
        memset(pcb_image_row(map.score, y) + cover_x, 0, W - cover_x);
    map.ref = ref;
    map.photo = photo;
    map.scale = 1;
    for (int c = 0; c < 3; c++)
        map.noise[c] = NOISE;
    map.radius = 1;
    map.one_way = 0.5;
    PcbFindingsParams params;
    pcb_findings_params_init(&params);
    params.max_shift_px = 0;
    params.min_unexplained = 0;
    g_autoptr(GError) error = NULL;
    GArray *f = pcb_findings_extract(&map, NULL, PPM, parallax, &params, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f);
    pcb_diff_map_clear(&map);
    return f;
}

static GArray *
findings(Scene *s, const PcbParallax *parallax)
{
    return findings_covered(s, parallax, W);
}

/* The share of the box @x, @y, @w, @h that finding @i's box covers, and its area over the
 * box's (how much more it takes in). */
static double
covers(GArray *f, guint i, double x, double y, double w, double h, double *more)
{
    const PcbRect *b = &g_array_index(f, PcbFinding, i).bbox;
    g_test_message("finding %u: %.0f,%.0f %.0fx%.0f", i, b->x, b->y, b->w, b->h);
    double ix = MIN(b->x + b->w, x + w) - MAX(b->x, x);
    double iy = MIN(b->y + b->h, y + h) - MAX(b->y, y);
    *more = b->w * b->h / (w * h);
    return MAX(0, ix) * MAX(0, iy) / (w * h);
}

static void
test_tall_part_explained(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_tall_part(&s);
    g_autoptr(GArray) flat = findings(&s, NULL);
    g_assert_cmpuint(flat->len, >, 0); /* without parallax, the moved top is a change */
    const PcbParallax p = field(1);
    g_autoptr(GArray) f = findings(&s, &p);
    g_assert_cmpuint(f->len, ==, 0);
}

/* Pin tips moved by a fraction of a pixel more than a whole displacement, and a little across
 * the parallax direction: their steep edges differ by much between pixels, which the
 * sampling-insensitive cost allows for (without it each tip is a finding). */
static void
test_pin_tips_between_pixels_explained(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_pin_header(&s, 6.5);
    g_autoptr(GArray) flat = findings(&s, NULL);
    g_assert_cmpuint(flat->len, >, 0);
    const PcbParallax p = field(1);
    g_autoptr(GArray) f = findings(&s, &p);
    g_assert_cmpuint(f->len, ==, 0);
}

static void
test_against_field_not_explained(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_tall_part(&s);
    const PcbParallax p = field(-1); /* raised points would move along -x: not what happened */
    g_autoptr(GArray) f = findings(&s, &p);
    g_assert_cmpuint(f->len, >, 0);
}

static void
test_added_part_found(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_added(&s, 60, 40);
    const PcbParallax p = field(1);
    g_autoptr(GArray) f = findings(&s, &p);
    g_assert_cmpuint(f->len, ==, 1);
    double more, share = covers(f, 0, 60, 40, 12, 22, &more);
    g_assert_cmpfloat(share, >=, 0.9);
    g_assert_cmpfloat(more, <=, 1.5);
}

/* Under the golden's light a change of colour that keeps the luminance structure (a brown
 * body as light as the board it covers) matches where it is in zn: no displacement explains
 * it. */
static void
test_recoloured_in_place_found(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_recoloured(&s, 60, 40, 26, 16);
    const PcbParallax p = field(1);
    g_autoptr(GArray) f = findings(&s, &p);
    g_assert_cmpuint(f->len, ==, 1);
    double more, share = covers(f, 0, 60, 40, 26, 16, &more);
    g_assert_cmpfloat(share, >=, 0.9);
    g_assert_cmpfloat(more, <=, 1.5);
}

static void
test_added_beside_tall_part_found(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_tall_part(&s);
    /* 3 px beyond where the top moved to, on the side it moves to */
    const int x = PART_X + PART_W + MOVE + 3, y = PART_Y + 4;
    scene_added(&s, x, y);
    const PcbParallax p = field(1);
    g_autoptr(GArray) f = findings(&s, &p);
    g_assert_cmpuint(f->len, ==, 1);
    /* the finding covers the added part and is cut down from the region that merged it with
     * the tall part's difference (a halo of the window and the normalisation stays) */
    double more, share = covers(f, 0, x, y, 12, 22, &more);
    g_assert_cmpfloat(share, >=, 0.9);
    g_assert_cmpfloat(more, <=, 3);
}

/* A tall part off the golden's centre: the golden sees its top at (GOLDEN_X, PART_Y) and its
 * side facing the centre (GOLDEN_SIDE px wide, to the right); the photo, from another pose,
 * sees the top moved by MOVE px along +y and the board where the golden saw the side. */
enum { GOLDEN_X = 20, GOLDEN_SIDE = 10 };
#define GOLDEN_FOCAL                                                           \
    700.0 /* px: a point 8 mm up, 50-60 px left of the centre, appears 8-10 px \
             further out in the golden (12.7 px/mm) */

static void
scene_golden_side(Scene *s)
{
    part_top_at(s->ref, GOLDEN_X, PART_Y, 7);
    fill(s->ref, GOLDEN_X + PART_W, PART_Y, GOLDEN_SIDE, PART_H, SIDE);
    part_top_at(s->photo, GOLDEN_X, PART_Y + MOVE, 7);
}

/* The golden's view of a tall part's side hides board that the photo sees: with the golden's
 * own parallax known (the pose), that side is painted into the swept band and excused; without
 * it, it is a finding. */
static void
test_golden_side_excused(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_golden_side(&s);
    PcbParallax p = field(0);
    p.by = 1; /* raised points move along +y, 1 px per mm */
    g_autoptr(GArray) without = findings(&s, &p);
    g_assert_cmpuint(without->len, >, 0);
    p.pose_valid = TRUE;
    p.focal_px = GOLDEN_FOCAL;
    g_autoptr(GArray) with = findings(&s, &p);
    g_assert_cmpuint(with->len, ==, 0);
}

/* A tall part at the edge of the photo's view: the photo shows its side face, and its top
 * moved out of view. The reference's top there has no counterpart the photo could show, and
 * the band its move sweeps cannot be found: out of view, not a change. A part added on the
 * board away from that edge is still found. */
static void
test_out_of_view_excused(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_tall_part(&s);
    scene_added(&s, 30, 20);
    const PcbParallax p = field(1);
    g_autoptr(GArray) f = findings_covered(&s, &p, PART_X + PART_W);
    g_assert_cmpuint(f->len, ==, 1);
    double more, share = covers(f, 0, 30, 20, 12, 22, &more);
    g_assert_cmpfloat(share, >=, 0.9);
    g_assert_cmpfloat(more, <=, 1.5);
}

/* The findings of two runs are the same, box for box. */
static void
assert_same(GArray *a, GArray *b)
{
    g_assert_cmpuint(a->len, ==, b->len);
    for (guint i = 0; i < a->len; i++) {
        const PcbFinding *x = &g_array_index(a, PcbFinding, i);
        const PcbFinding *y = &g_array_index(b, PcbFinding, i);
        g_assert_cmpmem(&x->bbox, sizeof x->bbox, &y->bbox, sizeof y->bbox);
        g_assert_cmpfloat(x->area_px, ==, y->area_px);
        g_assert_cmpfloat(x->score, ==, y->score);
        g_assert_cmpint(x->kind, ==, y->kind);
    }
}

static void
test_invalid_parallax_changes_nothing(void)
{
    g_auto(Scene) s = { 0 };
    scene_flat(&s);
    scene_tall_part(&s);
    scene_added(&s, 30, 20);
    PcbParallax p = field(1);
    p.valid = FALSE;
    g_autoptr(GArray) none = findings(&s, NULL);
    g_autoptr(GArray) invalid = findings(&s, &p);
    g_assert_cmpuint(none->len, >=, 2);
    assert_same(none, invalid);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/parallax-test/tall-part-explained", test_tall_part_explained);
    g_test_add_func("/parallax-test/pin-tips-between-pixels-explained",
                    test_pin_tips_between_pixels_explained);
    g_test_add_func("/parallax-test/move-against-the-field-not-explained",
                    test_against_field_not_explained);
    g_test_add_func("/parallax-test/added-part-found", test_added_part_found);
    g_test_add_func("/parallax-test/golden-side-excused", test_golden_side_excused);
    g_test_add_func("/parallax-test/recoloured-in-place-found", test_recoloured_in_place_found);
    g_test_add_func("/parallax-test/added-beside-tall-part-found",
                    test_added_beside_tall_part_found);
    g_test_add_func("/parallax-test/out-of-view-excused", test_out_of_view_excused);
    g_test_add_func("/parallax-test/invalid-parallax-changes-nothing",
                    test_invalid_parallax_changes_nothing);
    return g_test_run();
}
