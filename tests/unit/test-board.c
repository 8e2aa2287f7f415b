/* Board profiles: board.ini parsing, every error with PATH:LINE:, scale resolution, zone lookup.
 * Profiles are written into a temporary folder at test time; golden.png is a few arbitrary
 * bytes, because loading a profile only checks that the golden exists. */
#include <string.h>
#include <glib/gstdio.h>
#include "testutil.h"

/* DIR = tmp/@sub with board.ini = @ini and, when @golden, a stand-in golden.png. */
static char *
write_board(const char *sub, const char *ini, gboolean golden)
{
    char *dir = g_build_filename(tu_tmpdir(), sub, NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_autofree char *ini_path = g_build_filename(dir, "board.ini", NULL);
    g_assert_true(g_file_set_contents(ini_path, ini, -1, NULL));
    if (golden) {
        g_autofree char *png = g_build_filename(dir, "golden.png", NULL);
        g_assert_true(g_file_set_contents(png, "not decoded", -1, NULL));
    }
    return dir;
}

static void
write_extra(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, "x", -1, NULL));
}

/* @error is PCB_ERROR_PROFILE and reads "DIR/board.ini:LINE: ...@reason...". */
static void
assert_profile_error(const GError *error, const char *dir, int line, const char *reason)
{
    g_autofree char *ini = g_build_filename(dir, "board.ini", NULL);
    g_autofree char *prefix = g_strdup_printf("%s:%d: ", ini, line);
    g_assert_error(error, PCB_ERROR, PCB_ERROR_PROFILE);
    if (!g_str_has_prefix(error->message, prefix) || strstr(error->message, reason) == NULL)
        g_error("expected \"%s...%s...\", got \"%s\"", prefix, reason, error->message);
}

static void
assert_rect(const PcbRect *r, double x, double y, double w, double h)
{
    g_assert_cmpfloat_with_epsilon(r->x, x, 1e-9);
    g_assert_cmpfloat_with_epsilon(r->y, y, 1e-9);
    g_assert_cmpfloat_with_epsilon(r->w, w, 1e-9);
    g_assert_cmpfloat_with_epsilon(r->h, h, 1e-9);
}

/* ---------------------------------------------------------------- valid profiles */

/* board.h's own example, comments included, plus a second zone. */
static const char full_ini[] = "# the demo board\n"
                               "[board]\n"
                               "name = demo\n"
                               "golden = golden.png          ; relative to the folder\n"
                               "px-per-mm = 10.0             ; or width-mm = 160\n"
                               "\n"
                               "[zone BMC]                   ; one group per named zone\n"
                               "rect = 410, 220, 260, 180    ; x, y, w, h in golden pixels\n"
                               "sensitivity = 1.5            ; > 1 finds fainter changes\n"
                               "\n"
                               "; a second zone\n"
                               "[zone Flash]\n"
                               "rect = 700.5,20,40,30\n"
                               "sensitivity = 0.25\n"
                               "\n"
                               "[ignore]\n"
                               "rects = 10,10,80,30; 600,20,90,40   ; serial labels, stickers\n"
                               "mask = ignore.png\n";

static void
test_load_full_profile(void)
{
    g_autofree char *dir = write_board("full", full_ini, TRUE);
    write_extra(dir, "ignore.png");
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    g_assert_nonnull(board);

    g_autofree char *golden = g_build_filename(dir, "golden.png", NULL);
    g_autofree char *mask = g_build_filename(dir, "ignore.png", NULL);
    g_assert_cmpstr(board->dir, ==, dir);
    g_assert_cmpstr(board->name, ==, "demo");
    g_assert_cmpstr(board->golden_path, ==, golden);
    g_assert_cmpstr(board->ignore_mask_path, ==, mask);
    g_assert_cmpfloat(board->px_per_mm, ==, 10.0);
    g_assert_cmpfloat(board->width_mm, ==, 0.0);

    g_assert_cmpuint(board->zones->len, ==, 2);
    const PcbZone *bmc = &g_array_index(board->zones, PcbZone, 0);
    const PcbZone *flash = &g_array_index(board->zones, PcbZone, 1);
    g_assert_cmpstr(bmc->name, ==, "BMC");
    assert_rect(&bmc->rect, 410, 220, 260, 180);
    g_assert_cmpfloat(bmc->sensitivity, ==, 1.5);
    g_assert_cmpstr(flash->name, ==, "Flash");
    assert_rect(&flash->rect, 700.5, 20, 40, 30);
    g_assert_cmpfloat(flash->sensitivity, ==, 0.25);

    g_assert_cmpuint(board->ignore->len, ==, 2);
    assert_rect(&g_array_index(board->ignore, PcbRect, 0), 10, 10, 80, 30);
    assert_rect(&g_array_index(board->ignore, PcbRect, 1), 600, 20, 90, 40);

    g_assert_true(pcb_board_resolve(board, 1600, 1000, &error));
    g_assert_no_error(error);
    g_assert_cmpfloat(board->px_per_mm, ==, 10.0);
}

static void
test_load_defaults(void)
{
    g_autofree char *dir
        = write_board("defaults-board", "[board]\r\n[zone X]\r\nrect=1,2,3,4\r\n", TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    g_autofree char *golden = g_build_filename(dir, "golden.png", NULL);
    g_assert_cmpstr(board->name, ==, "defaults-board"); /* the folder's name */
    g_assert_cmpstr(board->golden_path, ==, golden);
    g_assert_null(board->ignore_mask_path);
    g_assert_cmpfloat(board->px_per_mm, ==, 0.0);
    g_assert_cmpuint(board->ignore->len, ==, 0);
    g_assert_cmpuint(board->zones->len, ==, 1);
    g_assert_cmpfloat(g_array_index(board->zones, PcbZone, 0).sensitivity, ==, 1.0);
}

static void
test_resolve_width_mm(void)
{
    g_autofree char *dir = write_board("width-mm", "[board]\nwidth-mm = 160\n", TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(board->width_mm, ==, 160.0);
    g_assert_cmpfloat(board->px_per_mm, ==, 0.0); /* unknown until the golden's size is */
    g_assert_true(pcb_board_resolve(board, 1600, 900, &error));
    g_assert_no_error(error);
    g_assert_cmpfloat_with_epsilon(board->px_per_mm, 10.0, 1e-12);
}

static void
test_resolve_rect_mm(void)
{
    g_autofree char *dir = write_board("rect-mm",
                                       "[board]\n"
                                       "width-mm = 100\n"
                                       "[zone CPU]\n"
                                       "rect-mm = 10, 20, 5.5, 4\n"
                                       "[zone IO]\n"
                                       "rect = 1, 2, 3, 4\n",
                                       TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    for (int pass = 0; pass < 2; pass++) { /* resolving twice changes nothing */
        g_assert_true(pcb_board_resolve(board, 2000, 1000, &error));
        g_assert_no_error(error);
        g_assert_cmpfloat_with_epsilon(board->px_per_mm, 20.0, 1e-12);
        assert_rect(&g_array_index(board->zones, PcbZone, 0).rect, 200, 400, 110, 80);
        assert_rect(&g_array_index(board->zones, PcbZone, 1).rect, 1, 2, 3, 4);
    }
}

static void
test_load_rect_mm_known_scale(void)
{
    g_autofree char *dir = write_board(
        "rect-mm-scale", "[zone A]\nrect-mm = 1, 2, 3, 4\n[board]\npx-per-mm = 4\n", TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    assert_rect(&g_array_index(board->zones, PcbZone, 0).rect, 4, 8, 12, 16);
}

static void
test_zone_at(void)
{
    g_autofree char *dir = write_board("zone-at",
                                       "[board]\n"
                                       "[zone Big]\n"
                                       "rect = 0, 0, 100, 100\n"
                                       "[zone Small]\n"
                                       "rect = 40, 40, 20, 20\n"
                                       "[zone Side]\n"
                                       "rect = 100, 0, 50, 50\n",
                                       TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);

    PcbRect in_small = { 45, 45, 10, 10 }, in_big = { 5, 5, 10, 10 };
    PcbRect centre_in_big = { 30, 30, 10, 10 }; /* overlaps nothing else, centre (35, 35) */
    PcbRect on_edge = { 95, 10, 10, 10 };       /* centre x = 100: Side, not Big */
    PcbRect outside = { 300, 300, 10, 10 };
    g_assert_cmpstr(pcb_board_zone_at(board, &in_small)->name, ==, "Small");
    g_assert_cmpstr(pcb_board_zone_at(board, &in_big)->name, ==, "Big");
    g_assert_cmpstr(pcb_board_zone_at(board, &centre_in_big)->name, ==, "Big");
    g_assert_cmpstr(pcb_board_zone_at(board, &on_edge)->name, ==, "Side");
    g_assert_null(pcb_board_zone_at(board, &outside));
}

static void
test_new_from_image(void)
{
    g_autoptr(PcbBoard) board = pcb_board_new_from_image("boards/x/top.side.png", 12.5);
    g_assert_cmpstr(board->name, ==, "top.side");
    g_assert_cmpstr(board->golden_path, ==, "boards/x/top.side.png");
    g_assert_cmpstr(board->dir, ==, "boards/x");
    g_assert_cmpfloat(board->px_per_mm, ==, 12.5);
    g_assert_cmpuint(board->zones->len, ==, 0);
    g_assert_cmpuint(board->ignore->len, ==, 0);
    g_assert_null(board->ignore_mask_path);
    g_assert_true(pcb_board_resolve(board, 10, 10, NULL));
    PcbRect r = { 0, 0, 1, 1 };
    g_assert_null(pcb_board_zone_at(board, &r));
    pcb_board_free(NULL);
}

static void
test_missing_profile(void)
{
    g_autofree char *empty = g_build_filename(tu_tmpdir(), "no-ini", NULL);
    g_autofree char *absent = g_build_filename(tu_tmpdir(), "no-such-folder", NULL);
    g_assert_cmpint(g_mkdir_with_parents(empty, 0755), ==, 0);
    const char *dirs[] = { empty, absent };
    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *ini = g_build_filename(dirs[i], "board.ini", NULL);
        g_assert_null(pcb_board_load(dirs[i], &error));
        g_assert_error(error, PCB_ERROR, PCB_ERROR_IO);
        g_assert_true(g_str_has_prefix(error->message, dirs[i]));
        g_assert_nonnull(strstr(error->message, ini));
        g_assert_nonnull(strstr(error->message, "No such file or directory"));
    }
}

/* ---------------------------------------------------------------- malformed profiles */

typedef struct {
    const char *name; /* test path and folder */
    const char *ini;
    int line;           /* expected :LINE: */
    const char *reason; /* expected within the message */
} BadCase;

static const BadCase bad_cases[] = {
    { "bad-number", "[board]\npx-per-mm = 1O.5\n", 2,
      "[board] px-per-mm: expected a number, got \"1O.5\"" },
    { "trailing-junk", "[board]\n\n[zone A]\nrect = 1, 2, 3, 4\nsensitivity = 1.5x\n", 5,
      "[zone A] sensitivity: expected a number, got \"1.5x\"" },
    { "rect-three-numbers",
      "[board]\nname = demo\npx-per-mm = 10\n\n# the BMC\n[zone BMC]\nrect = 410, 220, 260\n", 7,
      "[zone BMC] rect: expected 4 numbers x, y, w, h, got \"410, 220, 260\"" },
    { "rect-not-a-number", "[board]\n[zone BMC]\nrect = 410, 220, abc, 5\n", 3,
      "[zone BMC] rect: expected 4 numbers" },
    { "rect-negative-width", "[board]\n[zone A]\nsensitivity = 2\nrect = 10, 10, -5, 20\n", 4,
      "[zone A] rect: width and height must be > 0" },
    { "rect-mm-zero-height", "[board]\npx-per-mm=2\n[zone A]\nrect-mm = 1, 1, 5, 0\n", 4,
      "[zone A] rect-mm: width and height must be > 0" },
    { "sensitivity-out-of-range", "[board]\n[zone A]\nrect = 1,1,5,5\nsensitivity = 5\n", 4,
      "[zone A] sensitivity: must be 0.25 .. 4, got 5" },
    { "sensitivity-too-small", "[board]\n[zone A]\nsensitivity = 0.1\nrect = 1,1,5,5\n", 3,
      "sensitivity: must be 0.25 .. 4" },
    { "unknown-key", "[board]\nname = x\ndpi = 254\n", 3, "[board] unknown key \"dpi\"" },
    { "unknown-zone-key", "[board]\n[zone A]\nrect = 1,1,5,5\nsensitivty = 2\n", 4,
      "[zone A] unknown key \"sensitivty\"" },
    { "unknown-group", "[board]\n\n[zones]\nrect = 1,1,5,5\n", 3, "unknown group [zones]" },
    { "duplicate-zone", "[board]\n[zone A]\nrect = 1,1,5,5\n[zone B]\nrect = 1,1,5,5\n[zone A]\n",
      6, "duplicate group [zone A] (first at line 2)" },
    { "duplicate-zone-name", "[board]\n[zone A]\nrect = 1,1,5,5\n[zone  A ]\nrect = 2,2,5,5\n", 4,
      "duplicate zone \"A\" (first at line 2)" },
    { "duplicate-key", "[board]\n[zone A]\nrect = 1,1,5,5\nrect = 2,2,5,5\n", 4,
      "[zone A] duplicate key rect (first at line 3)" },
    { "duplicate-board", "[board]\n[ignore]\n[board]\n", 3, "duplicate group [board]" },
    { "px-per-mm-and-width-mm", "[board]\npx-per-mm = 10\nwidth-mm = 160\n", 3,
      "px-per-mm and width-mm are mutually exclusive" },
    { "px-per-mm-zero", "[board]\npx-per-mm = 0\n", 2, "[board] px-per-mm: must be > 0" },
    { "px-per-mm-too-big", "[board]\npx-per-mm = 20000\n", 2, "at most 10000" },
    { "px-per-mm-nan", "[board]\npx-per-mm = nan\n", 2, "expected a number" },
    { "syntax-error", "[board]\nname = x\n\n# fine\nfoo\n", 5,
      "expected key = value, [group] or a comment, got \"foo\"" },
    { "unterminated-group", "[board]\n[zone A\n", 2, "expected [group]" },
    { "key-before-group", "\nname = x\n[board]\n", 2, "comes before any [group]" },
    { "invalid-key-name", "[board]\n[zone A]\nre[ct = 1,1,5,5\n", 3, "re[ct" },
    { "zone-without-rect", "[board]\n\n[zone A]\nsensitivity = 2\n", 3,
      "[zone A] needs rect (pixels) or rect-mm" },
    { "zone-without-name", "[board]\n[zone]\nrect = 1,1,5,5\n", 2, "needs a name" },
    { "rect-and-rect-mm", "[board]\n[zone A]\nrect-mm = 1,1,5,5\nrect = 1,1,5,5\n", 4,
      "rect and rect-mm are mutually exclusive" },
    { "ignore-bad-rect", "[board]\n[ignore]\nrects = 1,2,3,4; 5,6,7\n", 3,
      "[ignore] rects: rectangle 2: expected 4 numbers" },
    { "missing-board-group", "[zone A]\nrect = 1,1,5,5\n", 0, "missing [board] group" },
    { "empty-name", "[board]\nname =\n", 2, "[board] name: must not be empty" },
};

static void
test_bad_profile(gconstpointer data)
{
    const BadCase *c = data;
    g_autofree char *sub = g_strconcat("bad-", c->name, NULL);
    g_autofree char *dir = write_board(sub, c->ini, TRUE);
    g_autoptr(GError) error = NULL;
    g_assert_null(pcb_board_load(dir, &error));
    assert_profile_error(error, dir, c->line, c->reason);
}

static void
test_missing_golden(void)
{
    g_autofree char *dir = write_board("no-golden", "[board]\ngolden = nothere.png\n", TRUE);
    g_autofree char *golden = g_build_filename(dir, "nothere.png", NULL);
    g_autofree char *reason = g_strdup_printf("[board] golden: %s: No such file", golden);
    g_autoptr(GError) error = NULL;
    g_assert_null(pcb_board_load(dir, &error));
    assert_profile_error(error, dir, 2, reason);

    /* the default golden.png, named by the [board] line */
    g_autofree char *dir2 = write_board("no-default-golden", "\n[board]\nname = n\n", FALSE);
    g_autoptr(GError) error2 = NULL;
    g_assert_null(pcb_board_load(dir2, &error2));
    assert_profile_error(error2, dir2, 2, "golden.png: No such file");
}

static void
test_missing_mask(void)
{
    g_autofree char *dir = write_board("no-mask", "[board]\n[ignore]\nmask = gone.png\n", TRUE);
    g_autoptr(GError) error = NULL;
    g_assert_null(pcb_board_load(dir, &error));
    assert_profile_error(error, dir, 3, "gone.png: No such file");
}

static void
test_resolve_zone_outside(void)
{
    g_autofree char *dir = write_board("outside",
                                       "[board]\n"
                                       "[zone Edge]\n"
                                       "rect = -10, -10, 20, 20 ; partly inside: fine\n"
                                       "[zone Far]\n"
                                       "sensitivity = 2\n"
                                       "rect = 640, 10, 20, 20\n",
                                       TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    g_assert_true(pcb_board_resolve(board, 641, 480, &error));
    g_assert_no_error(error);
    g_assert_false(pcb_board_resolve(board, 640, 480, &error));
    assert_profile_error(error, dir, 6,
                         "[zone Far] rect lies outside the golden image (640 x 480)");
}

static void
test_resolve_ignore_outside(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir
        = write_board("ignore-outside", "[board]\n[ignore]\nrects = 0,0,5,5; 10,10,5,5;\n", TRUE);
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(board->ignore->len, ==, 2);
    g_assert_false(pcb_board_resolve(board, 8, 8, &error));
    assert_profile_error(error, dir, 3,
                         "[ignore] rects: rectangle 2 (10, 10, 5, 5) lies outside the golden "
                         "image (8 x 8)");
}

static void
test_resolve_rect_mm_without_scale(void)
{
    g_autofree char *dir
        = write_board("mm-no-scale", "[board]\n\n[zone A]\nrect-mm = 1, 1, 5, 5\n", TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbBoard) board = pcb_board_load(dir, &error);
    g_assert_no_error(error);
    g_assert_null(pcb_board_zone_at(board, &(PcbRect){ 0, 0, 1, 1 })); /* not placed yet */
    g_assert_false(pcb_board_resolve(board, 100, 100, &error));
    assert_profile_error(error, dir, 4, "[zone A] rect-mm needs the board's scale");
    g_clear_error(&error);

    board->px_per_mm = 2; /* e.g. given on the command line */
    g_assert_true(pcb_board_resolve(board, 100, 100, &error));
    g_assert_no_error(error);
    assert_rect(&g_array_index(board->zones, PcbZone, 0).rect, 2, 2, 10, 10);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/board/load/full-profile", test_load_full_profile);
    g_test_add_func("/board/load/defaults", test_load_defaults);
    g_test_add_func("/board/load/rect-mm-with-known-scale", test_load_rect_mm_known_scale);
    g_test_add_func("/board/load/missing-profile-is-io-error", test_missing_profile);
    g_test_add_func("/board/load/missing-golden", test_missing_golden);
    g_test_add_func("/board/load/missing-mask", test_missing_mask);
    for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/board/load/rejects/%s", bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad_profile);
    }
    g_test_add_func("/board/resolve/width-mm", test_resolve_width_mm);
    g_test_add_func("/board/resolve/rect-mm", test_resolve_rect_mm);
    g_test_add_func("/board/resolve/rect-mm-without-scale", test_resolve_rect_mm_without_scale);
    g_test_add_func("/board/resolve/zone-outside-image", test_resolve_zone_outside);
    g_test_add_func("/board/resolve/ignore-outside-image", test_resolve_ignore_outside);
    g_test_add_func("/board/zone-at/smallest-containing-zone", test_zone_at);
    g_test_add_func("/board/new-from-image", test_new_from_image);
    return g_test_run();
}
