/* pcbdiff register: the photo warped into the reference frame, for debugging at the bench. */
#include <stdio.h>
#include "cli/cli.h"

static void
print_registration(const PcbRegistration *r, const char *photo, const char *reference,
                   const char *out)
{
    printf("registered %s onto %s\n", photo, reference);
    printf("  homography photo->reference: [%.6g %.6g %.6g; %.6g %.6g %.6g; %.6g %.6g %.6g]\n",
           r->h[0], r->h[1], r->h[2], r->h[3], r->h[4], r->h[5], r->h[6], r->h[7], r->h[8]);
    printf("  scale %.4f photo px per reference px, rotation %.2f deg\n", r->scale,
           r->rotation_deg);
    printf("  coarse %d inliers of %d matches; refined %d of %d tiles, rms %.3f px\n",
           r->coarse_inliers, r->coarse_matches, r->inliers, r->tiles, r->rms_px);
    printf("  local field p95 %.2f px, coverage %.1f%%\n", r->field_p95_px, 100 * r->coverage);
    printf("  wrote %s\n", out);
}

int
cmd_register(int argc, char **argv)
{
    CliCommon common = { 0 };
    g_auto(CliParams) cp = { 0 };
    g_autofree char *out = NULL;
    g_autofree char *json = NULL;
    GOptionEntry entries[]
        = { { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
              "Write the photo warped into the reference frame (PNG, or JPEG by extension)",
              "WARPED" },
            { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json,
              "Write the transform and quality figures (report format, no findings)", "REPORT" },
            G_OPTION_ENTRY_NULL };
    g_autoptr(GOptionContext) ctx = g_option_context_new("REFERENCE PHOTO --out WARPED");
    g_option_context_set_summary(ctx, "Registers PHOTO onto REFERENCE (image or board folder) and "
                                      "writes the warped photo.\n\nExit status: 0 registered, 2 "
                                      "trouble, 3 could not register.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, cli_params_group(&cp));
    g_option_context_add_group(ctx, cli_common_group(&common));
    g_autoptr(GError) error = NULL;
    if (!cli_parse(ctx, "register", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    if (!cli_common_apply(&common, &error))
        return cli_fail(error);
    if (argc != 3 || out == NULL) {
        g_printerr("pcbdiff register: expected REFERENCE PHOTO --out WARPED (see pcbdiff "
                   "register --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    PcbInspectParams params;
    const char *outs[] = { out, json }, *names[] = { "--out", "--json" };
    if (!cli_params_build(&cp, NULL, &params, &error) || !cli_check_distinct(outs, names, 2, &error)
        || !cli_check_writable(out, "warped image", &error)
        || !cli_check_writable(json, "report", &error))
        return cli_fail(error);
    g_autoptr(PcbBoard) board = pcb_board_open(argv[1], params.px_per_mm, &error);
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    gboolean ok = board != NULL && cli_params_build(&cp, board, &params, &error);
    params.keep_images = TRUE;
    params.stop_after = PCB_STOP_AFTER_WARP;
    if (!ok || !pcb_inspect(board, argv[2], &params, insp, &error))
        return cli_fail_report(insp, argv[2], error, json, NULL);
    gboolean jpeg = g_str_has_suffix(out, ".jpg") || g_str_has_suffix(out, ".jpeg")
                    || g_str_has_suffix(out, ".JPG") || g_str_has_suffix(out, ".JPEG");
    if (!(jpeg ? pcb_image_save_jpeg(insp->warped, out, 92, &error)
               : pcb_image_save_png(insp->warped, out, &error)))
        return cli_fail(error);
    if (json != NULL && !pcb_report_write_json(insp, NULL, json, &error))
        return cli_fail(error);
    if (!common.quiet)
        print_registration(&insp->reg, argv[2], argv[1], out);
    return PCB_EXIT_PASS;
}
