/* The parameter table: `pcbdiff params` lists every tunable; board.ini's [register], [diff],
 * [findings] groups and `--set KEY=VALUE` override them (the command line last); a bad key or
 * value is exit 2 naming the key and its range. Uses the bundled demo board and sample. */
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "testutil.h"

static char *demo_dir, *implant_jpg;

/* A copy of the demo board folder with @extra appended to its board.ini. */
static char *
demo_with(const char *name, const char *extra)
{
    g_autofree char *dir = g_build_filename(tu_tmpdir(), name, NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_autofree char *ini = NULL;
    g_autofree char *src_ini = g_build_filename(demo_dir, "board.ini", NULL);
    g_assert_true(g_file_get_contents(src_ini, &ini, NULL, NULL));
    g_autofree char *golden = g_build_filename(demo_dir, "golden.png", NULL);
    /* the golden by absolute path: no copy needed */
    g_autofree char *text = g_strdup_printf("%s\n%s", ini, extra);
    g_autofree char *fixed = NULL;
    {
        g_auto(GStrv) parts = g_strsplit(text, "golden = golden.png", 2);
        g_autofree char *line = g_strdup_printf("golden = %s", golden);
        fixed = g_strjoinv(line, parts);
    }
    g_autofree char *out = g_build_filename(dir, "board.ini", NULL);
    g_assert_true(g_file_set_contents(out, fixed, -1, NULL));
    return g_steal_pointer(&dir);
}

/* The "value" of @key in `pcbdiff params --json` run with @args (NULL-terminated, up to 4). */
static double
effective(const char *key, const char *a0, const char *a1, const char *a2, const char *a3)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "params", "--json", a0, a1, a2, a3, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, r.out, -1, NULL));
    JsonArray *a
        = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "parameters");
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *o = json_array_get_object_element(a, i);
        if (strcmp(json_object_get_string_member(o, "key"), key) == 0) {
            g_assert_true(json_object_has_member(o, "value"));
            return json_object_get_double_member(o, "value");
        }
    }
    g_error("no parameter %s", key);
}

static void
test_lists_every_parameter(void)
{
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "params", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_auto(GStrv) lines = g_strsplit(g_strstrip(r.out), "\n", 0);
    g_assert_cmpuint(g_strv_length(lines), ==, pcb_param_count() + 1); /* + the header */
    for (guint i = 0; i < pcb_param_count(); i++) {
        const PcbParamSpec *s = pcb_param_nth(i);
        g_autofree char *key = pcb_param_key(s);
        g_autofree char *def = pcb_param_format(s, s->def);
        g_assert_true(g_str_has_prefix(lines[i + 1], key));
        g_assert_nonnull(strstr(lines[i + 1], def));
        g_assert_nonnull(strstr(lines[i + 1], s->meaning));
        g_assert_cmpfloat(s->def, >=, s->min);
        g_assert_cmpfloat(s->def, <=, s->max);
    }
    /* the README's table is this table */
    g_auto(TuRun) md = { 0 };
    tu_run(&md, "params", "--markdown", NULL);
    g_assert_cmpint(md.status, ==, 0);
    g_autofree char *readme_path = g_build_filename(tu_srcdir(), "README.md", NULL);
    g_autofree char *readme = NULL;
    g_assert_true(g_file_get_contents(readme_path, &readme, NULL, NULL));
    if (strstr(readme, md.out) == NULL)
        g_error("README.md's parameter table differs from `pcbdiff params --markdown`:\n%s",
                md.out);
}

static void
test_defaults_match_init(void)
{
    PcbInspectParams p;
    pcb_inspect_params_init(&p);
    g_assert_true(pcb_inspect_params_check(&p, NULL));
    for (guint i = 0; i < pcb_param_count(); i++) {
        const PcbParamSpec *s = pcb_param_nth(i);
        g_assert_cmpfloat(pcb_inspect_params_get(&p, s), ==, s->def);
    }
    g_autoptr(GError) error = NULL;
    g_assert_true(pcb_inspect_params_set(&p, "diff.tolerance-px", "2.5", &error));
    g_assert_cmpfloat(p.diff.tolerance_px, ==, 2.5);
    g_assert_true(pcb_inspect_params_set(&p, "register.local-field", "off", &error));
    g_assert_false(p.reg.local_field);
    g_assert_true(pcb_inspect_params_set(&p, "register.min-inliers", "30", &error));
    g_assert_cmpint(p.reg.min_inliers, ==, 30);
    g_assert_false(pcb_inspect_params_set(&p, "register.min-inliers", "30.5", &error));
    g_assert_error(error, PCB_ERROR, PCB_ERROR_USAGE);
    g_assert_cmpint(p.reg.min_inliers, ==, 30); /* unchanged */
}

static void
test_set_changes_the_inspection(void)
{
    g_auto(TuRun) base = { 0 };
    tu_run(&base, "inspect", "--board", demo_dir, implant_jpg, "-q", NULL);
    g_assert_cmpint(base.status, ==, PCB_EXIT_FINDINGS);
    /* no finding can be 1000 mm^2: the implant is no longer reported */
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", "--board", demo_dir, implant_jpg, "-q", "--set",
           "findings.min-area-mm2=1000", NULL);
    g_assert_cmpint(r.status, ==, PCB_EXIT_PASS);
    g_assert_cmpfloat(
        effective("findings.min-area-mm2", "--set", "findings.min-area-mm2=7", NULL, NULL), ==, 7);
}

static void
test_board_overrides(void)
{
    g_autofree char *dir = demo_with("override", "[findings]\nmin-area-mm2 = 1000\n\n[diff]\n"
                                                 "tolerance-px = 2 ; comment\n");
    g_assert_cmpfloat(effective("diff.tolerance-px", "--board", dir, NULL, NULL), ==, 2);
    g_assert_cmpfloat(effective("findings.min-area-mm2", "--board", dir, NULL, NULL), ==, 1000);
    /* the command line wins over the board */
    g_assert_cmpfloat(
        effective("diff.tolerance-px", "--board", dir, "--set", "diff.tolerance-px=1"), ==, 1);
    g_auto(TuRun) r = { 0 };
    tu_run(&r, "inspect", "--board", dir, implant_jpg, "-q", NULL);
    g_assert_cmpint(r.status, ==, PCB_EXIT_PASS);
    g_auto(TuRun) back = { 0 };
    tu_run(&back, "inspect", "--board", dir, implant_jpg, "-q", "--set",
           "findings.min-area-mm2=0.2", NULL);
    g_assert_cmpint(back.status, ==, PCB_EXIT_FINDINGS);
}

static void
test_bad_keys_and_values(void)
{
    static const struct {
        const char *set, *expect;
    } cases[] = {
        { "diff.nonsense=1", "unknown parameter \"diff.nonsense\"" },
        { "diff.tolerance-px=20", "diff.tolerance-px: 20 is out of range (0 .. 8)" },
        { "register.min-inliers=ten",
          "register.min-inliers: \"ten\" is not a whole number (4 .. 1000)" },
        { "findings.sensitivity=0.1", "findings.sensitivity: 0.1 is out of range (0.25 .. 4)" },
        { "diff.tolerance-px", "--set expects KEY=VALUE" },
        { "findings.low-sigma=12", "findings.low-sigma (12) must not exceed findings.high-sigma" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(TuRun) r = { 0 };
        tu_run(&r, "inspect", "--board", demo_dir, implant_jpg, "--set", cases[i].set, NULL);
        g_assert_cmpint(r.status, ==, PCB_EXIT_TROUBLE);
        if (strstr(r.err, cases[i].expect) == NULL)
            g_error("--set %s: expected \"%s\" in: %s", cases[i].set, cases[i].expect, r.err);
        g_assert_cmpuint(strlen(r.err), <, 200); /* one line */
    }
    g_auto(TuRun) s = { 0 };
    tu_run(&s, "inspect", "--board", demo_dir, implant_jpg, "--sensitivity", "9", NULL);
    g_assert_cmpint(s.status, ==, PCB_EXIT_TROUBLE);
    g_assert_nonnull(strstr(s.err, "findings.sensitivity: 9 is out of range (0.25 .. 4)"));

    g_autofree char *bad = demo_with("bad-key", "[diff]\ntolerance = 2\n");
    g_auto(TuRun) k = { 0 };
    tu_run(&k, "inspect", "--board", bad, implant_jpg, NULL);
    g_assert_cmpint(k.status, ==, PCB_EXIT_TROUBLE);
    g_assert_nonnull(strstr(k.err, "[diff] unknown parameter \"tolerance\""));
    g_autofree char *range = demo_with("bad-range", "[register]\nmin-coverage = 2\n");
    g_auto(TuRun) v = { 0 };
    tu_run(&v, "inspect", "--board", range, implant_jpg, NULL);
    g_assert_cmpint(v.status, ==, PCB_EXIT_TROUBLE);
    g_assert_nonnull(strstr(v.err, "board.ini:"));
    g_assert_nonnull(strstr(v.err, "register.min-coverage: 2 is out of range (0.01 .. 1)"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    demo_dir = g_build_filename(tu_srcdir(), "reference-boards", "demo", NULL);
    implant_jpg = g_build_filename(tu_srcdir(), "samples", "implant-bmc.jpg", NULL);
    g_test_add_func("/params/lists-every-parameter", test_lists_every_parameter);
    g_test_add_func("/params/defaults-match-init", test_defaults_match_init);
    g_test_add_func("/params/set-changes-the-inspection", test_set_changes_the_inspection);
    g_test_add_func("/params/board-overrides", test_board_overrides);
    g_test_add_func("/params/bad-keys-and-values", test_bad_keys_and_values);
    int rc = g_test_run();
    g_free(demo_dir);
    g_free(implant_jpg);
    return rc;
}
