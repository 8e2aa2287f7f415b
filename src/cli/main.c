/* pcbdiff: finds tampering on printed circuit boards by comparing photos. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

static void
usage(FILE *f)
{
    fprintf(f, "Usage: pcbdiff COMMAND [OPTIONS] ...\n\n"
               "Finds tampering on printed circuit boards by comparing a photo with a golden "
               "reference.\n\n"
               "Commands:\n"
               "  inspect REFERENCE PHOTO   compare a photo with a golden image or board folder\n"
               "  register REFERENCE PHOTO  warp the photo into the reference frame (debugging)\n"
               "  params                    list every parameter, its default and range\n"
               "  keygen --out KEY          an Ed25519 key pair for signed reports\n"
               "  verify REPORT --pubkey K  check a signed report (and --photo, --reference)\n"
               "  decide REPORT DECISIONS   write a review page's decisions into the report\n"
               "  watch --board DIR FOLDER  bench mode: inspect each photo dropped into FOLDER,\n"
               "                            with a live page\n"
               "  serve --boards DIR        line service: HTTP, hot folder, IPC-CFX over AMQP\n"
               "  batch --db DB PATH...     inspect a photo archive into a results database\n"
               "  db merge|export|summary|verify|review DB   batch results databases\n\n"
               "  pcbdiff COMMAND --help    options of a command\n"
               "  pcbdiff --version         version\n\n"
               "Exit status: 0 no findings, 1 findings (or not judged whole), 2 usage/input/output "
               "trouble, 3 the photo could not be registered.\n");
}

int
main(int argc, char **argv)
{
    /* One inspection allocates and frees many image-sized buffers. Keep freed memory in the
     * heap for the next one instead of returning it to the kernel and faulting fresh zeroed
     * pages in again (the peak stays what the largest stage needs). */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if (argc < 2) {
        usage(stderr);
        return PCB_EXIT_TROUBLE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return PCB_EXIT_PASS;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("pcbdiff %s\n", PCBDIFF_VERSION);
        return PCB_EXIT_PASS;
    }
    if (strcmp(cmd, "inspect") == 0)
        return cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "register") == 0)
        return cmd_register(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "params") == 0)
        return cmd_params(argc - 1, argv + 1);
    if (strcmp(cmd, "decide") == 0)
        return cmd_decide(argc - 1, argv + 1);
    if (strcmp(cmd, "watch") == 0)
        return cmd_watch(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "batch") == 0)
        return cmd_batch(argc - 1, argv + 1);
    if (strcmp(cmd, "db") == 0)
        return cmd_db(argc - 1, argv + 1);
    fprintf(stderr, "pcbdiff: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return PCB_EXIT_TROUBLE;
}
