/* PNG through libpng's simplified API (png_image_*): no setjmp/longjmp in our code.
 *
 * Every PNG colour type and depth (1..16-bit grey, grey + alpha, RGB, RGBA, palette, tRNS)
 * becomes RGB8 or GRAY8. Alpha is composited onto black (libpng does it, in linear light);
 * 16-bit samples become 8-bit. Colour to grey uses pcb_image_to_gray() (BT.601 on the
 * encoded values), the same luma the JPEG decoder gives, rather than libpng's own. */
#include <limits.h>
#include <png.h>
#include "pcbdiff/error.h"
#include "core/util.h"
#include "io/io_internal.h"

/* g_auto(png_image) png = { .version = PNG_IMAGE_VERSION }: png_image_free on every return
 * (safe at any time, and again after libpng has cleaned up itself) */
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(png_image, png_image_free)

static const png_color black = { 0, 0, 0 };

static gboolean
begin_read(png_image *png, const guint8 *data, gsize len, GError **error)
{
    if (!png_image_begin_read_from_memory(png, data, len)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "cannot read PNG header: %s", png->message);
        return FALSE;
    }
    return pcb_io_check_size(png->width, png->height, error);
}

PcbImage *
pcb_io_png_decode(const guint8 *data, gsize len, PcbFormat format, int scale_denom, GError **error)
{
    g_auto(png_image) png = { .version = PNG_IMAGE_VERSION };
    if (!begin_read(&png, data, len, error))
        return NULL;

    /* 16-bit files without gAMA/sRGB: assume sRGB like most tools, not libpng's linear */
    png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    gboolean file_is_gray = (png.format & PNG_FORMAT_FLAG_COLOR) == 0;
    PcbFormat decode_as = file_is_gray ? format : PCB_FORMAT_RGB8;
    png.format = decode_as == PCB_FORMAT_GRAY8 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;

    g_autoptr(PcbImage) image = pcb_image_new((int) png.width, (int) png.height, decode_as, error);
    if (image == NULL)
        return NULL;
    if (image->stride > INT_MAX) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT, "PNG rows of %u pixels are too long",
                    png.width);
        return NULL;
    }
    if (!png_image_finish_read(&png, &black, image->data, (png_int_32) image->stride, NULL)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "cannot decode PNG: %s", png.message);
        return NULL;
    }
    if (scale_denom > 1) {
        g_autoptr(PcbImage) full = g_steal_pointer(&image);
        image = pcb_io_reduce(full, scale_denom, error);
        if (image == NULL)
            return NULL;
    }
    if (decode_as != format)
        return pcb_image_to_gray(image, error);
    return g_steal_pointer(&image);
}

gboolean
pcb_io_png_probe(const guint8 *data, gsize len, int *width, int *height, GError **error)
{
    g_auto(png_image) png = { .version = PNG_IMAGE_VERSION };
    if (!begin_read(&png, data, len, error))
        return FALSE;
    *width = (int) png.width;
    *height = (int) png.height;
    return TRUE;
}

gboolean
pcb_image_save_png(const PcbImage *image, const char *path, GError **error)
{
    g_return_val_if_fail(image != NULL && image->data != NULL, FALSE);
    g_return_val_if_fail(path != NULL, FALSE);
    g_return_val_if_fail(image->format == PCB_FORMAT_GRAY8 || image->format == PCB_FORMAT_RGB8,
                         FALSE);

    if (image->stride > INT_MAX) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT,
                    "cannot write %s: rows of %" G_GSIZE_FORMAT " bytes are too long for PNG", path,
                    image->stride);
        return FALSE;
    }
    g_auto(png_image) png = { .version = PNG_IMAGE_VERSION };
    png.width = (png_uint_32) image->width;
    png.height = (png_uint_32) image->height;
    png.format = image->format == PCB_FORMAT_GRAY8 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;

    /* One compression pass into a worst-case buffer: untouched pages of a large allocation
     * are never committed, so this costs about the size of the output. */
    png_alloc_size_t cap = PNG_IMAGE_PNG_SIZE_MAX(png);
    g_autofree guint8 *buf = g_try_malloc(cap);
    png_alloc_size_t len = cap;
    if (buf == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT, "cannot write %s: out of memory", path);
        return FALSE;
    }
    if (!png_image_write_to_memory(&png, buf, &len, 0, image->data, (png_int_32) image->stride,
                                   NULL)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: PNG encoder: %s", path,
                    len > cap ? "output larger than its worst case" : png.message);
        return FALSE;
    }
    return pcb_write_file_atomic(path, buf, len, error);
}
