/* A program a line integrator would write against an installed libpcbdiff: built by
 * tests/cli/test-install.c with `pkg-config --cflags --libs pcbdiff` only. Inspects PHOTO against
 * the board folder BOARD and prints "VERDICT N" (N findings); exit 0 when it finished. */
#include <stdio.h>
#include <pcbdiff/pcbdiff.h>

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: example BOARD PHOTO\n");
        return 2;
    }
    pcb_init(1);
    GError *error = NULL;
    PcbBoard *board = pcb_board_load(argv[1], &error);
    if (board == NULL) {
        fprintf(stderr, "example: %s\n", error->message);
        g_error_free(error);
        return 2;
    }
    PcbInspection *insp = pcb_inspection_new();
    gboolean ok = pcb_inspect(board, argv[2], NULL, insp, &error);
    if (ok)
        printf("%s %u\n", pcb_inspection_verdict(insp), insp->findings->len);
    else {
        fprintf(stderr, "example: %s\n", error->message);
        g_error_free(error);
    }
    pcb_inspection_free(insp);
    pcb_board_free(board);
    return ok ? 0 : 1;
}
