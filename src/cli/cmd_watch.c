/* pcbdiff watch: bench mode (src/watch/). */
#include <stdio.h>
#include "cli/cli.h"
#include "watch/watch.h"

static const char summary[]
    = "Inspects each photo (JPEG, PNG) that arrives in FOLDER, once, in arrival order, as soon\n"
      "as it is complete, against the board prepared once at start; writes each photo's report\n"
      "and review page to the out folder and serves a live page of the latest result and the\n"
      "session's history. Photos already in FOLDER at start are left alone (--existing).\n"
      "Complete: unchanged for --settle seconds and a whole JPEG (through its end marker) or\n"
      "PNG (through IEND); a file still unfinished after --give-up seconds unchanged is taken\n"
      "as it is and its report says why it failed. Hidden and temporary names are ignored.\n\n"
      "Stop with Ctrl-C or SIGTERM: the inspection under way finishes, exit 0.\n"
      "Exit status: 0 stopped by a signal, 2 usage, a missing folder, an unusable board, an\n"
      "address in use or an unwritable out folder (one line on stderr), or the folder went\n"
      "away.";

/* The usage errors of the command line (@argc, @argv: what is left); -1 when there are none. */
static int
check_args(int argc, char **argv, const char *board_dir, double quiet_s, double give_up_s)
{
    if (argc != 2 || board_dir == NULL) {
        g_printerr("pcbdiff watch: expected --board DIR FOLDER (see pcbdiff watch --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    if (!(quiet_s >= WATCH_QUIET_MIN && quiet_s <= WATCH_QUIET_MAX)) {
        g_printerr("pcbdiff watch: --settle %g: out of range (%g to %g seconds)\n", quiet_s,
                   WATCH_QUIET_MIN, WATCH_QUIET_MAX);
        return PCB_EXIT_TROUBLE;
    }
    if (!(give_up_s >= quiet_s && give_up_s <= WATCH_GIVE_UP_MAX)) {
        g_printerr("pcbdiff watch: --give-up %g: out of range (--settle, %g, to %g seconds)\n",
                   give_up_s, quiet_s, WATCH_GIVE_UP_MAX);
        return PCB_EXIT_TROUBLE;
    }
    const char *folder = argv[1];
    if (!g_file_test(folder, G_FILE_TEST_EXISTS)) {
        g_printerr("pcbdiff watch: %s: no such folder\n", folder);
        return PCB_EXIT_TROUBLE;
    }
    if (!g_file_test(folder, G_FILE_TEST_IS_DIR)) {
        g_printerr("pcbdiff watch: %s: not a folder\n", folder);
        return PCB_EXIT_TROUBLE;
    }
    return -1;
}

int
cmd_watch(int argc, char **argv)
{
    CliCommon common = { 0 };
    g_auto(CliParams) cp = { 0 };
    g_autofree char *board_dir = NULL;
    g_autofree char *out = NULL;
    g_autofree char *listen = NULL;
    g_autofree char *sign_key = NULL;
    gboolean existing = FALSE;
    double quiet_s = 1.0, give_up_s = 30.0;
    GOptionEntry entries[]
        = { { "board", 'b', 0, G_OPTION_ARG_FILENAME, &board_dir,
              "Board folder (golden image + board.ini), or a golden image", "DIR" },
            { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
              "Reports and review pages go here (default: FOLDER.pcbdiff beside FOLDER)", "DIR" },
            { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
              "Serve the live page on this address (default 127.0.0.1:8787; port 0: any free)",
              "HOST:PORT" },
            { "settle", 0, 0, G_OPTION_ARG_DOUBLE, &quiet_s,
              "A photo is checked once unchanged this long (default 1, 0.05 to 600)", "SECONDS" },
            { "give-up", 0, 0, G_OPTION_ARG_DOUBLE, &give_up_s,
              "A photo still unfinished after this long unchanged is inspected as it is "
              "(default 30)",
              "SECONDS" },
            { "existing", 0, 0, G_OPTION_ARG_NONE, &existing,
              "Also inspect the photos already in FOLDER at start (oldest first)", NULL },
            { "sign", 0, 0, G_OPTION_ARG_FILENAME, &sign_key,
              "Sign each report with this Ed25519 private key (pcbdiff keygen)", "KEY" },
            G_OPTION_ENTRY_NULL };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--board DIR FOLDER");
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, cli_params_group(&cp));
    g_option_context_add_group(ctx, cli_common_group(&common));
    g_autoptr(GError) error = NULL;
    if (!cli_parse(ctx, "watch", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    if (!cli_common_apply(&common, &error))
        return cli_fail(error);
    int rc = check_args(argc, argv, board_dir, quiet_s, give_up_s);
    if (rc >= 0)
        return rc;
    const char *folder = argv[1];
    PcbInspectParams params;
    if (!cli_params_build(&cp, NULL, &params, &error))
        return cli_fail(error);
    if (sign_key != NULL && !pcb_sign_key_check(sign_key, &error))
        return cli_fail(error);

    PcbBoard *board = pcb_board_open(board_dir, params.px_per_mm, &error);
    if (board == NULL || !cli_params_build(&cp, board, &params, &error)) {
        pcb_board_free(board);
        return cli_fail(error);
    }
    double t0 = g_get_monotonic_time() / 1e3;
    PcbReference *ref = pcb_reference_new(board, &params, &error); /* owns board */
    if (ref == NULL)
        return cli_fail(error);
    g_info("board prepared in %.0f ms", g_get_monotonic_time() / 1e3 - t0);
    WatchOptions opts = { .folder = folder,
                          .out = out,
                          .listen = listen != NULL ? listen : "127.0.0.1:8787",
                          .sign_key = sign_key,
                          .existing = existing,
                          .quiet = common.quiet,
                          .quiet_s = quiet_s,
                          .give_up_s = give_up_s };
    return watch_run(ref, &params, &opts);
}
