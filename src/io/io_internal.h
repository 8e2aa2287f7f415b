/* Image I/O internals shared by the files of src/io/ (and tests/unit/test-io.c). Not public API.
 *
 * The load path is: read the bytes -> sniff the magic -> check the header-declared size
 * against the pixel cap -> decode (JPEG: DCT-scaled; PNG: full, then box-reduced) ->
 * apply EXIF orientation (JPEG only). Codec errors carry no path; pcb_image_load()
 * prefixes "PATH: " to every message. */
#ifndef PCB_IO_INTERNAL_H
#define PCB_IO_INTERNAL_H

#include <glib.h>
#include "pcbdiff/image.h"

G_BEGIN_DECLS

typedef enum {
    PCB_IO_UNKNOWN,
    PCB_IO_JPEG,
    PCB_IO_PNG,
} PcbIoKind;

/* The format of @data from its first bytes (JPEG: FF D8 FF; PNG: the 8-byte signature). */
PcbIoKind pcb_io_sniff(const guint8 *data, gsize len);

/* Checks a header-declared size before anything is allocated for it: DECODE for sizes
 * < 1 or too large for an int, LIMIT over pcb_get_max_pixels() (64-bit maths). */
gboolean pcb_io_check_size(guint64 width, guint64 height, GError **error);

/* Codecs: @format and @scale_denom are already validated by the caller. */
PcbImage *pcb_io_jpeg_decode(const guint8 *data, gsize len, PcbFormat format, int scale_denom,
                             GError **error);
gboolean pcb_io_jpeg_probe(const guint8 *data, gsize len, int *width, int *height, GError **error);
PcbImage *pcb_io_png_decode(const guint8 *data, gsize len, PcbFormat format, int scale_denom,
                            GError **error);
gboolean pcb_io_png_probe(const guint8 *data, gsize len, int *width, int *height, GError **error);

/* The EXIF orientation (1..8) of a JPEG stream: the first APP1 "Exif" segment before SOS,
 * IFD0 tag 0x0112. Every offset is bounds-checked; anything absent, malformed or out of
 * range gives 1. */
int pcb_io_jpeg_exif_orientation(const guint8 *data, gsize len);

/* A new image with EXIF orientation @orientation (2..8) applied to @src; 5..8 swap width
 * and height. Orientation 1 (or anything else) gives a plain copy. */
PcbImage *pcb_io_orient(const PcbImage *src, int orientation, GError **error);

/* Box (area) average over @denom x @denom blocks; the result is ceil(w / denom) x
 * ceil(h / denom), and edge blocks average only the pixels they cover. */
PcbImage *pcb_io_reduce(const PcbImage *src, int denom, GError **error);

G_END_DECLS

#endif
