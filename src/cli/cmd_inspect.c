/* pcbdiff inspect: the whole pipeline on one photo. */
#include <string.h>
#include <stdio.h>
#include "cli/cli.h"

static const char summary[]
    = "Compares PHOTO with the golden REFERENCE (an image, or a board folder with board.ini)\n"
      "and reports added, removed and altered components.\n\n"
      "Exit status: 0 no findings, 1 findings (or the board or a zone could not be judged\n"
      "from this photo: seen too obliquely, under another light, hidden), 2 usage/input/output\n"
      "trouble, 3 the photo could not be registered to the reference.";

/* The summary, the overlay, the review page, then the JSON report (so that it can say how long
 * the overlay and the page took); the exit code. */
static int
write_outputs(PcbInspection *insp, const CliCommon *common, const char *json, const char *overlay,
              const char *sign_key, const PcbBoard *board, const char *html)
{
    g_autoptr(GError) error = NULL;
    if (!common->quiet)
        pcb_report_print_text(insp, stdout);
    double t0 = g_get_monotonic_time() / 1e3;
    if (overlay != NULL && !pcb_report_write_overlay(insp, overlay, &error))
        return cli_fail(error);
    if (overlay != NULL) {
        PcbTiming t = { "outputs", g_get_monotonic_time() / 1e3 - t0 };
        g_array_append_val(insp->timings, t);
        g_info("%-12s %8.1f ms  (the overlay)", t.stage, t.ms);
    }
    if (html != NULL && !cli_write_review(insp, board, NULL, html, &error))
        return cli_fail(error);
    if (json != NULL && !cli_write_report(insp, NULL, json, sign_key, &error))
        return cli_fail(error);
    /* a zone not judged is no pass either */
    return strcmp(pcb_inspection_verdict(insp), "pass") != 0 ? PCB_EXIT_FINDINGS : PCB_EXIT_PASS;
}

int
cmd_inspect(int argc, char **argv)
{
    CliCommon common = { 0 };
    g_auto(CliParams) cp = { 0 };
    g_autofree char *json = NULL;
    g_autofree char *overlay = NULL;
    g_autofree char *board_dir = NULL;
    g_autofree char *sign_key = NULL;
    g_autofree char *html = NULL;
    GOptionEntry entries[]
        = { { "board", 'b', 0, G_OPTION_ARG_FILENAME, &board_dir,
              "Board folder (golden image + board.ini); replaces REFERENCE", "DIR" },
            { "json", 'j', 0, G_OPTION_ARG_FILENAME, &json, "Write the JSON report here",
              "REPORT" },
            { "overlay", 'o', 0, G_OPTION_ARG_FILENAME, &overlay,
              "Write the annotated overlay (PNG, or JPEG by extension)", "IMAGE" },
            { "sign", 0, 0, G_OPTION_ARG_FILENAME, &sign_key,
              "Sign the JSON report with this Ed25519 private key (pcbdiff keygen)", "KEY" },
            { "html", 0, 0, G_OPTION_ARG_FILENAME, &html,
              "Write the review page (HTML, its images in the folder PAGE.d)", "PAGE" },
            G_OPTION_ENTRY_NULL };
    g_autoptr(GOptionContext) ctx = g_option_context_new("REFERENCE PHOTO  |  --board DIR PHOTO");
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, cli_params_group(&cp));
    g_option_context_add_group(ctx, cli_common_group(&common));
    g_autoptr(GError) error = NULL;
    if (!cli_parse(ctx, "inspect", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    if (!cli_common_apply(&common, &error))
        return cli_fail(error);
    int want = board_dir ? 2 : 3;
    if (argc != want) {
        g_printerr("pcbdiff inspect: expected %s (see pcbdiff inspect --help)\n",
                   board_dir ? "--board DIR PHOTO" : "REFERENCE PHOTO");
        return PCB_EXIT_TROUBLE;
    }
    PcbInspectParams params;
    /* the options alone first: a bad one fails before any file is read */
    if (!cli_params_build(&cp, NULL, &params, &error))
        return cli_fail(error);
    const char *photo = argv[want - 1];
    if (sign_key != NULL && json == NULL) {
        g_printerr("pcbdiff inspect: --sign needs --json (the signature is part of the report)\n");
        return PCB_EXIT_TROUBLE;
    }
    if (sign_key != NULL && !pcb_sign_key_check(sign_key, &error))
        return cli_fail(error);
    const char *outs[] = { json, overlay, html }, *names[] = { "--json", "--overlay", "--html" };
    if (!cli_check_distinct(outs, names, 3, &error) || !cli_check_writable(json, "report", &error)
        || !cli_check_writable(overlay, "overlay", &error)
        || !cli_check_writable(html, "review page", &error))
        return cli_fail(error);

    g_autoptr(PcbBoard) board
        = pcb_board_open(board_dir ? board_dir : argv[1], params.px_per_mm, &error);
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    gboolean ok = board != NULL && cli_params_build(&cp, board, &params, &error);
    params.keep_images = overlay != NULL || html != NULL;
    if (!ok || !pcb_inspect(board, photo, &params, insp, &error)) {
        int code = cli_fail_report(insp, photo, error, json, sign_key);
        g_autoptr(GError) werr = NULL;
        if (html != NULL && !cli_write_review(insp, board, error, html, &werr))
            g_printerr("pcbdiff: %s\n", werr->message);
        return code;
    }
    return write_outputs(insp, &common, json, overlay, sign_key, board, html);
}
