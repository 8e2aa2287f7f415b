/* PcbImage: allocation with a pixel cap checked in 64 bits before any allocation. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/image.h"
#include "core/imgops.h"

/* The process-wide pixel cap (image.h): 0 until the first use reads the environment. Atomic,
 * so that threads inspecting at once read a whole value. */
static _Atomic guint64 max_pixels;

/* A PcbImage and whether it owns its pixels (FALSE for views): every PcbImage comes from
 * pcb_image_new() or pcb_image_new_view(), so a PcbImage * is an ImagePriv *. */
typedef struct {
    PcbImage pub;
    gboolean owns_data;
} ImagePriv;

static PcbImage *
image_alloc(int width, int height, PcbFormat format, size_t stride, guint8 *data, gboolean owns)
{
    ImagePriv *p = g_new0(ImagePriv, 1);
    p->pub = (PcbImage){ width, height, format, stride, data };
    p->owns_data = owns;
    return &p->pub;
}

static guint64
initial_max_pixels(void)
{
    const char *env = g_getenv("PCBDIFF_MAX_MEGAPIXELS");
    if (env != NULL && *env != '\0') {
        char *end = NULL;
        double mp = g_ascii_strtod(env, &end);
        if (end != env && *end == '\0' && mp > 0 && mp < 1e6)
            return (guint64) (mp * 1e6);
        g_warning("PCBDIFF_MAX_MEGAPIXELS=%s is not a positive number; using %.0f", env,
                  PCB_DEFAULT_MAX_PIXELS / 1e6);
    }
    return PCB_DEFAULT_MAX_PIXELS;
}

void
pcb_set_max_pixels(guint64 pixels)
{
    atomic_store(&max_pixels, pixels ? pixels : PCB_DEFAULT_MAX_PIXELS);
}

guint64
pcb_get_max_pixels(void)
{
    guint64 cap = atomic_load(&max_pixels);
    if (cap == 0) {
        /* the first use: threads racing here all read the same environment */
        guint64 none = 0;
        atomic_compare_exchange_strong(&max_pixels, &none, initial_max_pixels());
        cap = atomic_load(&max_pixels);
    }
    return cap;
}

static gboolean
check_size(int width, int height, GError **error)
{
    if (width < 1 || height < 1) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "image has no pixels (%d x %d)", width,
                    height);
        return FALSE;
    }
    guint64 pixels = (guint64) width * (guint64) height;
    if (pixels > pcb_get_max_pixels()) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT,
                    "image is %d x %d = %.1f megapixels, over the limit of %.1f megapixels "
                    "(--max-megapixels or PCBDIFF_MAX_MEGAPIXELS)",
                    width, height, (double) pixels / 1e6, (double) pcb_get_max_pixels() / 1e6);
        return FALSE;
    }
    return TRUE;
}

PcbImage *
pcb_image_new(int width, int height, PcbFormat format, GError **error)
{
    g_return_val_if_fail(format == PCB_FORMAT_GRAY8 || format == PCB_FORMAT_RGB8, NULL);
    if (!check_size(width, height, error))
        return NULL;
    size_t stride = ((size_t) width * (size_t) format + 15) & ~(size_t) 15;
    guint8 *data = calloc((size_t) height, stride);
    if (data == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT, "out of memory for a %d x %d image", width,
                    height);
        return NULL;
    }
    return image_alloc(width, height, format, stride, data, TRUE);
}

PcbImage *
pcb_image_new_view(int width, int height, PcbFormat format, size_t stride, guint8 *data)
{
    g_return_val_if_fail(data != NULL && width > 0 && height > 0, NULL);
    g_return_val_if_fail(stride >= (size_t) width * (size_t) format, NULL);
    return image_alloc(width, height, format, stride, data, FALSE);
}

PcbImage *
pcb_image_copy(const PcbImage *src, GError **error)
{
    PcbImage *dst = pcb_image_new(src->width, src->height, src->format, error);
    if (dst == NULL)
        return NULL;
    size_t row = (size_t) src->width * (size_t) src->format;
    for (int y = 0; y < src->height; y++)
        memcpy(pcb_image_row(dst, y), pcb_image_row(src, y), row);
    return dst;
}

void
pcb_image_free(PcbImage *image)
{
    if (image == NULL)
        return;
    ImagePriv *p = (ImagePriv *) image;
    if (p->owns_data)
        free(image->data);
    g_free(p);
}

/* The one grey conversion: OpenCV's (SIMD, parallel), cv::cvtColor's BT.601 with 15-bit
 * coefficients, (9798 R + 19235 G + 3735 B + 2^14) >> 15. */
PcbImage *
pcb_image_to_gray(const PcbImage *src, GError **error)
{
    if (src->format == PCB_FORMAT_GRAY8)
        return pcb_image_copy(src, error);
    g_autoptr(PcbImage) dst = pcb_image_new(src->width, src->height, PCB_FORMAT_GRAY8, error);
    if (dst == NULL)
        return NULL;
    char msg[256] = "";
    pcbcv_view s = pcb_view(src), d = pcb_view(dst);
    if (!pcb_cv_check(pcbcv_gray(&s, &d, msg, sizeof msg), msg, "grey conversion",
                      PCB_ERROR_BACKEND, error))
        return NULL;
    return g_steal_pointer(&dst);
}
