/* pcbdiff images: an 8-bit RGB or grey raster with a stride, owned or a view.
 *
 *     g_autoptr(GError) error = NULL;
 *     g_autoptr(PcbImage) img = pcb_image_load("photo.jpg", NULL, &error);
 *     if (img == NULL) { g_printerr("%s\n", error->message); return 2; }
 *     guint8 *row = pcb_image_row(img, y);   // row y: width * format bytes, rows stride apart
 *
 * Rows are stride bytes apart and are not assumed contiguous. Pixels are RGB (never BGR).
 */
#ifndef PCBDIFF_IMAGE_H
#define PCBDIFF_IMAGE_H

#include "pcbdiff/api.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    PCB_FORMAT_GRAY8 = 1, /* also the number of bytes per pixel */
    PCB_FORMAT_RGB8 = 3,
} PcbFormat;

typedef struct {
    int width, height;
    PcbFormat format;
    size_t stride; /* bytes per row */
    guint8 *data;
} PcbImage; /* from pcb_image_new() or pcb_image_new_view() only; freed by pcb_image_free() */

/* Default pixel cap: 250 megapixels per image. Checked before any allocation. */
#define PCB_DEFAULT_MAX_PIXELS ((guint64) 250000000)

/* The cap applies process-wide (decoders and pcb_image_new). 0 restores the default.
 * The environment variable PCBDIFF_MAX_MEGAPIXELS sets the initial value. Set it before
 * inspections start; reading it is thread-safe. */
PCB_API void pcb_set_max_pixels(guint64 max_pixels);
PCB_API guint64 pcb_get_max_pixels(void);

/* A new zero-filled image (pcb_image_free() it). Fails with PCB_ERROR_LIMIT over the cap, or
 * PCB_ERROR_DECODE for sizes < 1. */
PCB_API PcbImage *pcb_image_new(int width, int height, PcbFormat format, GError **error);
/* A view over pixels someone else owns (pcb_image_free() frees the view, not @data). */
PCB_API PcbImage *pcb_image_new_view(int width, int height, PcbFormat format, size_t stride,
                                     guint8 *data);
/* A deep copy that owns its pixels (pcb_image_free() it), or NULL with PCB_ERROR_LIMIT. */
PCB_API PcbImage *pcb_image_copy(const PcbImage *image, GError **error);
PCB_API void pcb_image_free(PcbImage *image); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcbImage, pcb_image_free)

static inline guint8 *
pcb_image_row(const PcbImage *image, int y)
{
    return image->data + (size_t) y * image->stride;
}

/* A grey copy (ITU-R BT.601 luma) of an RGB image, or a copy of a grey one (pcb_image_free()
 * it); NULL with PCB_ERROR_LIMIT. */
PCB_API PcbImage *pcb_image_to_gray(const PcbImage *image, GError **error);

typedef struct {
    PcbFormat format; /* output format; default RGB8 */
    int scale_denom;  /* 1 (default), 2, 4 or 8: JPEG decodes at 1/n through DCT scaling;
                         PNG decodes full and is reduced by area averaging */
} PcbLoadOptions;

PCB_API void pcb_load_options_init(PcbLoadOptions *opts);

/* Reads a JPEG or PNG (sniffed by content, not name) into a new image (pcb_image_free() it;
 * @opts may be NULL for RGB8 at full size). JPEG EXIF orientation is applied.
 * Errors: PCB_ERROR_IO (cannot read), PCB_ERROR_DECODE (empty, corrupt, truncated,
 * unsupported), PCB_ERROR_LIMIT (over the pixel cap). The message names the file. */
PCB_API PcbImage *pcb_image_load(const char *path, const PcbLoadOptions *opts, GError **error);
PCB_API PcbImage *pcb_image_load_memory(const guint8 *data, gsize len, const PcbLoadOptions *opts,
                                        GError **error);

/* The bytes of @path (g_free them), for pcb_image_load_memory. PCB_ERROR_IO naming the file. */
PCB_API guint8 *pcb_image_read_bytes(const char *path, gsize *len, GError **error);

/* Header only: size as it will be after EXIF orientation. */
PCB_API gboolean pcb_image_probe(const char *path, int *width, int *height, GError **error);
/* The same from memory; *@scalable (optional) tells whether scale_denom decodes at reduced
 * size without the full resolution (JPEG's DCT scaling) rather than by reducing it (PNG). */
PCB_API gboolean pcb_image_probe_memory(const guint8 *data, gsize len, int *width, int *height,
                                        gboolean *scalable, GError **error);

/* Writers are atomic: a temporary file beside @path, then rename(2). PNG or JPEG by call. */
PCB_API gboolean pcb_image_save_png(const PcbImage *image, const char *path, GError **error);
PCB_API gboolean pcb_image_save_jpeg(const PcbImage *image, const char *path, int quality,
                                     GError **error);

G_END_DECLS

#endif
