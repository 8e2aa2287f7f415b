/* pcbdiff keygen: an Ed25519 key pair for signed reports. */
#include <stdio.h>
#include "cli/cli.h"

int
cmd_keygen(int argc, char **argv)
{
    g_autofree char *out = NULL;
    gboolean force = FALSE;
    GOptionEntry entries[]
        = { { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
              "Write the private key here (mode 0600) and the public key to KEY.pub", "KEY" },
            { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an existing key", NULL },
            G_OPTION_ENTRY_NULL };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--out KEY");
    g_option_context_set_summary(
        ctx, "Makes an Ed25519 key pair for signing reports (pcbdiff inspect --sign KEY).\n"
             "Keep KEY on the inspection machine only; hand KEY.pub to whoever verifies.\n\n"
             "Exit status: 0 written, 2 trouble.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, "keygen", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    if (argc != 1 || out == NULL) {
        g_printerr("pcbdiff keygen: expected --out KEY (see pcbdiff keygen --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    g_autoptr(GError) error = NULL;
    if (!cli_check_writable(out, "key", &error) || !pcb_sign_keygen(out, force, &error))
        return cli_fail(error);
    g_autofree char *id = pcb_sign_key_id(out, &error);
    if (id == NULL)
        return cli_fail(error);
    printf("wrote %s (private, 0600) and %s.pub; key id %s\n", out, out, id);
    return PCB_EXIT_PASS;
}
