/* synthboard: the command line (board, photo and pair modes). See synthboard.h for the model. */
#include <stdlib.h>
#include <glib/gstdio.h>
#include "pcbdiff/error.h"
#include "synthboard.h"

static int
fail(GError *error)
{
    g_printerr("synthboard: %s\n", error != NULL ? error->message : "failed");
    if (error != NULL)
        g_error_free(error);
    return EXIT_USAGE;
}

static gboolean
parse(GOptionEntry *entries, const char *summary, int *argc, char ***argv, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(summary);
    g_option_context_set_help_enabled(ctx, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    if (*argc > 1) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "unexpected argument '%s'", (*argv)[1]);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_size(double wmm, double hmm, double ppm, GError **error)
{
    if (wmm < 60 || hmm < 45 || wmm > 2000 || hmm > 2000 || !(ppm > 0.5) || ppm > 400) {
        g_set_error(
            error, PCB_ERROR, PCB_ERROR_USAGE,
            "board must be at least 60 x 45 mm (got %g x %g) and px/mm in 0.5 .. 400 (got %g)", wmm,
            hmm, ppm);
        return FALSE;
    }
    return TRUE;
}

static int
mode_board(int argc, char **argv)
{
    g_autofree char *out = NULL, *profile = NULL;
    double wmm = 150, hmm = 100, ppm = 8;
    gint64 seed = 1;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "golden image to write (PNG)", "PATH" },
        { "width-mm", 0, 0, G_OPTION_ARG_DOUBLE, &wmm, "board width (150)", "MM" },
        { "height-mm", 0, 0, G_OPTION_ARG_DOUBLE, &hmm, "board height (100)", "MM" },
        { "px-per-mm", 0, 0, G_OPTION_ARG_DOUBLE, &ppm, "resolution (8)", "F" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "board seed (1)", "N" },
        { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile, "also write board.ini here", "PATH" },
        G_OPTION_ENTRY_NULL,
    };
    GError *error = NULL;
    if (!parse(entries, "- draw a golden board image", &argc, &argv, &error))
        return fail(error);
    if (out == NULL)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--out is required"));
    if (!check_size(wmm, hmm, ppm, &error))
        return fail(error);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(Scene) sc = scene_build((guint64) seed, wmm, hmm);
    int w = (int) lround(wmm * ppm), h = (int) lround(hmm * ppm);
    g_autoptr(PcbImage) img = render_board(sc, ppm, w, h, &error);
    if (img == NULL)
        return fail(error);
    gint64 t1 = g_get_monotonic_time();
    if (!pcb_image_save_png(img, out, &error))
        return fail(error);
    if (profile != NULL && !write_profile(profile, out, sc, ppm, (guint64) seed, &error))
        return fail(error);
    g_print("%s: %d x %d px (%g x %g mm at %g px/mm), %u parts; drawn in %.2f s, saved in %.2f s\n",
            out, w, h, wmm, hmm, ppm, sc->parts->len, (t1 - t0) / 1e6,
            (g_get_monotonic_time() - t1) / 1e6);
    return 0;
}

static void
print_changes(const Change *ch, int n, double ppm)
{
    if (n == 0)
        g_print("  changes: none\n");
    for (int k = 0; k < n; k++) {
        int bb[4];
        mm_to_px_box(ch[k].mm, ppm, bb);
        g_print("  change: %s %s %s, bbox [%d, %d, %d, %d]\n", ch[k].kind, ch[k].package,
                ch[k].where, bb[0], bb[1], bb[2], bb[3]);
    }
}

/* Renders, saves and (optionally) describes one photo of @sc. */
static gboolean
make_photo(Scene *sc, const PhotoOpts *o, guint64 seed, guint64 board_seed, double ppm, int ref_w,
           int ref_h, gboolean implant, gboolean remove, double target_mp, const char *out,
           const char *truth, GError **error)
{
    Change changes[2];
    int n = 0;
    Rng cr;
    rng_init(&cr, seed, STREAM_CHANGES);
    if (remove) {
        if (apply_removal(sc, &cr, &changes[n]))
            n++;
        else
            g_printerr("synthboard: warning: no passive to remove\n");
    }
    if (implant)
        apply_implant(sc, &cr, &changes[n++]);
    Camera cam;
    camera_init(&cam, ref_w, ref_h, o, seed, target_mp);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(PcbImage) photo = render_photo(sc, &cam, ppm, ref_w, ref_h, seed, error);
    if (photo == NULL)
        return FALSE;
    gint64 t1 = g_get_monotonic_time();
    if (!pcb_image_save_jpeg(photo, out, o->quality, error))
        return FALSE;
    gint64 t2 = g_get_monotonic_time();
    if (truth != NULL
        && !write_truth(truth, &cam, ref_w, ref_h, ppm, seed, board_seed, changes, n, error))
        return FALSE;
    g_print("%s: %d x %d px, board scale %.3f, rotation %g deg; drawn in %.2f s, saved in %.2f s\n",
            out, cam.width, cam.height, cam.scale, o->rotate_deg, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    print_changes(changes, n, ppm);
    return TRUE;
}

static GOptionEntry *
camera_entries(PhotoOpts *o, GOptionEntry *e)
{
    const GOptionEntry list[] = {
        { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &o->scale, "photo px per golden px (1.4)", "S" },
        { "rotate-deg", 0, 0, G_OPTION_ARG_DOUBLE, &o->rotate_deg, "in-plane rotation (17)",
          "DEG" },
        { "tilt-deg", 0, 0, G_OPTION_ARG_DOUBLE, &o->tilt_deg, "perspective tilt (2)", "DEG" },
        { "k1", 0, 0, G_OPTION_ARG_DOUBLE, &o->k1, "radial distortion at the half-diagonal (0.01)",
          "K" },
        { "light", 0, 0, G_OPTION_ARG_DOUBLE, &o->light,
          "lighting change: gain, gamma, white balance, gradient (0.15)", "A" },
        { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &o->noise, "sensor noise sigma, grey levels (2)",
          "SIGMA" },
        { "blur", 0, 0, G_OPTION_ARG_DOUBLE, &o->blur, "Gaussian blur sigma, px (0.6)", "SIGMA" },
        { "quality", 0, 0, G_OPTION_ARG_INT, &o->quality, "JPEG quality (90)", "Q" },
    };
    memcpy(e, list, sizeof list);
    return e + G_N_ELEMENTS(list);
}

static void
photo_opts_init(PhotoOpts *o)
{
    PhotoOpts d = { .scale = 1.4,
                    .rotate_deg = 17,
                    .tilt_deg = 2,
                    .k1 = 0.01,
                    .light = 0.15,
                    .noise = 2.0,
                    .blur = 0.6,
                    .quality = 90 };
    *o = d;
}

static gboolean
check_photo_opts(const PhotoOpts *o, GError **error)
{
    if (!(o->scale >= 0.1 && o->scale <= 8) || fabs(o->tilt_deg) > 20 || fabs(o->k1) > 0.2
        || o->light < 0 || o->light > 0.6 || o->noise < 0 || o->noise > 50 || o->blur < 0
        || o->blur > 10 || o->quality < 1 || o->quality > 100) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "camera options out of range (scale 0.1..8, |tilt| <= 20, |k1| <= 0.2, light "
                    "0..0.6, noise 0..50, blur 0..10, quality 1..100)");
        return FALSE;
    }
    return TRUE;
}

/* The golden must be the scene of @board_seed: draw it again and compare. */
static gboolean
check_golden(const PcbImage *ref, const Scene *sc, const char *golden, gint64 board_seed,
             double ppm, GError **error)
{
    g_autoptr(PcbImage) again = render_board(sc, ppm, ref->width, ref->height, error);
    if (again == NULL)
        return FALSE;
    double sum = 0;
    guint64 count = 0;
    for (int y = 0; y < ref->height; y += 3) {
        const guint8 *a = pcb_image_row(ref, y), *b = pcb_image_row(again, y);
        for (int i = 0; i < ref->width * 3; i += 7) {
            sum += abs(a[i] - b[i]);
            count++;
        }
    }
    if (sum / (double) count > 2.0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "%s is not the board of seed %" G_GINT64_FORMAT
                    " at %g px/mm (mean difference %.1f): give --board-seed and "
                    "--px-per-mm as for 'synthboard board'",
                    golden, board_seed, ppm, sum / (double) count);
        return FALSE;
    }
    return TRUE;
}

static int
mode_photo(int argc, char **argv)
{
    g_autofree char *golden = NULL, *out = NULL, *truth = NULL;
    double ppm = 8, wmm = 0, hmm = 0;
    gint64 seed = 1, board_seed = -1;
    gboolean implant = FALSE, remove = FALSE;
    PhotoOpts o;
    photo_opts_init(&o);
    GOptionEntry entries[32] = {
        { "golden", 'g', 0, G_OPTION_ARG_FILENAME, &golden, "golden drawn by 'synthboard board'",
          "PATH" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "photo to write (JPEG)", "PATH" },
        { "truth", 0, 0, G_OPTION_ARG_FILENAME, &truth, "ground truth to write (JSON)", "PATH" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "photo seed: camera, light, noise, changes (1)",
          "N" },
        { "board-seed", 0, 0, G_OPTION_ARG_INT64, &board_seed,
          "the golden's seed (default: --seed)", "N" },
        { "px-per-mm", 0, 0, G_OPTION_ARG_DOUBLE, &ppm, "the golden's px/mm (8)", "F" },
        { "width-mm", 0, 0, G_OPTION_ARG_DOUBLE, &wmm,
          "board width (default: golden width / px-per-mm)", "MM" },
        { "height-mm", 0, 0, G_OPTION_ARG_DOUBLE, &hmm, "board height (default: from the golden)",
          "MM" },
        { "implant", 0, 0, G_OPTION_ARG_NONE, &implant,
          "plant a 1 x 2 mm six-pin chip on a spare footprint by the BMC", NULL },
        { "remove", 0, 0, G_OPTION_ARG_NONE, &remove, "take one passive off (pads left)", NULL },
    };
    camera_entries(&o, entries + 10);
    GError *error = NULL;
    if (!parse(entries, "- re-photograph a synthetic board", &argc, &argv, &error))
        return fail(error);
    if (golden == NULL || out == NULL)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--golden and --out are required"));
    if (!check_photo_opts(&o, &error))
        return fail(error);
    if (board_seed < 0)
        board_seed = seed;
    g_autoptr(PcbImage) ref = pcb_image_load(golden, NULL, &error);
    if (ref == NULL)
        return fail(error);
    if (wmm <= 0)
        wmm = round(ref->width / ppm * 1000) / 1000;
    if (hmm <= 0)
        hmm = round(ref->height / ppm * 1000) / 1000;
    if (!check_size(wmm, hmm, ppm, &error))
        return fail(error);
    g_autoptr(Scene) sc = scene_build((guint64) board_seed, wmm, hmm);
    if (!check_golden(ref, sc, golden, board_seed, ppm, &error))
        return fail(error);
    int ref_w = ref->width, ref_h = ref->height;
    g_clear_pointer(&ref, pcb_image_free);
    if (!make_photo(sc, &o, (guint64) seed, (guint64) board_seed, ppm, ref_w, ref_h, implant,
                    remove, 0, out, truth, &error))
        return fail(error);
    return 0;
}

static int
mode_pair(int argc, char **argv)
{
    g_autofree char *out = NULL;
    double mp = 24, wmm = 150, hmm = 100;
    gint64 seed = 1;
    gboolean implant = FALSE, remove = FALSE;
    PhotoOpts o;
    photo_opts_init(&o);
    GOptionEntry entries[32] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
          "folder for reference.png, photo.jpg, truth.json", "DIR" },
        { "megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &mp, "size of each image (24)", "MP" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "board and photo seed (1)", "N" },
        { "width-mm", 0, 0, G_OPTION_ARG_DOUBLE, &wmm, "board width (150)", "MM" },
        { "height-mm", 0, 0, G_OPTION_ARG_DOUBLE, &hmm, "board height (100)", "MM" },
        { "implant", 0, 0, G_OPTION_ARG_NONE, &implant, "plant the implant", NULL },
        { "remove", 0, 0, G_OPTION_ARG_NONE, &remove, "take one passive off", NULL },
    };
    camera_entries(&o, entries + 7);
    GError *error = NULL;
    if (!parse(entries, "- a reference and a photo of about MP megapixels each", &argc, &argv,
               &error))
        return fail(error);
    if (out == NULL)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--out is required"));
    if (!(mp >= 0.1 && mp <= 240))
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_USAGE, "--megapixels must be 0.1 .. 240"));
    if (!check_photo_opts(&o, &error))
        return fail(error);
    double ppm = round(sqrt(mp * 1e6 / (wmm * hmm)) * 100) / 100;
    if (!check_size(wmm, hmm, ppm, &error))
        return fail(error);
    if (g_mkdir_with_parents(out, 0755) != 0)
        return fail(g_error_new(PCB_ERROR, PCB_ERROR_IO, "cannot create %s", out));
    g_autofree char *ref_path = g_build_filename(out, "reference.png", NULL);
    g_autofree char *photo_path = g_build_filename(out, "photo.jpg", NULL);
    g_autofree char *truth_path = g_build_filename(out, "truth.json", NULL);
    g_autoptr(Scene) sc = scene_build((guint64) seed, wmm, hmm);
    int w = (int) lround(wmm * ppm), h = (int) lround(hmm * ppm);
    gint64 t0 = g_get_monotonic_time();
    {
        g_autoptr(PcbImage) ref = render_board(sc, ppm, w, h, &error);
        if (ref == NULL)
            return fail(error);
        gint64 t1 = g_get_monotonic_time();
        if (!pcb_image_save_png(ref, ref_path, &error))
            return fail(error);
        g_print("%s: %d x %d px (%.1f MP, %g px/mm); drawn in %.2f s, saved in %.2f s\n", ref_path,
                w, h, w * (double) h / 1e6, ppm, (t1 - t0) / 1e6,
                (g_get_monotonic_time() - t1) / 1e6);
    }
    if (!make_photo(sc, &o, (guint64) seed, (guint64) seed, ppm, w, h, implant, remove, mp,
                    photo_path, truth_path, &error))
        return fail(error);
    g_print("total %.2f s\n", (g_get_monotonic_time() - t0) / 1e6);
    return 0;
}

static void
usage(void)
{
    g_printerr("usage: synthboard board --out golden.png [--width-mm 150 --height-mm 100 "
               "--px-per-mm 8 --seed N] [--profile board.ini]\n"
               "       synthboard photo --golden golden.png --out photo.jpg --seed N "
               "[--board-seed B] [--implant] [--remove] [--truth truth.json] [camera options]\n"
               "       synthboard pair --out DIR --megapixels 24 --seed N\n"
               "'synthboard MODE --help' lists the options of a mode.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return EXIT_USAGE;
    }
    const char *mode = argv[1];
    g_autofree char *prg = g_strdup_printf("synthboard %s", mode);
    g_set_prgname(prg);
    if (strcmp(mode, "board") == 0)
        return mode_board(argc - 1, argv + 1);
    if (strcmp(mode, "photo") == 0)
        return mode_photo(argc - 1, argv + 1);
    if (strcmp(mode, "pair") == 0)
        return mode_pair(argc - 1, argv + 1);
    usage();
    return strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0 ? 0 : EXIT_USAGE;
}
