/* Runs a libFuzzer harness once on each file given (the corpus and every crash ever found),
 * without libFuzzer: `make test` replays them under ASan and UBSan. */
#include <stdint.h>
#include <stdio.h>
#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        char *bytes = NULL;
        gsize len = 0;
        if (!g_file_get_contents(argv[i], &bytes, &len, NULL)) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        LLVMFuzzerTestOneInput((const uint8_t *) bytes, len);
        g_free(bytes);
        n++;
    }
    printf("replayed %d inputs\n", n);
    return 0;
}
