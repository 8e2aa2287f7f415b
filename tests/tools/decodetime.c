/* decodetime FILE...: the decode-only floor for `make bench`. Reads each file into memory,
 * then times pcb_image_load_memory (full-resolution RGB, libjpeg-turbo / libpng) on one
 * thread, best of three, and prints one line per file and the sum in ms. */
#include <stdio.h>
#include "pcbdiff/pcbdiff.h"
#include "core/util.h"

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: decodetime FILE...\n");
        return 2;
    }
    double total = 0;
    for (int i = 1; i < argc; i++) {
        g_autoptr(GError) error = NULL;
        gsize len = 0;
        g_autofree guint8 *data = pcb_image_read_bytes(argv[i], &len, &error);
        if (data == NULL) {
            fprintf(stderr, "decodetime: %s\n", error->message);
            return 2;
        }
        double best = G_MAXDOUBLE;
        for (int run = 0; run < 3; run++) {
            double t0 = pcb_now_ms();
            g_autoptr(PcbImage) img = pcb_image_load_memory(data, len, NULL, &error);
            if (img == NULL) {
                fprintf(stderr, "decodetime: %s: %s\n", argv[i], error->message);
                return 2;
            }
            best = MIN(best, pcb_now_ms() - t0);
        }
        printf("%s %.1f\n", argv[i], best);
        total += best;
    }
    printf("total %.1f\n", total);
    return 0;
}
