/* libFuzzer harness: the JPEG and PNG loaders (sniffing, EXIF orientation, DCT-scaled and grey
 * decodes, the header probe) on arbitrary bytes. Any input must give an image or a GError,
 * never a crash, a leak or undefined behaviour. */
#include <stdint.h>
#include "pcbdiff/pcbdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gboolean once;
    if (!once) {
        pcb_init(1);
        pcb_set_max_pixels(4000000); /* big headers fail fast instead of allocating */
        once = TRUE;
    }
    int w = 0, h = 0;
    gboolean scalable = FALSE;
    GError *error = NULL;
    if (!pcb_image_probe_memory(data, size, &w, &h, &scalable, &error))
        g_clear_error(&error);
    PcbLoadOptions opts[3];
    for (int i = 0; i < 3; i++)
        pcb_load_options_init(&opts[i]);
    opts[1].format = PCB_FORMAT_GRAY8;
    opts[2].scale_denom = 4;
    for (int i = 0; i < 3; i++) {
        PcbImage *img = pcb_image_load_memory(data, size, &opts[i], &error);
        if (img == NULL) {
            g_assert(error != NULL && error->message != NULL);
            g_clear_error(&error);
        }
        pcb_image_free(img);
    }
    return 0;
}
