/* pcbdiff verify: checks a signed report, and optionally that the files are its inputs. */
#include <stdio.h>
#include "cli/cli.h"

int
cmd_verify(int argc, char **argv)
{
    g_autofree char *pubkey = NULL;
    g_autofree char *photo = NULL;
    g_autofree char *reference = NULL;
    GOptionEntry entries[]
        = { { "pubkey", 'k', 0, G_OPTION_ARG_FILENAME, &pubkey,
              "The signer's public key (KEY.pub from pcbdiff keygen)", "KEY.pub" },
            { "photo", 0, 0, G_OPTION_ARG_FILENAME, &photo,
              "Also check that this file is the photo the report was made from", "FILE" },
            { "reference", 0, 0, G_OPTION_ARG_FILENAME, &reference,
              "Also check that this file is the golden image the report was made against", "FILE" },
            G_OPTION_ENTRY_NULL };
    g_autoptr(GOptionContext) ctx = g_option_context_new("REPORT --pubkey KEY.pub");
    g_option_context_set_summary(
        ctx, "Checks the signature of a report written by pcbdiff inspect --sign.\n\n"
             "Exit status: 0 verified, 1 not verified (the reason is printed), 2 trouble\n"
             "(unreadable or malformed report or key).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, "verify", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    if (argc != 2 || pubkey == NULL) {
        g_printerr("pcbdiff verify: expected REPORT --pubkey KEY.pub (see pcbdiff verify "
                   "--help)\n");
        return PCB_EXIT_TROUBLE;
    }
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    if (!g_file_get_contents(argv[1], &text, NULL, &error)) {
        g_printerr("pcbdiff: %s: cannot read the report: %s\n", argv[1], error->message);
        return PCB_EXIT_TROUBLE;
    }
    g_autofree char *id = NULL;
    if (!pcb_report_verify(text, pubkey, photo, reference, &id, &error)) {
        if (g_error_matches(error, PCB_ERROR, PCB_ERROR_VERIFY)) {
            g_printerr("pcbdiff: %s: NOT VERIFIED: %s\n", argv[1], error->message);
            return pcb_error_exit_code(error);
        }
        return cli_fail(error);
    }
    printf("verified: %s signed by key %.16s...%s%s\n", argv[1], id,
           photo != NULL ? ", photo matches" : "", reference != NULL ? ", reference matches" : "");
    return PCB_EXIT_PASS;
}
