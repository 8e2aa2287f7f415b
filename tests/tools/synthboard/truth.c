/* synthboard: the ground truth (truth.json) and board profile (board.ini) files. */
#include <json-glib/json-glib.h>
#include "synthboard.h"

/* Dyadic rounding: the value prints exactly and short through json-glib's %.17g. */
static double
round_dy(double v, int bits)
{
    double s = ldexp(1.0, bits);
    return round(v * s) / s;
}

static void
json_doubles(JsonBuilder *b, const char *name, const double *v, int n, int bits)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (int i = 0; i < n; i++)
        json_builder_add_double_value(b, bits > 0 ? round_dy(v[i], bits) : v[i]);
    json_builder_end_array(b);
}

static void
json_ints(JsonBuilder *b, const char *name, const int *v, int n)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (int i = 0; i < n; i++)
        json_builder_add_int_value(b, v[i]);
    json_builder_end_array(b);
}

static void
json_double(JsonBuilder *b, const char *name, double v, int bits)
{
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, round_dy(v, bits));
}

/* The lens model: k1 around the photo centre, normalised to the half-diagonal. */
static void
truth_lens(JsonBuilder *b, const Camera *cam)
{
    json_builder_set_member_name(b, "lens_distortion");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "applied");
    json_builder_add_boolean_value(b, cam->o.k1 != 0.0);
    json_builder_set_member_name(b, "k1");
    json_builder_add_double_value(b, cam->o.k1);
    const double c[2] = { cam->cx, cam->cy };
    json_doubles(b, "center", c, 2, 8);
    json_double(b, "radius_norm", cam->rnorm, 16);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, "photo p -> ideal u = c + (p - c) * (1 + k1 * (|p - c| / "
                                     "radius_norm)^2); reference = "
                                     "inverse(homography_reference_to_photo_ideal) * u");
    json_builder_end_object(b);
}

/* 10 x 10 reference points and where the photo shows them: reference x, y -> photo x, y. */
static void
truth_check_points(JsonBuilder *b, const Camera *cam, int ref_w, int ref_h)
{
    json_builder_set_member_name(b, "check_points");
    json_builder_begin_array(b);
    for (int j = 0; j < 10; j++)
        for (int i = 0; i < 10; i++) {
            double p[4] = { (i + 0.5) * ref_w / 10.0, (j + 0.5) * ref_h / 10.0, 0, 0 };
            ref_to_photo(cam, p[0], p[1], &p[2], &p[3]);
            json_builder_begin_array(b);
            for (int k = 0; k < 4; k++)
                json_builder_add_double_value(b, round_dy(p[k], 7));
            json_builder_end_array(b);
        }
    json_builder_end_array(b);
}

static void
truth_changes(JsonBuilder *b, const Change *changes, int n_changes, double ppm)
{
    json_builder_set_member_name(b, "changes");
    json_builder_begin_array(b);
    for (int k = 0; k < n_changes; k++) {
        int bbox[4];
        mm_to_px_box(changes[k].mm, ppm, bbox);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, changes[k].kind);
        json_builder_set_member_name(b, "op");
        json_builder_add_string_value(b, changes[k].op);
        json_builder_set_member_name(b, "package");
        json_builder_add_string_value(b, changes[k].package);
        json_builder_set_member_name(b, "where");
        json_builder_add_string_value(b, changes[k].where);
        json_ints(b, "bbox", bbox, 4);
        json_double(b, "area_mm2", bbox[2] * bbox[3] / (ppm * ppm), 10);
        const double mm[4]
            = { changes[k].mm.x0, changes[k].mm.y0, changes[k].mm.x1 - changes[k].mm.x0,
                changes[k].mm.y1 - changes[k].mm.y0 };
        json_doubles(b, "bbox_mm", mm, 4, 10);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

/* How the photo was taken: the camera, the light, the sensor, the JPEG. */
static void
truth_capture(JsonBuilder *b, const Camera *cam)
{
    json_builder_set_member_name(b, "capture");
    json_builder_begin_object(b);
    json_double(b, "scale", cam->scale, 16);
    json_double(b, "rotation_deg", cam->o.rotate_deg, 16);
    const double tilt[2] = { cam->tilt_x, cam->tilt_y };
    json_doubles(b, "tilt_deg", tilt, 2, 16);
    json_double(b, "gain", cam->gain, 16);
    json_double(b, "gamma", cam->gamma, 16);
    json_doubles(b, "wb", cam->wb, 3, 16);
    json_builder_set_member_name(b, "illum");
    json_builder_add_string_value(b, cam->vignette ? "vignette" : "gradient");
    json_double(b, "illum_amp", cam->illum_amp, 16);
    json_double(b, "noise", cam->o.noise, 16);
    json_double(b, "blur", cam->o.blur, 16);
    json_builder_set_member_name(b, "jpeg");
    json_builder_add_int_value(b, cam->o.quality);
    json_builder_end_object(b);
}

/* Writes the builder's document, pretty, with a final newline. */
static gboolean
save_json(JsonBuilder *b, const char *path, GError **error)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, 1);
    gsize len = 0;
    g_autofree char *text = json_generator_to_data(gen, &len);
    g_autofree char *with_nl = g_strconcat(text, "\n", NULL);
    return g_file_set_contents(path, with_nl, -1, error);
}

gboolean
write_truth(const char *path, const Camera *cam, int ref_w, int ref_h, double ppm, guint64 seed,
            guint64 board_seed, const Change *changes, int n_changes, GError **error)
{
    double H[9], rms, mx;
    truth_homography(cam, ref_w, ref_h, H, &rms, &mx);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, 1);
    json_builder_set_member_name(b, "generator");
    json_builder_add_string_value(b, "synthboard (tests/tools/synthboard/)");
    const int rs[2] = { ref_w, ref_h }, ps[2] = { cam->width, cam->height };
    json_ints(b, "reference_size", rs, 2);
    json_ints(b, "photo_size", ps, 2);
    json_double(b, "px_per_mm", ppm, 20);
    json_doubles(b, "homography_photo_to_reference", H, 9, 0);
    json_builder_set_member_name(b, "homography_fit");
    json_builder_add_string_value(b, cam->o.k1 == 0.0
                                         ? "exact (no lens distortion)"
                                         : "least-squares best fit (geometric error in reference "
                                           "pixels) over a 30x30 grid of board points");
    json_builder_set_member_name(b, "homography_fit_residual_px");
    json_builder_begin_object(b);
    json_double(b, "rms", rms, 10);
    json_double(b, "max", mx, 10);
    json_builder_end_object(b);
    truth_lens(b, cam);
    json_doubles(b, "homography_reference_to_photo_ideal", cam->H_rp, 9, 0);
    truth_check_points(b, cam, ref_w, ref_h);
    truth_changes(b, changes, n_changes, ppm);
    json_builder_set_member_name(b, "skipped");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "clean");
    json_builder_add_boolean_value(b, n_changes == 0);
    json_builder_set_member_name(b, "seed");
    json_builder_add_int_value(b, (gint64) seed);
    json_builder_set_member_name(b, "board_seed");
    json_builder_add_int_value(b, (gint64) board_seed);
    json_builder_set_member_name(b, "difficulty");
    json_builder_add_string_value(b, "synthetic");
    truth_capture(b, cam);
    json_builder_end_object(b);
    return save_json(b, path, error);
}

gboolean
write_profile(const char *path, const char *golden, const Scene *sc, double ppm, guint64 seed,
              GError **error)
{
    int bmc[4], flash[4], sticker[4];
    mm_to_px_box(sc->zone_bmc, ppm, bmc);
    mm_to_px_box(sc->zone_flash, ppm, flash);
    mm_to_px_box(box_grow(sc->sticker, 0.5), ppm, sticker);
    g_autofree char *pdir = g_path_get_dirname(path), *gdir = g_path_get_dirname(golden);
    g_autofree char *gbase = g_path_get_basename(golden);
    g_autofree char *gabs = g_canonicalize_filename(golden, NULL);
    g_autofree char *pd = g_canonicalize_filename(pdir, NULL),
                    *gd = g_canonicalize_filename(gdir, NULL);
    const char *gname = g_strcmp0(pd, gd) == 0 ? gbase : gabs;
    char ppm_s[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(ppm_s, sizeof ppm_s, "%g", ppm);
    g_autoptr(GString) holes = g_string_new(NULL);
    for (guint k = 0; k < sc->holes->len; k++) {
        const Via *v = &g_array_index(sc->holes, Via, k);
        double m = v->r + 0.6; /* the ring and a margin */
        g_string_append_printf(holes, "; %d, %d, %d, %d", (int) floor((v->x - m) * ppm),
                               (int) floor((v->y - m) * ppm), (int) ceil(2 * m * ppm),
                               (int) ceil(2 * m * ppm));
    }
    g_autofree char *text = g_strdup_printf(
        "# Demo board drawn by synthboard (tests/tools/synthboard/): seed %" G_GUINT64_FORMAT
        ", %g x %g mm.\n"
        "# Regenerate with scripts/make-samples.sh. Rectangles are x, y, w, h in golden pixels.\n"
        "[board]\n"
        "name = demo\n"
        "golden = %s\n"
        "px-per-mm = %s\n"
        "\n"
        "# The BMC (U1), its decoupling and the spare footprints U90, R91, U92, C93 between it\n"
        "# and the SPI flash: where an implant would go.\n"
        "[zone BMC]\n"
        "rect = %d, %d, %d, %d\n"
        "sensitivity = 1.5\n"
        "\n"
        "[zone SPI flash]\n"
        "rect = %d, %d, %d, %d\n"
        "sensitivity = 1.25\n"
        "\n"
        "# The serial-number sticker differs from board to board; the plated mounting rings\n"
        "# catch the light differently in every photo.\n"
        "[ignore]\n"
        "rects = %d, %d, %d, %d%s\n",
        seed, sc->width_mm, sc->height_mm, gname, ppm_s, bmc[0], bmc[1], bmc[2], bmc[3], flash[0],
        flash[1], flash[2], flash[3], sticker[0], sticker[1], sticker[2], sticker[3], holes->str);
    return g_file_set_contents(path, text, -1, error);
}
