/* The loader's front door: read, sniff by content, dispatch to a codec, name the file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "pcbdiff/error.h"
#include "io/io_internal.h"

/* pcb_image_probe reads this much first; the header of nearly every file fits (EXIF is at
 * most 64 KiB). If it does not, the whole file is read. */
#define PROBE_PREFIX ((gsize) 1 << 20)

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

void
pcb_load_options_init(PcbLoadOptions *opts)
{
    g_return_if_fail(opts != NULL);
    opts->format = PCB_FORMAT_RGB8;
    opts->scale_denom = 1;
}

PcbIoKind
pcb_io_sniff(const guint8 *data, gsize len)
{
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return PCB_IO_JPEG;
    if (len >= sizeof png_signature && memcmp(data, png_signature, sizeof png_signature) == 0)
        return PCB_IO_PNG;
    return PCB_IO_UNKNOWN;
}

gboolean
pcb_io_check_size(guint64 width, guint64 height, GError **error)
{
    if (width < 1 || height < 1 || width > INT_MAX || height > INT_MAX) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE,
                    "image header declares an invalid size (%" G_GUINT64_FORMAT
                    " x %" G_GUINT64_FORMAT ")",
                    width, height);
        return FALSE;
    }
    guint64 pixels = width * height; /* both < 2^31: no overflow */
    guint64 cap = pcb_get_max_pixels();
    if (pixels > cap) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT,
                    "image is %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT
                    " = %.1f megapixels, over the limit of %.1f megapixels "
                    "(--max-megapixels or PCBDIFF_MAX_MEGAPIXELS)",
                    width, height, (double) pixels / 1e6, (double) cap / 1e6);
        return FALSE;
    }
    return TRUE;
}

/* Reads at most @limit bytes of @path. *whole says whether that was the whole file.
 * Errors are PCB_ERROR_IO with the bare reason; the caller adds the path. */
static gboolean
read_file(const char *path, gsize limit, guint8 **data, gsize *len, gboolean *whole, GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int open_errno = errno;
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot open: %s", g_strerror(open_errno));
        return FALSE;
    }
    struct stat st;
    int e = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e != 0) {
        close(fd);
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read: %s", g_strerror(e));
        return FALSE;
    }
    /* regular files: one allocation of the right size (+1 to see the end at once);
     * pipes and devices: grow as needed */
    gsize cap = S_ISREG(st.st_mode) && st.st_size >= 0 && (guint64) st.st_size < limit
                    ? (gsize) st.st_size + 1
                    : MIN(limit, (gsize) 1 << 16);
    gsize used = 0;
    g_autofree guint8 *buf = g_try_malloc(MAX(cap, 1));
    if (buf == NULL) {
        close(fd);
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read: file too large for memory");
        return FALSE;
    }
    gboolean eof = FALSE;
    while (used < limit) {
        if (used == cap) {
            gsize bigger = cap > limit / 2 ? limit : cap * 2;
            guint8 *grown = g_try_realloc(buf, bigger);
            if (grown == NULL) {
                close(fd);
                g_set_error(error, PCB_ERROR, PCB_ERROR_IO,
                            "cannot read: file too large for memory");
                return FALSE;
            }
            buf = grown;
            cap = bigger;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            close(fd);
            g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read: %s", g_strerror(e));
            return FALSE;
        }
        if (n == 0) {
            eof = TRUE;
            break;
        }
        used += (gsize) n;
    }
    close(fd);
    *whole = eof;
    *len = used;
    *data = g_steal_pointer(&buf);
    return TRUE;
}

static gboolean
check_options(const PcbLoadOptions *opts, GError **error)
{
    if (opts->format != PCB_FORMAT_RGB8 && opts->format != PCB_FORMAT_GRAY8) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "unknown output format %d",
                    (int) opts->format);
        return FALSE;
    }
    if (opts->scale_denom != 1 && opts->scale_denom != 2 && opts->scale_denom != 4
        && opts->scale_denom != 8) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "scale must be 1, 2, 4 or 8, not %d",
                    opts->scale_denom);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_kind(const guint8 *data, gsize len, PcbIoKind *kind, GError **error)
{
    if (len == 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "empty file");
        return FALSE;
    }
    *kind = pcb_io_sniff(data, len);
    if (*kind == PCB_IO_UNKNOWN) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE,
                    "unsupported image format (not JPEG or PNG)");
        return FALSE;
    }
    return TRUE;
}

PcbImage *
pcb_image_load_memory(const guint8 *data, gsize len, const PcbLoadOptions *opts, GError **error)
{
    g_return_val_if_fail(data != NULL || len == 0, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    PcbLoadOptions defaults;
    if (opts == NULL) {
        pcb_load_options_init(&defaults);
        opts = &defaults;
    }
    PcbIoKind kind = PCB_IO_UNKNOWN;
    if (!check_options(opts, error) || !check_kind(data, len, &kind, error))
        return NULL;
    if (kind == PCB_IO_JPEG)
        return pcb_io_jpeg_decode(data, len, opts->format, opts->scale_denom, error);
    return pcb_io_png_decode(data, len, opts->format, opts->scale_denom, error);
}

PcbImage *
pcb_image_load(const char *path, const PcbLoadOptions *opts, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    g_autoptr(GError) local = NULL;
    g_autofree guint8 *data = NULL;
    gsize len = 0;
    gboolean whole = FALSE;
    PcbImage *image = NULL;
    if (read_file(path, G_MAXSIZE, &data, &len, &whole, &local))
        image = pcb_image_load_memory(data, len, opts, &local);
    if (image == NULL) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", path);
        return NULL;
    }
    return image;
}

guint8 *
pcb_image_read_bytes(const char *path, gsize *len, GError **error)
{
    g_autoptr(GError) local = NULL;
    guint8 *data = NULL;
    gboolean whole = FALSE;
    if (!read_file(path, G_MAXSIZE, &data, len, &whole, &local)) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", path);
        return NULL;
    }
    return data;
}

static gboolean
probe_memory(const guint8 *data, gsize len, int *width, int *height, GError **error)
{
    return pcb_image_probe_memory(data, len, width, height, NULL, error);
}

gboolean
pcb_image_probe_memory(const guint8 *data, gsize len, int *width, int *height, gboolean *scalable,
                       GError **error)
{
    PcbIoKind kind = PCB_IO_UNKNOWN;
    if (!check_kind(data, len, &kind, error))
        return FALSE;
    if (scalable != NULL)
        *scalable = kind == PCB_IO_JPEG;
    if (kind == PCB_IO_JPEG)
        return pcb_io_jpeg_probe(data, len, width, height, error);
    return pcb_io_png_probe(data, len, width, height, error);
}

gboolean
pcb_image_probe(const char *path, int *width, int *height, GError **error)
{
    g_return_val_if_fail(path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    g_autoptr(GError) local = NULL;
    g_autofree guint8 *data = NULL;
    gsize len = 0;
    gboolean whole = FALSE;
    int w = 0, h = 0;
    gboolean ok = read_file(path, PROBE_PREFIX, &data, &len, &whole, &local);
    if (ok) {
        ok = probe_memory(data, len, &w, &h, &local);
        if (!ok && !whole && g_error_matches(local, PCB_ERROR, PCB_ERROR_DECODE)) {
            /* the header may not fit in the prefix: read it all */
            g_clear_error(&local);
            g_clear_pointer(&data, g_free);
            ok = read_file(path, G_MAXSIZE, &data, &len, &whole, &local)
                 && probe_memory(data, len, &w, &h, &local);
        }
    }
    if (!ok) {
        g_propagate_prefixed_error(error, g_steal_pointer(&local), "%s: ", path);
        return FALSE;
    }
    if (width != NULL)
        *width = w;
    if (height != NULL)
        *height = h;
    return TRUE;
}
