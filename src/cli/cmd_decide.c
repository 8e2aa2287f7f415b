/* pcbdiff decide: an operator's decisions from the review page, written into the report. */
#include <stdio.h>
#include "cli/cli.h"

static const char summary[]
    = "Writes the decisions exported from the review page (inspect --html) into REPORT:\n"
      "each finding gets \"verification\" (DefectConfirmed, DefectRejected, DefectAccepted or\n"
      "NotVerifiedYet), the report gets \"review\": {operator, decided_at}. In place, or to\n"
      "--out; written atomically.\n\n"
      "Exit status: 0 written; 2 unreadable files, malformed JSON, decisions for another report,\n"
      "a bad finding index or an unknown verification (one line on stderr says which).";

int
cmd_decide(int argc, char **argv)
{
    CliCommon common = { 0 };
    g_autofree char *out = NULL;
    GOptionEntry entries[]
        = { { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
              "Write the decided report here (default: REPORT itself)", "REPORT2" },
            G_OPTION_ENTRY_NULL };
    g_autoptr(GOptionContext) ctx = g_option_context_new("REPORT DECISIONS");
    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, cli_common_group(&common));
    if (!cli_parse(ctx, "decide", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    g_autoptr(GError) opt_error = NULL;
    if (!cli_common_apply(&common, &opt_error))
        return cli_fail(opt_error);
    if (argc != 3) {
        g_printerr("pcbdiff decide: expected REPORT DECISIONS (see pcbdiff decide --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    const char *report_path = argv[1], *decisions_path = argv[2];
    const char *target = out != NULL ? out : report_path;
    g_autoptr(GError) error = NULL;
    if (!cli_check_writable(target, "report", &error))
        return cli_fail(error);
    int counts[PCB_VERIFICATION_COUNT];
    if (!pcb_report_decide(report_path, decisions_path, out, counts, &error))
        return cli_fail(error);
    if (!common.quiet)
        printf("%s: %d confirmed, %d rejected (false calls), %d accepted, %d not verified\n",
               target, counts[0], counts[1], counts[2], counts[3]);
    return PCB_EXIT_PASS;
}
