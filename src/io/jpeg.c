/* JPEG through the TurboJPEG 2.1 API: validate the header, cap, then decode (STYLE E6).
 * The tj3* API (3.0+) is not available on the target, and neither is TJPARAM_MAXPIXELS:
 * the pixel cap is enforced here on the header-declared size. */
#include <limits.h>
#include <turbojpeg.h>
#include "pcbdiff/error.h"
#include "core/util.h"
#include "io/io_internal.h"

/* valgrind: libjpeg-turbo's SIMD kernels read the uninitialised padding of its own row
 * buffers, and memcheck's approximate tracking of packed arithmetic then flags decoded
 * pixels near the right edge (seen with 1/8 and 1/4 scaling, and some grey widths). The
 * pixels do not depend on that memory: they are identical with JSIMD_FORCENONE=1 and under
 * any MALLOC_PERTURB_. So, after a successful decode only, the rows we asked for are
 * declared defined. A no-op outside valgrind; absent without the valgrind headers. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MARK_DEFINED(p, n) ((void) VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef MARK_DEFINED
#define MARK_DEFINED(p, n) ((void) (p), (void) (n))
#endif

/* g_auto(tjhandle) h = tjInitDecompress(); destroyed on every return */
static void
tj_handle_destroy(tjhandle handle)
{
    (void) tjDestroy(handle);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(tjhandle, tj_handle_destroy, NULL)

/* g_autoptr(PcbTjBuffer) buf: memory from tjAlloc() / tjCompress2() */
typedef unsigned char PcbTjBuffer;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcbTjBuffer, tjFree)

/* A truncated upload otherwise decodes as a grey band, which looks like an altered region. */
#define DECODE_FLAGS (TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)

static void
set_tj_error(GError **error, tjhandle tj, const char *what)
{
    if (tjGetErrorCode(tj) == TJERR_WARNING)
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "corrupt or truncated JPEG (%s): %s", what,
                    tjGetErrorStr2(tj));
    else
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "cannot decode JPEG (%s): %s", what,
                    tjGetErrorStr2(tj));
}

typedef struct {
    int width, height; /* as stored, before orientation */
    int colorspace;    /* TJCS_* */
} JpegHeader;

static gboolean
read_header(tjhandle tj, const guint8 *data, gsize len, JpegHeader *hdr, GError **error)
{
    int subsamp = 0;
    if (len > ULONG_MAX) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT,
                    "JPEG data too large (%" G_GSIZE_FORMAT " bytes)", len);
        return FALSE;
    }
    if (tjDecompressHeader3(tj, data, (unsigned long) len, &hdr->width, &hdr->height, &subsamp,
                            &hdr->colorspace)
        != 0) {
        set_tj_error(error, tj, "header");
        return FALSE;
    }
    /* 2.1 returns success for a tables-only (or cut-off) stream and leaves the outputs alone */
    if (hdr->width <= 0 || hdr->height <= 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE,
                    "JPEG has no image (truncated header or tables only)");
        return FALSE;
    }
    /* the declared full size, before scaling: absurd headers are refused the same way
     * whatever scale is asked for (and the same way as PNG) */
    return pcb_io_check_size((guint64) hdr->width, (guint64) hdr->height, error);
}

static gboolean
find_scaling_factor(int denom, tjscalingfactor *out, GError **error)
{
    int n = 0;
    const tjscalingfactor *sf = tjGetScalingFactors(&n);
    for (int i = 0; sf != NULL && i < n; i++) {
        if (sf[i].num == 1 && sf[i].denom == denom) {
            *out = sf[i];
            return TRUE;
        }
    }
    g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "JPEG scaling 1/%d is not supported", denom);
    return FALSE;
}

/* Inverted (Adobe) CMYK as TurboJPEG returns it: 255 means no ink. A naive conversion
 * without an ICC profile: R = C * K / 255, and so on. */
static void
cmyk_row_to_rgb(const guint8 *s, guint8 *d, int width)
{
    for (int x = 0; x < width; x++, s += 4, d += 3) {
        d[0] = (guint8) ((s[0] * s[3] + 127) / 255);
        d[1] = (guint8) ((s[1] * s[3] + 127) / 255);
        d[2] = (guint8) ((s[2] * s[3] + 127) / 255);
    }
}

static PcbImage *
decode_cmyk(tjhandle tj, const guint8 *data, gsize len, int width, int height, GError **error)
{
    g_autoptr(PcbImage) rgb = pcb_image_new(width, height, PCB_FORMAT_RGB8, error);
    if (rgb == NULL)
        return NULL;
    gsize pitch = (gsize) width * 4;
    g_autofree guint8 *cmyk = g_try_malloc_n((gsize) height, pitch);
    if (cmyk == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT, "out of memory for a %d x %d CMYK image",
                    width, height);
        return NULL;
    }
    if (tjDecompress2(tj, data, (unsigned long) len, cmyk, width, (int) pitch, height, TJPF_CMYK,
                      DECODE_FLAGS)
        != 0) {
        set_tj_error(error, tj, "CMYK data");
        return NULL;
    }
    MARK_DEFINED(cmyk, (gsize) height * pitch);
    for (int y = 0; y < height; y++)
        cmyk_row_to_rgb(cmyk + (gsize) y * pitch, pcb_image_row(rgb, y), width);
    return g_steal_pointer(&rgb);
}

PcbImage *
pcb_io_jpeg_decode(const guint8 *data, gsize len, PcbFormat format, int scale_denom, GError **error)
{
    g_auto(tjhandle) tj = tjInitDecompress();
    if (tj == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "cannot start the JPEG decoder: %s",
                    tjGetErrorStr2(NULL));
        return NULL;
    }
    JpegHeader hdr = { 0, 0, -1 };
    tjscalingfactor sf = { 1, 1 };
    if (!read_header(tj, data, len, &hdr, error)
        || (scale_denom > 1 && !find_scaling_factor(scale_denom, &sf, error)))
        return NULL;
    const int width = TJSCALED(hdr.width, sf), height = TJSCALED(hdr.height, sf);

    g_autoptr(PcbImage) image = NULL;
    if (hdr.colorspace == TJCS_CMYK || hdr.colorspace == TJCS_YCCK) {
        /* libjpeg has no CMYK -> RGB conversion: decode CMYK and convert here */
        image = decode_cmyk(tj, data, len, width, height, error);
        if (image != NULL && format == PCB_FORMAT_GRAY8) {
            g_autoptr(PcbImage) rgb = g_steal_pointer(&image);
            image = pcb_image_to_gray(rgb, error);
        }
        if (image == NULL)
            return NULL;
    }
    else {
        image = pcb_image_new(width, height, format, error);
        if (image == NULL)
            return NULL;
        /* grey files decode to RGB by replication; colour files to GRAY take the luma
         * channel (BT.601, as pcb_image_to_gray) */
        int pf = format == PCB_FORMAT_GRAY8 ? TJPF_GRAY : TJPF_RGB;
        if (tjDecompress2(tj, data, (unsigned long) len, image->data, width, (int) image->stride,
                          height, pf, DECODE_FLAGS)
            != 0) {
            set_tj_error(error, tj, "data");
            return NULL;
        }
        for (int y = 0; y < height; y++)
            MARK_DEFINED(pcb_image_row(image, y), (gsize) width * (gsize) format);
    }

    int orientation = pcb_io_jpeg_exif_orientation(data, len);
    if (orientation != 1)
        return pcb_io_orient(image, orientation, error);
    return g_steal_pointer(&image);
}

gboolean
pcb_io_jpeg_probe(const guint8 *data, gsize len, int *width, int *height, GError **error)
{
    g_auto(tjhandle) tj = tjInitDecompress();
    if (tj == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "cannot start the JPEG decoder: %s",
                    tjGetErrorStr2(NULL));
        return FALSE;
    }
    JpegHeader hdr = { 0, 0, -1 };
    if (!read_header(tj, data, len, &hdr, error))
        return FALSE;
    gboolean swap = pcb_io_jpeg_exif_orientation(data, len) >= 5;
    *width = swap ? hdr.height : hdr.width;
    *height = swap ? hdr.width : hdr.height;
    return TRUE;
}

gboolean
pcb_image_save_jpeg(const PcbImage *image, const char *path, int quality, GError **error)
{
    g_return_val_if_fail(image != NULL && image->data != NULL, FALSE);
    g_return_val_if_fail(path != NULL, FALSE);
    g_return_val_if_fail(image->format == PCB_FORMAT_GRAY8 || image->format == PCB_FORMAT_RGB8,
                         FALSE);

    if (quality < 1 || quality > 100) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "cannot write %s: JPEG quality must be 1 to 100, not %d", path, quality);
        return FALSE;
    }
    if (image->stride > INT_MAX) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT,
                    "cannot write %s: rows of %" G_GSIZE_FORMAT " bytes are too long for JPEG",
                    path, image->stride);
        return FALSE;
    }
    g_auto(tjhandle) tj = tjInitCompress();
    if (tj == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: JPEG encoder: %s", path,
                    tjGetErrorStr2(NULL));
        return FALSE;
    }
    /* libvips's rule: no chroma subsampling at high quality, where it shows */
    int subsamp = image->format == PCB_FORMAT_GRAY8 ? TJSAMP_GRAY
                  : quality >= 90                   ? TJSAMP_444
                                                    : TJSAMP_420;
    int pf = image->format == PCB_FORMAT_GRAY8 ? TJPF_GRAY : TJPF_RGB;
    g_autoptr(PcbTjBuffer) jpeg = NULL;
    unsigned long jpeg_len = 0;
    if (tjCompress2(tj, image->data, image->width, (int) image->stride, image->height, pf, &jpeg,
                    &jpeg_len, subsamp, quality, TJFLAG_ACCURATEDCT)
        != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write %s: JPEG encoder: %s", path,
                    tjGetErrorStr2(tj));
        return FALSE;
    }
    return pcb_write_file_atomic(path, jpeg, jpeg_len, error);
}
