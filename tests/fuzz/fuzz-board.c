/* libFuzzer harness: the board profile parser (board.ini) on arbitrary text, and the board's
 * resolution against a golden size. Any input must give a board or a GError naming the line,
 * never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <glib/gstdio.h>
#include "pcbdiff/pcbdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *dir, *ini;
    if (dir == NULL) {
        dir = g_dir_make_tmp("pcbdiff-fuzz-board-XXXXXX", NULL);
        g_assert(dir != NULL);
        ini = g_build_filename(dir, "board.ini", NULL);
    }
    g_assert(g_file_set_contents(ini, (const char *) data, (gssize) size, NULL));
    GError *error = NULL;
    PcbBoard *board = pcb_board_load(dir, &error);
    if (board == NULL) {
        g_assert(error != NULL && error->message != NULL);
        g_clear_error(&error);
        return 0;
    }
    if (!pcb_board_resolve(board, 640, 480, &error))
        g_clear_error(&error);
    pcb_board_free(board);
    return 0;
}
