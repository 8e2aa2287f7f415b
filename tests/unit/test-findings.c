/* Findings from hand-made difference maps: regions, merging, size filter, kind, score, zone and
 * the change-of-light filter, through pcb_findings_extract on a PcbDiffMap built here. */
#include <math.h>
#include <string.h>
#include "testutil.h"

#define W    96
#define H    64
#define PPM  8.0 /* px per mm: merge_mm 1.5 -> 12 px, min_area_mm2 0.2 -> 12.8 px */
#define WEAK 0   /* the score's background */

static const guint8 BOARD[3] = { 34, 96, 50 }; /* bare solder mask */
static const guint8 PART[3] = { 30, 30, 32 };  /* a dark IC body */

/* A difference map over @score and the two images. The only code that knows PcbDiffMap's
 * layout (its private fields may move): the map takes @score and @valid, borrows @ref and
 * @photo; pcb_diff_map_clear frees what it took. Working px = reference px * 1 / @scale. */
static void
make_map(PcbDiffMap *map, PcbImage *score, const PcbImage *ref, const PcbImage *photo,
         PcbImage *valid, double scale)
{
    memset(map, 0, sizeof *map);
    map->score = score;
    map->ref = ref;
    map->photo = photo;
    map->valid = valid;
    map->scale = scale;
    for (int c = 0; c < 3; c++)
        map->noise[c] = 1.0;
    map->radius = 1;
    map->one_way = 0.5;
}

static PcbImage *
image(PcbFormat format, const guint8 *fill)
{
    PcbImage *img = pcb_image_new(W, H, format, NULL);
    g_assert_nonnull(img);
    int n = format == PCB_FORMAT_RGB8 ? 3 : 1;
    for (int y = 0; y < H; y++) {
        guint8 *row = pcb_image_row(img, y);
        for (int x = 0; x < W; x++)
            memcpy(row + n * x, fill, (size_t) n);
    }
    return img;
}

/* Fills a rectangle of @img (1 or 3 channels) with @v. */
static void
fill(PcbImage *img, int x0, int y0, int w, int h, const guint8 *v)
{
    int n = img->format == PCB_FORMAT_RGB8 ? 3 : 1;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            memcpy(pcb_image_row(img, y) + n * x, v, (size_t) n);
}

/* A score rectangle of @sigma noise sigmas. */
static void
blob(PcbImage *score, int x0, int y0, int w, int h, double sigma)
{
    guint8 v = (guint8) CLAMP(sigma * PCB_DIFF_UNIT, 0, 255);
    fill(score, x0, y0, w, h, &v);
}

/* One test's images: bare board in both, nothing different, everything valid; the noise
 * sigma per channel (0: make_map's). */
typedef struct {
    PcbImage *score, *ref, *photo, *valid;
    double noise;
} Maps;

static void
maps_init(Maps *m)
{
    const guint8 zero = WEAK, full = 255;
    m->score = image(PCB_FORMAT_GRAY8, &zero);
    m->ref = image(PCB_FORMAT_RGB8, BOARD);
    m->photo = image(PCB_FORMAT_RGB8, BOARD);
    m->valid = image(PCB_FORMAT_GRAY8, &full);
    m->noise = 0;
}

/* The findings of @m (whose score and valid the map takes) at @scale, the light on the parts
 * differing @light times over the images' noise (0: not measured). */
static GArray *
extract_lit(Maps *m, double scale, double light, const PcbBoard *board,
            const PcbFindingsParams *params)
{
    PcbDiffMap map;
    make_map(&map, g_steal_pointer(&m->score), m->ref, m->photo, g_steal_pointer(&m->valid), scale);
    map.light_change = light;
    for (int c = 0; m->noise > 0 && c < 3; c++)
        map.noise[c] = m->noise;
    g_autoptr(GError) error = NULL;
    GArray *f = pcb_findings_extract(&map, board, PPM, NULL, params, &error);
    g_assert_no_error(error);
    g_assert_nonnull(f);
    pcb_diff_map_clear(&map);
    g_clear_pointer(&m->ref, pcb_image_free);
    g_clear_pointer(&m->photo, pcb_image_free);
    return f;
}

static GArray *
extract(Maps *m, double scale, const PcbBoard *board, const PcbFindingsParams *params)
{
    return extract_lit(m, scale, 0, board, params);
}

/* Only the region logic: the shift and light filters off. */
static void
regions_only(PcbFindingsParams *p)
{
    pcb_findings_params_init(p);
    p->max_shift_px = 0;
    p->min_unexplained = 0;
}

static const PcbFinding *
at(GArray *f, guint i)
{
    return &g_array_index(f, PcbFinding, i);
}

static void
test_empty_map(void)
{
    Maps m;
    maps_init(&m);
    g_autoptr(GArray) f = extract(&m, 1, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 0);
}

/* One 10 x 8 px blob at (20, 10) of a map at @scale (reference px per working px). */
static GArray *
one_blob(double scale)
{
    PcbFindingsParams p;
    regions_only(&p);
    Maps m;
    maps_init(&m);
    blob(m.score, 20, 10, 10, 8, 12);
    GArray *f = extract(&m, scale, NULL, &p);
    g_assert_cmpuint(f->len, ==, 1);
    return f;
}

static void
assert_box(const PcbFinding *a, double x, double y, double w, double h, double area)
{
    g_assert_cmpfloat_with_epsilon(a->bbox.x, x, 1e-9);
    g_assert_cmpfloat_with_epsilon(a->bbox.y, y, 1e-9);
    g_assert_cmpfloat_with_epsilon(a->bbox.w, w, 1e-9);
    g_assert_cmpfloat_with_epsilon(a->bbox.h, h, 1e-9);
    g_assert_cmpfloat_with_epsilon(a->area_px, area, 1e-9);
}

static void
test_one_blob(void)
{
    g_autoptr(GArray) f = one_blob(1);
    const PcbFinding *a = at(f, 0);
    assert_box(a, 20, 10, 10, 8, 80);
    g_assert_cmpfloat_with_epsilon(a->area_mm2, 80 / (PPM * PPM), 1e-9);
    g_assert_cmpfloat_with_epsilon(a->peak, 12, 0.1);
    g_assert_null(a->zone);
}

/* At half resolution (scale 2) the box and the area come back in reference pixels. */
static void
test_box_in_reference_px(void)
{
    g_autoptr(GArray) f = one_blob(2);
    assert_box(at(f, 0), 40, 20, 20, 16, 320);
}

/* A region must reach high_sigma somewhere: a weak blob (between low and high) is none. */
static void
test_weak_blob_ignored(void)
{
    PcbFindingsParams p;
    regions_only(&p);
    Maps m;
    maps_init(&m);
    blob(m.score, 20, 10, 10, 8, 0.5 * (p.low_sigma + p.high_sigma));
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    g_assert_cmpuint(f->len, ==, 0);
}

/* Two fragments @gap px apart: the number of findings. */
static guint
fragments(int gap)
{
    PcbFindingsParams p;
    regions_only(&p);
    Maps m;
    maps_init(&m);
    blob(m.score, 10, 20, 8, 6, 12);
    blob(m.score, 18 + gap, 20, 8, 6, 12);
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    if (f->len == 1) { /* merged: one box over both, the areas added */
        const PcbFinding *a = at(f, 0);
        g_assert_cmpfloat_with_epsilon(a->bbox.x, 10, 1e-9);
        g_assert_cmpfloat_with_epsilon(a->bbox.w, 16 + gap, 1e-9);
        g_assert_cmpfloat_with_epsilon(a->area_px, 96, 1e-9);
    }
    return f->len;
}

static void
test_close_fragments_merge(void)
{
    g_assert_cmpuint(fragments(6), ==, 1); /* 6 px = 0.75 mm < merge_mm */
}

static void
test_far_fragments_stay_apart(void)
{
    g_assert_cmpuint(fragments(40), ==, 2); /* 5 mm */
}

static void
test_small_blob_dropped(void)
{
    PcbFindingsParams p;
    regions_only(&p);
    p.min_area_mm2 = 0.5; /* 32 px at 8 px/mm */
    Maps m;
    maps_init(&m);
    blob(m.score, 10, 10, 5, 5, 20);  /* 25 px: too small */
    blob(m.score, 60, 30, 7, 7, 12);  /* 49 px: kept */
    blob(m.score, 10, 50, 30, 2, 20); /* 60 px but 2 px thin: a sliver */
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    g_assert_cmpuint(f->len, ==, 1);
    g_assert_cmpfloat_with_epsilon(at(f, 0)->bbox.x, 60, 1e-9);
}

/* A small part whose blurred rim stays below the low threshold: 28 changed pixels in an 8 x 5
 * box (under the 32 px least area pixel by pixel, 40 px by its box) is kept; an outline of as
 * many pixels (an edge that moved all around, 8 x 8, filling under half of its box) is not. */
static void
test_compact_part_counts_its_box(void)
{
    PcbFindingsParams p;
    regions_only(&p);
    p.min_area_mm2 = 0.5; /* 32 px at 8 px/mm */
    Maps m;
    maps_init(&m);
    blob(m.score, 20, 11, 8, 3, 20); /* the part: 24 px ... */
    blob(m.score, 23, 10, 2, 1, 20); /* ... and 2 px of its rim above and below */
    blob(m.score, 23, 14, 2, 1, 20);
    blob(m.score, 60, 40, 8, 1, 20); /* the outline: 28 px */
    blob(m.score, 60, 47, 8, 1, 20);
    blob(m.score, 60, 41, 1, 6, 20);
    blob(m.score, 67, 41, 1, 6, 20);
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    g_assert_cmpuint(f->len, ==, 1);
    g_assert_cmpfloat_with_epsilon(at(f, 0)->bbox.x, 20, 1e-9);
    g_assert_cmpfloat_with_epsilon(at(f, 0)->bbox.w, 8, 1e-9);
}

/* A marking rewritten on a blurred photo: strokes of which only two reach the high threshold
 * (15 px each, merged: 30 px, under the 32 px least area) and one between them, apart, does
 * not (15 px): counted with the box's changed pixels (45 px) it is kept; without that
 * stroke it is not. Neither fills half of its 15 x 5 px box. */
static guint
strokes(gboolean weak_between)
{
    PcbFindingsParams p;
    regions_only(&p);
    p.min_area_mm2 = 0.5; /* 32 px at 8 px/mm */
    Maps m;
    maps_init(&m);
    blob(m.score, 20, 20, 3, 5, 12);
    blob(m.score, 32, 20, 3, 5, 12);
    if (weak_between)
        blob(m.score, 26, 20, 3, 5, 0.5 * (p.low_sigma + p.high_sigma));
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    if (f->len == 1) {
        g_assert_cmpfloat_with_epsilon(at(f, 0)->bbox.x, 20, 1e-9);
        g_assert_cmpfloat_with_epsilon(at(f, 0)->bbox.w, 15, 1e-9);
    }
    return f->len;
}

static void
test_strokes_count_their_box(void)
{
    g_assert_cmpuint(strokes(TRUE), ==, 1);
    g_assert_cmpuint(strokes(FALSE), ==, 0);
}

/* The findings of a part at (40, 24), 12 x 8 px, in @ref_col in the reference and @photo_col in
 * the photo (NULL: bare board), scored where the two differ, under light @light (0: not
 * measured). @params NULL: the defaults. */
static GArray *
change_at(const guint8 *ref_col, const guint8 *photo_col, double light,
          const PcbFindingsParams *params)
{
    Maps m;
    maps_init(&m);
    if (ref_col != NULL)
        fill(m.ref, 40, 24, 12, 8, ref_col);
    if (photo_col != NULL)
        fill(m.photo, 40, 24, 12, 8, photo_col);
    blob(m.score, 40, 24, 12, 8, 15);
    return extract_lit(&m, 1, light, NULL, params);
}

/* The kind of change_at's one finding. */
static PcbKind
kind_of(const guint8 *ref_col, const guint8 *photo_col, const PcbFindingsParams *params)
{
    g_autoptr(GArray) f = change_at(ref_col, photo_col, 0, params);
    g_assert_cmpuint(f->len, ==, 1);
    return at(f, 0)->kind;
}

static void
test_kind_added(void)
{
    g_assert_cmpint(kind_of(NULL, PART, NULL), ==, PCB_KIND_ADDED);
    g_assert_cmpstr(pcb_kind_name(PCB_KIND_ADDED), ==, "added");
}

static void
test_kind_removed(void)
{
    g_assert_cmpint(kind_of(PART, NULL, NULL), ==, PCB_KIND_REMOVED);
    g_assert_cmpstr(pcb_kind_name(PCB_KIND_REMOVED), ==, "removed");
}

/* kind_of with the light filter off: a per-channel gain and offset over the box and its ring
 * explains two thirds of a uniform recolouring this small, and drops it. */
static PcbKind
kind_of_unlit(const guint8 *ref_col, const guint8 *photo_col)
{
    PcbFindingsParams p;
    pcb_findings_params_init(&p);
    p.min_unexplained = 0;
    return kind_of(ref_col, photo_col, &p);
}

static void
test_kind_altered(void)
{
    /* a part recoloured, as far from the board colour as before (60 levels): neither added
     * nor removed */
    const guint8 before[3] = { 94, 96, 50 }, after[3] = { 34, 96, 110 };
    g_assert_cmpint(kind_of_unlit(before, after), ==, PCB_KIND_ALTERED);
    g_assert_cmpstr(pcb_kind_name(PCB_KIND_ALTERED), ==, "altered");
}

/* A light grey part recoloured nearer the board's colour but still off it, its outline stepping
 * two thirds as sharply: most of its changed pixels move towards the board, which once read
 * as a part taken off; a part in both images with its outline in both was altered in place. A
 * part taken off leaves bare board. */
static void
test_kind_altered_in_place(void)
{
    const guint8 before[3] = { 150, 150, 150 }, after[3] = { 100, 150, 110 };
    g_assert_cmpint(kind_of_unlit(before, after), ==, PCB_KIND_ALTERED);
    g_assert_cmpint(kind_of_unlit(before, NULL), ==, PCB_KIND_REMOVED);
}

static const guint8 BODY[3] = { 60, 60, 64 };   /* an IC's grey body */
static const guint8 INK[3] = { 200, 200, 196 }; /* its marking */

/* @m with an IC's body at @x, @y (@w x @h px) in both images. */
static void
maps_with_body(Maps *m, int x, int y, int w, int h)
{
    maps_init(m);
    fill(m->ref, x, y, w, h, BODY);
    fill(m->photo, x, y, w, h, BODY);
}

/* The findings of @m at scale 4 (8 mm is 16 working px at 8 px/mm), the region logic only. */
static GArray *
extract_on_body(Maps *m)
{
    PcbFindingsParams p;
    regions_only(&p);
    return extract(m, 4, NULL, &p);
}

/* A marking rewritten on an IC's body (48 x 32 px, the board around it): a stroke gone, another
 * new, inside the body. The body's colour holds each side of the ring around the change and
 * ends within reach (8 mm) of it: the change is on a part, neither put on nor taken off. A part
 * put on the board beside the body stays added. */
static void
test_kind_on_part_altered(void)
{
    Maps m;
    maps_with_body(&m, 24, 16, 48, 32);
    fill(m.ref, 40, 26, 2, 13, INK);   /* the old stroke */
    fill(m.photo, 50, 26, 2, 13, INK); /* the new one */
    blob(m.score, 38, 24, 16, 16, 15);
    fill(m.photo, 80, 26, 8, 8, PART); /* a part put on the board beside the body */
    blob(m.score, 80, 26, 8, 8, 15);
    g_autoptr(GArray) f = extract_on_body(&m);
    g_assert_cmpuint(f->len, ==, 2);
    for (guint i = 0; i < f->len; i++)
        g_assert_cmpint(at(f, i)->kind, ==,
                        (at(f, i)->bbox.x < 70 * 4 ? PCB_KIND_ALTERED : PCB_KIND_ADDED));
}

/* A marking written on an IC's body, three strokes of which only the middle one reaches the high
 * threshold (15 sigma; the others 5, over the low one): each stroke its own region, the two
 * weak ones no finding. On a part's body the strong one spreads over the changed pixels of the
 * body's box, and the finding holds the whole marking. */
static void
test_marking_spreads_over_part(void)
{
    Maps m;
    maps_with_body(&m, 30, 18, 30, 28);
    for (int k = 0; k < 3; k++) {
        fill(m.photo, 36 + 8 * k, 26, 2, 13, INK);
        blob(m.score, 36 + 8 * k, 26, 2, 13, k == 1 ? 15 : 5);
    }
    g_autoptr(GArray) f = extract_on_body(&m);
    g_assert_cmpuint(f->len, ==, 1);
    g_assert_cmpint(at(f, 0)->kind, ==, PCB_KIND_ALTERED);
    g_assert_cmpfloat(at(f, 0)->bbox.x, ==, 36 * 4);
    g_assert_cmpfloat(at(f, 0)->bbox.w, ==, 18 * 4);
}

/* A small part added on a patch of board beside a large grey or black part (a socket's body):
 * the socket takes most of the ring around the finding (228 px against the board's 156), but a
 * solder mask is tinted, and the board is the part's background. (Taking the ring's commonest
 * colour, the board was the socket, and the new part, nearer to it than to the board it
 * covers, read as altered or removed; a black body, in the coarse histogram's first cell, once
 * hid the tinted colour from the search.) */
static void
test_kind_added_beside_grey_part(void)
{
    const guint8 sockets[2][3] = { { 58, 58, 60 }, { 6, 6, 8 } };
    for (int s = 0; s < 2; s++) {
        Maps m;
        maps_init(&m);
        for (int i = 0; i < 2; i++) {
            PcbImage *img = i == 0 ? m.ref : m.photo;
            fill(img, 30, 0, W - 30, H, sockets[s]);
            fill(img, 37, 21, 18, 14, BOARD); /* the patch of board the part goes on */
        }
        fill(m.photo, 40, 24, 12, 8, PART);
        blob(m.score, 40, 24, 12, 8, 15);
        g_autoptr(GArray) f = extract(&m, 1, NULL, NULL);
        g_assert_cmpuint(f->len, ==, 1);
        g_assert_cmpint(at(f, 0)->kind, ==, PCB_KIND_ADDED);
    }
}

/* A black part put on a black board over white silkscreen: the part hides more silkscreen (two
 * strokes, 32 px) than its leads show (16 px), so most changed pixels move to the board's
 * colour, as if a part had gone. But the silkscreen runs on beyond the part in both images,
 * across the changed area's outline, and only the photo steps across that outline (the
 * strokes cut off at the part's edge, the leads): added, where the pixel moves alone said
 * removed. */
static void
test_kind_added_over_silkscreen(void)
{
    const guint8 black[3] = { 12, 12, 14 }, white[3] = { 220, 220, 220 },
                 lead[3] = { 200, 200, 190 };
    Maps m;
    maps_init(&m);
    for (int i = 0; i < 2; i++) {
        PcbImage *img = i == 0 ? m.ref : m.photo;
        fill(img, 0, 0, W, H, black);
        fill(img, 43, 0, 2, H, white); /* two silkscreen strokes down the board */
        fill(img, 47, 0, 2, H, white);
    }
    fill(m.photo, 40, 24, 12, 8, black); /* the part's body, over the strokes */
    for (int x = 40; x < 52; x += 10)    /* four leads at its corners */
        for (int y = 24; y < 32; y += 6)
            fill(m.photo, x, y, 2, 2, lead);
    blob(m.score, 40, 24, 12, 8, 15);
    g_autoptr(GArray) f = extract(&m, 1, NULL, NULL);
    g_assert_cmpuint(f->len, ==, 1);
    g_assert_cmpint(at(f, 0)->kind, ==, PCB_KIND_ADDED);
}

/* A dark part on a dark board: its bottom edge a strong sliver (12 sigma, 16 x 3 px: too thin
 * for a finding), its other edges weak (5 sigma) and a pixel apart from it and from each
 * other. The sliver grows over those gaps into the part's outline (20 x 20 px); with
 * findings.bridge-px 1 (touching pixels only) nothing is found. */
static void
test_broken_outline_bridged(void)
{
    for (int bridge = 1; bridge <= 2; bridge++) {
        Maps m;
        maps_init(&m);
        fill(m.photo, 40, 20, 20, 20, PART);
        blob(m.score, 42, 37, 16, 3, 12); /* the strong bottom edge */
        blob(m.score, 40, 20, 3, 16, 5);  /* left, a pixel above the bottom edge's row */
        blob(m.score, 57, 20, 3, 16, 5);  /* right */
        blob(m.score, 44, 20, 12, 2, 5);  /* top, a pixel from left and right */
        PcbFindingsParams p;
        regions_only(&p);
        p.bridge_px = bridge;
        g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
        if (bridge == 1) {
            g_assert_cmpuint(f->len, ==, 0);
            continue;
        }
        g_assert_cmpuint(f->len, ==, 1);
        g_assert_cmpfloat(at(f, 0)->bbox.w, >=, 19);
        g_assert_cmpfloat(at(f, 0)->bbox.h, >=, 19);
    }
}

static void
test_score_order(void)
{
    PcbFindingsParams p;
    regions_only(&p);
    Maps m;
    maps_init(&m);
    blob(m.score, 8, 8, 6, 6, 8);      /* weak and small */
    blob(m.score, 50, 30, 14, 10, 15); /* strong and large */
    blob(m.score, 30, 45, 8, 8, 10);   /* in between */
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    g_assert_cmpuint(f->len, ==, 3);
    for (guint i = 0; i < f->len; i++) {
        g_assert_cmpfloat(at(f, i)->score, >=, 0);
        g_assert_cmpfloat(at(f, i)->score, <=, 1);
        if (i > 0)
            g_assert_cmpfloat(at(f, i - 1)->score, >=, at(f, i)->score);
    }
    g_assert_cmpfloat_with_epsilon(at(f, 0)->bbox.x, 50, 1e-9);
    g_assert_cmpfloat_with_epsilon(at(f, 1)->bbox.x, 30, 1e-9);
    g_assert_cmpfloat_with_epsilon(at(f, 2)->bbox.x, 8, 1e-9);
    g_assert_cmpfloat(at(f, 0)->score, >, at(f, 2)->score);
}

/* The board's zones: the finding is named after the zone that holds its centre, and a zone's
 * sensitivity lowers the thresholds inside it. */
static void
test_zone(void)
{
    PcbFindingsParams p;
    regions_only(&p);
    g_autoptr(PcbBoard) board = pcb_board_new_from_image("golden.png", PPM);
    PcbZone bmc = { g_strdup("BMC"), { 0, 0, 48, 64 }, 2.0 };
    PcbZone flash = { g_strdup("SPI flash"), { 60, 20, 20, 20 }, 1.0 };
    g_array_append_val(board->zones, bmc);
    g_array_append_val(board->zones, flash);
    Maps m;
    maps_init(&m);
    blob(m.score, 64, 26, 8, 8, 12); /* in the flash zone */
    blob(m.score, 10, 10, 8, 8, 5);  /* under high_sigma, but over it / 2 in the BMC zone */
    blob(m.score, 84, 50, 8, 8, 5);  /* the same outside any zone: nothing */
    g_autoptr(GArray) f = extract(&m, 1, board, &p);
    g_assert_cmpuint(f->len, ==, 2);
    for (guint i = 0; i < f->len; i++)
        g_assert_cmpstr(at(f, i)->zone, ==, at(f, i)->bbox.x < 48 ? "BMC" : "SPI flash");
}

/* Board detail for a light fit (traces and pads, steps of @step levels) in both images, the
 * photo's under another light: @gain, then @offset less @tint per channel. */
static void
lit_detail(Maps *m, int step, double gain, double offset, double tint)
{
    for (int y = 0; y < H; y++) {
        guint8 *r = pcb_image_row(m->ref, y), *q = pcb_image_row(m->photo, y);
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int v = BOARD[c] + ((x / 3 + y / 5) % 4) * step - (x % 7 == 0 ? 20 : 0);
                r[3 * x + c] = (guint8) CLAMP(v, 0, 255);
                q[3 * x + c] = (guint8) CLAMP(lround(gain * v + offset - tint * c), 0, 255);
            }
    }
}

/* The photo is the reference under another light (gain and offset per channel) and the
 * score still shows a region: the change of light explains it, it is dropped; with the
 * filter off it stays. */
static guint
relit_region(double min_unexplained)
{
    PcbFindingsParams p;
    pcb_findings_params_init(&p);
    p.max_shift_px = 0;
    p.min_unexplained = min_unexplained;
    Maps m;
    maps_init(&m);
    lit_detail(&m, 25, 1.3, 12, 4);
    blob(m.score, 30, 20, 16, 12, 12);
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    return f->len;
}

static void
test_light_change_dropped(void)
{
    g_assert_cmpuint(relit_region(0), ==, 1);
    g_assert_cmpuint(relit_region(0.4), ==, 0);
}

/* A grey part put on plain dark board where the photo sees the board around it lit brighter
 * (+40 levels): a light fit explains most of the part's squared difference (it is brighter too;
 * 17% is left), but what it leaves is still a change: about 17 noise sigmas (2 levels), more
 * than twice the high threshold, and the region stays. A high threshold of 10 (limit 20)
 * lets the light explain it. */
static guint
part_beside_brighter_light(double high_sigma)
{
    PcbFindingsParams p;
    pcb_findings_params_init(&p);
    p.max_shift_px = 0;
    p.high_sigma = high_sigma;
    Maps m;
    maps_init(&m);
    lit_detail(&m, 30, 1, 40, 0);
    const guint8 grey[3] = { 150, 150, 150 };
    fill(m.ref, 30, 20, 16, 12, BOARD); /* a spare footprint's plain board */
    fill(m.photo, 30, 20, 16, 12, grey);
    blob(m.score, 30, 20, 16, 12, 12);
    m.noise = 2.0;
    g_autoptr(GArray) f = extract(&m, 1, NULL, &p);
    return f->len;
}

static void
test_light_leaves_part(void)
{
    g_assert_cmpuint(part_beside_brighter_light(7), ==, 1);
    g_assert_cmpuint(part_beside_brighter_light(10), ==, 0);
}

/* A part standing in both images at @x, @y, @w x @h (a tall one, casting a shadow). */
static void
standing(Maps *m, int x, int y, int w, int h)
{
    fill(m->ref, x, y, w, h, PART);
    fill(m->photo, x, y, w, h, PART);
}

/* @img's @w x @h area at @x, @y painted @v, and the score there 12 sigma. */
static void
changed_to(Maps *m, PcbImage *img, int x, int y, int w, int h, const guint8 *v)
{
    fill(img, x, y, w, h, v);
    blob(m->score, x, y, w, h, 12);
}

static const guint8 DEEP[3] = { 18, 30, 38 }; /* board lit by a cool fill light only */

/* The findings of @m under another light (5x the images' noise), the light fit off: only the
 * rules of another light; *@x: the leftmost finding's x (-1: none). */
static guint
under_other_light(Maps *m, double *x)
{
    PcbFindingsParams p;
    regions_only(&p);
    g_autoptr(GArray) f = extract_lit(m, 1, 5, NULL, &p);
    *x = -1;
    for (guint i = 0; i < f->len; i++)
        *x = i == 0 ? at(f, i)->bbox.x : MIN(*x, at(f, i)->bbox.x);
    return f->len;
}

/* Under another light a tall part (16 x 20 px) casts a deep shadow on the board beside it
 * (lit only by a cool fill light: bluish and dark, a change of material by colour), and a dark
 * part is put on the board apart from it. The shadow lies against its part the way it falls
 * and goes; the part put on is surrounded by board that did not change and stays. @gap:
 * unchanged board between the part and the shadow (then nothing casts it, and it stays too). */
static guint
shadow_beside_part(int gap, double *x)
{
    Maps m;
    maps_init(&m);
    standing(&m, 20, 20, 16, 20);
    changed_to(&m, m.photo, 36 + gap, 22, 12, 18, DEEP);
    changed_to(&m, m.photo, 74, 30, 10, 8, PART); /* the part put on */
    return under_other_light(&m, x);
}

/* The same light, a second part casting its shadow the same way, and where the first part's
 * shadow was, a red mark drawn in the reference only (removed): a shade only takes light away,
 * and the photo's green there is brighter in one channel; the mark stays. */
static guint
mark_beside_part(double *x)
{
    const guint8 red[3] = { 200, 40, 40 };
    Maps m;
    maps_init(&m);
    standing(&m, 20, 20, 16, 20);
    changed_to(&m, m.ref, 36, 22, 12, 18, red);
    standing(&m, 56, 42, 12, 18);
    changed_to(&m, m.photo, 68, 44, 12, 16, DEEP);
    return under_other_light(&m, x);
}

static void
test_cast_shadow_dropped(void)
{
    double x;
    g_assert_cmpuint(shadow_beside_part(0, &x), ==, 1);
    g_assert_cmpfloat(x, ==, 74);
    g_assert_cmpuint(shadow_beside_part(6, &x), ==, 2);
    g_assert_cmpuint(mark_beside_part(&x), ==, 1);
    g_assert_cmpfloat(x, ==, 36);
}

/* Under another light a part's own surface can change as much as a new part: shading on a
 * curved top, a highlight, a shadow across the board. Then only a change of material (bare
 * board in one image, something else in the other) is a finding: a part put on the board
 * stays, a part lit otherwise and a shadow on the board go. Under the golden's light (1x the
 * noise) all three are findings. */
static guint
lit_regions(double light, gboolean *implant_kept)
{
    PcbFindingsParams p;
    pcb_findings_params_init(&p);
    p.max_shift_px = 0;
    p.min_unexplained = 0; /* only the material rule */
    Maps m;
    maps_init(&m);
    const guint8 part_lit[3] = { 70, 70, 76 }, shade[3] = { 20, 58, 30 }; /* 0.6 x BOARD */
    fill(m.ref, 8, 8, 20, 14, PART);                                      /* a part lit otherwise */
    fill(m.photo, 8, 8, 20, 14, part_lit);
    blob(m.score, 8, 8, 20, 14, 12);
    fill(m.photo, 40, 44, 24, 10, shade); /* a shadow on the board */
    blob(m.score, 40, 44, 24, 10, 12);
    fill(m.photo, 64, 12, 12, 8, PART); /* a part put on the board */
    blob(m.score, 64, 12, 12, 8, 12);
    g_autoptr(GArray) f = extract_lit(&m, 1, light, NULL, &p);
    *implant_kept = FALSE;
    for (guint i = 0; i < f->len; i++)
        *implant_kept |= at(f, i)->bbox.x == 64 && at(f, i)->kind == PCB_KIND_ADDED;
    return f->len;
}

static void
test_other_light_judges_material(void)
{
    gboolean implant;
    g_assert_cmpuint(lit_regions(1.0, &implant), ==, 3);
    g_assert_true(implant);
    g_assert_cmpuint(lit_regions(6.0, &implant), ==, 1);
    g_assert_true(implant);
    PcbDiffMap map = { 0 };
    map.light_change = 2.9;
    g_assert_false(pcb_findings_light_differs(&map, NULL));
    map.light_change = 3.0;
    g_assert_true(pcb_findings_light_differs(&map, NULL));
}

/* Under another light (the board 80 levels brighter, 5x the images' noise) a 16 x 12 px area
 * of plain board is seen changed. With @striped, a part stands there whose bright and dark rows
 * (±25 levels) average to the relit board: the light fit explains 90% of its squared difference
 * and leaves 25 levels, under twice the high threshold, but such detail on a plain surface is
 * nothing a change of light makes, and it stays. Without, a soft highlight (40 levels, sigma
 * 20 px) lies there: the light explains it, and it goes. */
static guint
detail_on_plain_board(gboolean striped)
{
    PcbFindingsParams p;
    pcb_findings_params_init(&p);
    p.max_shift_px = 0;
    Maps m;
    maps_init(&m);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const double r2 = (x - 48) * (x - 48) + (y - 26) * (y - 26);
            const double d
                = striped
                      ? (x >= 40 && x < 56 && y >= 20 && y < 32 ? 25 * (1 - 2 * ((y / 2) % 2)) : 0)
                      : 40 * exp(-r2 / (2 * 20.0 * 20.0));
            for (int c = 0; c < 3; c++)
                pcb_image_row(m.photo, y)[3 * x + c] = (guint8) lround(BOARD[c] + 80 + d);
        }
    blob(m.score, 40, 20, 16, 12, 12);
    m.noise = 2.0;
    g_autoptr(GArray) f = extract_lit(&m, 1, 5, NULL, &p);
    return f->len;
}

static void
test_structure_on_plain_board_stays(void)
{
    g_assert_cmpuint(detail_on_plain_board(TRUE), ==, 1);
    g_assert_cmpuint(detail_on_plain_board(FALSE), ==, 0);
}

/* change_at's findings with the local light fit and the material rule off: only the kind
 * decides. */
static GArray *
lit_change(const guint8 *ref_col, const guint8 *photo_col, double light)
{
    PcbFindingsParams p;
    pcb_findings_params_init(&p);
    p.min_unexplained = 0;
    p.min_material = 0;
    return change_at(ref_col, photo_col, light, &p);
}

/* Under another light only parts put on or taken off are judged: a part that stands in both
 * images and changed (altered: its surface lit otherwise, a tall part's top seen from another
 * pose) is no finding then, though it passed the material rule; under the golden's light it
 * is one. A part put on stays under either light. */
static void
test_other_light_drops_altered(void)
{
    const guint8 before[3] = { 94, 96, 50 }, after[3] = { 34, 96, 110 };
    g_autoptr(GArray) same = lit_change(before, after, 1.0);
    g_assert_cmpuint(same->len, ==, 1);
    g_assert_cmpint(at(same, 0)->kind, ==, PCB_KIND_ALTERED);
    g_autoptr(GArray) other = lit_change(before, after, 5.0);
    g_assert_cmpuint(other->len, ==, 0);
    g_autoptr(GArray) added = lit_change(NULL, PART, 5.0);
    g_assert_cmpuint(added->len, ==, 1);
    g_assert_cmpint(at(added, 0)->kind, ==, PCB_KIND_ADDED);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/findings/empty-map-gives-nothing", test_empty_map);
    g_test_add_func("/findings/one-blob-box-and-area", test_one_blob);
    g_test_add_func("/findings/box-in-reference-px", test_box_in_reference_px);
    g_test_add_func("/findings/weak-blob-ignored", test_weak_blob_ignored);
    g_test_add_func("/findings/close-fragments-merge", test_close_fragments_merge);
    g_test_add_func("/findings/far-fragments-stay-apart", test_far_fragments_stay_apart);
    g_test_add_func("/findings/small-or-thin-blob-dropped", test_small_blob_dropped);
    g_test_add_func("/findings/broken-outline-bridged", test_broken_outline_bridged);
    g_test_add_func("/findings/compact-part-counts-its-box", test_compact_part_counts_its_box);
    g_test_add_func("/findings/strokes-count-their-box", test_strokes_count_their_box);
    g_test_add_func("/findings/kind-added", test_kind_added);
    g_test_add_func("/findings/kind-removed", test_kind_removed);
    g_test_add_func("/findings/kind-altered", test_kind_altered);
    g_test_add_func("/findings/kind-altered-in-place", test_kind_altered_in_place);
    g_test_add_func("/findings/kind-on-part-altered", test_kind_on_part_altered);
    g_test_add_func("/findings/marking-spreads-over-part", test_marking_spreads_over_part);
    g_test_add_func("/findings/other-light-drops-altered", test_other_light_drops_altered);
    g_test_add_func("/findings/kind-added-beside-grey-part", test_kind_added_beside_grey_part);
    g_test_add_func("/findings/kind-added-over-silkscreen", test_kind_added_over_silkscreen);
    g_test_add_func("/findings/score-order-and-range", test_score_order);
    g_test_add_func("/findings/zone-name-and-sensitivity", test_zone);
    g_test_add_func("/findings/light-change-dropped", test_light_change_dropped);
    g_test_add_func("/findings/light-leaves-part", test_light_leaves_part);
    g_test_add_func("/findings/other-light-judges-material", test_other_light_judges_material);
    g_test_add_func("/findings/cast-shadow-dropped", test_cast_shadow_dropped);
    g_test_add_func("/findings/structure-on-plain-board-stays",
                    test_structure_on_plain_board_stays);
    return g_test_run();
}
