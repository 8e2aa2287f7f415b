/* libFuzzer harness: the batch manifest reader (src/batch/manifest.c) on arbitrary bytes, as a
 * path list, a CSV and a JSONL manifest. Any input must give items or a GError naming the line,
 * never a crash, a leak or undefined behaviour; every item has a photo path, and a board name
 * is never a path.
 * fuzz-sources: src/batch/manifest.c
 */
#include <stdint.h>
#include <string.h>
#include "batch/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    static const BatchManifestFormat formats[]
        = { BATCH_MANIFEST_LIST, BATCH_MANIFEST_CSV, BATCH_MANIFEST_JSONL };
    for (guint f = 0; f < G_N_ELEMENTS(formats); f++) {
        GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify) batch_item_free);
        GError *error = NULL;
        gboolean ok = batch_manifest_parse((const char *) data, size, formats[f], "base", "fuzz",
                                           items, &error);
        g_assert(ok == (error == NULL));
        if (!ok) {
            g_assert(strncmp(error->message, "fuzz", 4) == 0);
            g_clear_error(&error);
        }
        for (guint i = 0; i < items->len; i++) {
            const BatchItem *it = g_ptr_array_index(items, i);
            g_assert(it->path != NULL && *it->path != '\0');
            g_assert(it->board == NULL || strchr(it->board, '/') == NULL);
        }
        g_ptr_array_unref(items);
    }
    return 0;
}
