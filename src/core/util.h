/* Internal helpers shared by every stage: files, hashes, clocks. Not public API. */
#ifndef PCB_CORE_UTIL_H
#define PCB_CORE_UTIL_H

#include <glib.h>

G_BEGIN_DECLS

/* Writes @len bytes to @path atomically: a temporary file in the same folder, fsync, then
 * rename(2). On failure nothing is left behind and @path is untouched (PCB_ERROR_IO). */
gboolean pcb_write_file_atomic(const char *path, const void *data, gsize len, GError **error);

/* Lowercase hex SHA-256 of @len bytes (libcrypto: the CPU's SHA instructions where it has
 * them); g_free it. */
char *pcb_sha256_data(const guint8 *data, gsize len);

/* A finite decimal number in the C locale and nothing else (no blanks, hex, inf or nan);
 * a whole one when @whole. */
gboolean pcb_parse_number(const char *s, gboolean whole, double *out);

static inline double
pcb_now_ms(void)
{
    return (double) g_get_monotonic_time() / 1000.0;
}

G_END_DECLS

#endif
