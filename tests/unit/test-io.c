/* Image I/O: loaders, savers, EXIF orientation, scaling, the pixel cap and hostile input.
 * Every fixture is made here at test time (our savers, libpng/TurboJPEG directly, or bytes). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <png.h>
#include <turbojpeg.h>
#include "testutil.h"
#include "io/io_internal.h"

/* ---- helpers ------------------------------------------------------------------------ */

static char *
tmp_path(const char *name)
{
    return g_build_filename(tu_tmpdir(), name, NULL);
}

static void
write_bytes(const char *path, const void *data, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_set_contents(path, data, (gssize) len, &error));
    g_assert_no_error(error);
}

static GBytes *
read_bytes(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, &error));
    g_assert_no_error(error);
    return g_bytes_new_take(data, len);
}

static GBytes *
save_and_read(const PcbImage *image, gboolean jpeg, int quality)
{
    g_autofree char *path = tmp_path(jpeg ? "fixture.jpg" : "fixture.png");
    g_autoptr(GError) error = NULL;
    gboolean ok = jpeg ? pcb_image_save_jpeg(image, path, quality, &error)
                       : pcb_image_save_png(image, path, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    return read_bytes(path);
}

static PcbImage *
load_bytes(GBytes *bytes, PcbFormat format, int scale)
{
    PcbLoadOptions opts;
    pcb_load_options_init(&opts);
    opts.format = format;
    opts.scale_denom = scale;
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    const guint8 *data = g_bytes_get_data(bytes, &len);
    PcbImage *image = pcb_image_load_memory(data, len, &opts, &error);
    g_assert_no_error(error);
    g_assert_nonnull(image);
    return image;
}

static void
assert_same_pixels(const PcbImage *a, const PcbImage *b)
{
    g_assert_cmpint(a->width, ==, b->width);
    g_assert_cmpint(a->height, ==, b->height);
    g_assert_cmpint(a->format, ==, b->format);
    for (int y = 0; y < a->height; y++)
        g_assert_cmpmem(pcb_image_row(a, y), (gsize) a->width * a->format, pcb_image_row(b, y),
                        (gsize) b->width * b->format);
}

static double
mean_abs_diff(const PcbImage *a, const PcbImage *b)
{
    g_assert_cmpint(a->width, ==, b->width);
    g_assert_cmpint(a->height, ==, b->height);
    g_assert_cmpint(a->format, ==, b->format);
    double sum = 0;
    gsize n = (gsize) a->width * a->format;
    for (int y = 0; y < a->height; y++) {
        const guint8 *p = pcb_image_row(a, y), *q = pcb_image_row(b, y);
        for (gsize i = 0; i < n; i++)
            sum += abs((int) p[i] - (int) q[i]);
    }
    return sum / ((double) n * a->height);
}

/* A file that must fail to load (and to probe, if @probe_fails) with @code, and a message
 * "PATH: reason" on one line. */
static void
assert_load_fails(const char *path, int code, gboolean probe_fails)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbImage) image = pcb_image_load(path, NULL, &error);
    g_assert_null(image);
    g_assert_error(error, PCB_ERROR, code);
    g_test_message("%s", error->message);
    g_autofree char *prefix = g_strdup_printf("%s: ", path);
    g_assert_true(g_str_has_prefix(error->message, prefix));
    g_assert_cmpuint(strlen(error->message), >, strlen(prefix));
    g_assert_null(strchr(error->message, '\n'));

    if (probe_fails) {
        g_autoptr(GError) perr = NULL;
        int w = -1, h = -1;
        g_assert_false(pcb_image_probe(path, &w, &h, &perr));
        g_assert_error(perr, PCB_ERROR, code);
        g_assert_true(g_str_has_prefix(perr->message, prefix));
        g_assert_null(strchr(perr->message, '\n'));
    }
}

static void
assert_memory_fails(const guint8 *data, gsize len, int code)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbImage) image = pcb_image_load_memory(data, len, NULL, &error);
    g_assert_null(image);
    g_assert_error(error, PCB_ERROR, code);
    g_assert_null(strchr(error->message, '\n'));
}

static PcbImage *
make_gray_board(int width, int height, guint32 seed)
{
    g_autoptr(PcbImage) rgb = tu_make_board(width, height, seed);
    return pcb_image_to_gray(rgb, NULL);
}

/* ---- a hand-made PNG writer: for 16-bit and sub-byte files without gAMA, and for damage */

static guint32
crc32_png(const guint8 *p, gsize n, guint32 crc)
{
    crc = ~crc;
    for (gsize i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void
put_u32be(GByteArray *out, guint32 v)
{
    guint8 b[4] = { (guint8) (v >> 24), (guint8) (v >> 16), (guint8) (v >> 8), (guint8) v };
    g_byte_array_append(out, b, 4);
}

static void
png_chunk(GByteArray *out, const char *type, const guint8 *data, gsize len)
{
    put_u32be(out, (guint32) len);
    gsize start = out->len;
    g_byte_array_append(out, (const guint8 *) type, 4);
    if (len > 0)
        g_byte_array_append(out, data, (guint) len);
    put_u32be(out, crc32_png(out->data + start, len + 4, 0));
}

/* @raw: height rows of @row_bytes, each to be prefixed with filter type 0; zlib "stored". */
static GByteArray *
build_png(guint32 width, guint32 height, int depth, int color_type, const guint8 *raw,
          gsize row_bytes)
{
    static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, sig, 8);

    GByteArray *ihdr = g_byte_array_new();
    put_u32be(ihdr, width);
    put_u32be(ihdr, height);
    guint8 rest[5] = { (guint8) depth, (guint8) color_type, 0, 0, 0 };
    g_byte_array_append(ihdr, rest, 5);
    png_chunk(out, "IHDR", ihdr->data, ihdr->len);
    g_byte_array_unref(ihdr);

    GByteArray *filtered = g_byte_array_new();
    for (guint32 y = 0; y < height; y++) {
        guint8 zero = 0;
        g_byte_array_append(filtered, &zero, 1);
        g_byte_array_append(filtered, raw + y * row_bytes, (guint) row_bytes);
    }
    GByteArray *z = g_byte_array_new();
    guint8 zhdr[2] = { 0x78, 0x01 };
    g_byte_array_append(z, zhdr, 2);
    guint32 a = 1, b = 0;
    for (guint i = 0; i < filtered->len; i++) {
        a = (a + filtered->data[i]) % 65521;
        b = (b + a) % 65521;
    }
    for (guint off = 0; off < filtered->len || off == 0;) {
        guint n = MIN(filtered->len - off, 65535u);
        guint8 blk[5] = { off + n == filtered->len, (guint8) n, (guint8) (n >> 8), (guint8) ~n,
                          (guint8) (~n >> 8) };
        g_byte_array_append(z, blk, 5);
        g_byte_array_append(z, filtered->data + off, n);
        off += n;
        if (n == 0)
            break;
    }
    put_u32be(z, b << 16 | a);
    png_chunk(out, "IDAT", z->data, z->len);
    png_chunk(out, "IEND", NULL, 0);
    g_byte_array_unref(z);
    g_byte_array_unref(filtered);
    return out;
}

/* Writes @raw (in @format, libpng simplified) to PNG bytes. */
static GBytes *
png_encode(guint32 width, guint32 height, png_uint_32 format, const void *raw, const void *colormap,
           guint32 colormap_entries)
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = width;
    png.height = height;
    png.format = format;
    png.colormap_entries = colormap_entries;
    png_alloc_size_t len = 0;
    g_assert_true(png_image_write_get_memory_size(png, len, 0, raw, 0, colormap));
    guint8 *buf = g_malloc(len);
    g_assert_true(png_image_write_to_memory(&png, buf, &len, 0, raw, 0, colormap));
    return g_bytes_new_take(buf, len);
}

/* ---- JPEG fixtures -------------------------------------------------------------------- */

static GBytes *
jpeg_encode(const guint8 *pixels, int width, int pitch, int height, int pf, int subsamp,
            int quality)
{
    tjhandle tj = tjInitCompress();
    g_assert_nonnull(tj);
    unsigned char *jpeg = NULL;
    unsigned long len = 0;
    g_assert_cmpint(
        tjCompress2(tj, pixels, width, pitch, height, pf, &jpeg, &len, subsamp, quality, 0), ==, 0);
    GBytes *bytes = g_bytes_new(jpeg, len);
    tjFree(jpeg);
    tjDestroy(tj);
    return bytes;
}

/* @jpeg with an APP1 Exif segment (IFD0: Orientation = @orientation) right after SOI. */
static GBytes *
with_exif(GBytes *jpeg, int orientation, gboolean big_endian)
{
    gsize len = 0;
    const guint8 *p = g_bytes_get_data(jpeg, &len);
    guint8 tiff_le[] = { 'I',  'I',  42, 0, 8, 0, 0, 0, /* IFD0 at 8 */
                         2,    0,                       /* two entries */
                         0x1A, 0x01, 5,  0, 1, 0, 0, 0, 0x26,
                         0,    0,    0, /* XResolution: other tag */
                         0x12, 0x01, 3,  0, 1, 0, 0, 0, (guint8) orientation,
                         0,    0,    0,  0, 0, 0, 0 }; /* no next IFD */
    guint8 tiff_be[]
        = { 'M', 'M', 0, 42, 0, 0,    0,    8,    0, 2, 0x01, 0x1A, 0, 5, 0, 0,
            0,   1,   0, 0,  0, 0x26, 0x01, 0x12, 0, 3, 0,    0,    0, 1, 0, (guint8) orientation,
            0,   0,   0, 0,  0, 0 };
    const guint8 *tiff = big_endian ? tiff_be : tiff_le;
    gsize tiff_len = big_endian ? sizeof tiff_be : sizeof tiff_le;
    gsize seg = 2 + 6 + tiff_len;

    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, p, 2); /* SOI */
    guint8 hdr[4] = { 0xFF, 0xE1, (guint8) (seg >> 8), (guint8) seg };
    g_byte_array_append(out, hdr, 4);
    g_byte_array_append(out, (const guint8 *) "Exif\0\0", 6);
    g_byte_array_append(out, tiff, (guint) tiff_len);
    g_byte_array_append(out, p + 2, (guint) (len - 2));
    return g_byte_array_free_to_bytes(out);
}

/* Offset of the SOF0 marker (FF C0) of a baseline JPEG, or fail. */
static gsize
find_sof(const guint8 *p, gsize len)
{
    for (gsize i = 2; i + 9 < len; i++)
        if (p[i] == 0xFF && p[i + 1] == 0xC0)
            return i;
    g_assert_not_reached();
    return 0;
}

/* ---- options, sniffing, geometry ------------------------------------------------------ */

static void
test_options_defaults(void)
{
    PcbLoadOptions opts = { .format = 0, .scale_denom = 0 };
    pcb_load_options_init(&opts);
    g_assert_cmpint(opts.format, ==, PCB_FORMAT_RGB8);
    g_assert_cmpint(opts.scale_denom, ==, 1);
}

static void
test_sniff_by_content(void)
{
    static const guint8 jpeg[] = { 0xFF, 0xD8, 0xFF, 0xE0 };
    static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0 };
    g_assert_cmpint(pcb_io_sniff(jpeg, sizeof jpeg), ==, PCB_IO_JPEG);
    g_assert_cmpint(pcb_io_sniff(png, sizeof png), ==, PCB_IO_PNG);
    g_assert_cmpint(pcb_io_sniff(png, 7), ==, PCB_IO_UNKNOWN);
    g_assert_cmpint(pcb_io_sniff(jpeg, 2), ==, PCB_IO_UNKNOWN);
    g_assert_cmpint(pcb_io_sniff((const guint8 *) "GIF89a", 6), ==, PCB_IO_UNKNOWN);

    /* a PNG named .jpg loads as PNG */
    g_autoptr(PcbImage) board = tu_make_board(40, 30, 1);
    g_autoptr(GBytes) bytes = save_and_read(board, FALSE, 0);
    g_autofree char *path = tmp_path("really-a-png.jpg");
    write_bytes(path, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbImage) back = pcb_image_load(path, NULL, &error);
    g_assert_no_error(error);
    assert_same_pixels(board, back);
}

static void
test_orient_all(void)
{
    static const guint8 src_px[6] = { 1, 2, 3, 4, 5, 6 }; /* 3 x 2: 1 2 3 / 4 5 6 */
    static const struct {
        int w, h;
        guint8 px[6];
    } want[9] = {
        { 0, 0, { 0 } },
        { 3, 2, { 1, 2, 3, 4, 5, 6 } }, /* 1 */
        { 3, 2, { 3, 2, 1, 6, 5, 4 } }, /* 2 mirror horizontally */
        { 3, 2, { 6, 5, 4, 3, 2, 1 } }, /* 3 rotate 180 */
        { 3, 2, { 4, 5, 6, 1, 2, 3 } }, /* 4 mirror vertically */
        { 2, 3, { 1, 4, 2, 5, 3, 6 } }, /* 5 transpose */
        { 2, 3, { 4, 1, 5, 2, 6, 3 } }, /* 6 rotate 90 clockwise */
        { 2, 3, { 6, 3, 5, 2, 4, 1 } }, /* 7 transverse */
        { 2, 3, { 3, 6, 2, 5, 1, 4 } }, /* 8 rotate 90 counter-clockwise */
    };
    g_autoptr(PcbImage) src = pcb_image_new(3, 2, PCB_FORMAT_GRAY8, NULL);
    g_autoptr(PcbImage) src_rgb = pcb_image_new(3, 2, PCB_FORMAT_RGB8, NULL);
    for (int i = 0; i < 6; i++) {
        pcb_image_row(src, i / 3)[i % 3] = src_px[i];
        for (int c = 0; c < 3; c++)
            pcb_image_row(src_rgb, i / 3)[3 * (i % 3) + c] = (guint8) (src_px[i] * 10 + c);
    }
    for (int o = 1; o <= 8; o++) {
        g_autoptr(PcbImage) d = pcb_io_orient(src, o, NULL);
        g_autoptr(PcbImage) drgb = pcb_io_orient(src_rgb, o, NULL);
        g_assert_cmpint(d->width, ==, want[o].w);
        g_assert_cmpint(d->height, ==, want[o].h);
        g_assert_cmpint(drgb->width, ==, want[o].w);
        for (int i = 0; i < 6; i++) {
            int x = i % want[o].w, y = i / want[o].w;
            g_assert_cmpint(pcb_image_row(d, y)[x], ==, want[o].px[i]);
            for (int c = 0; c < 3; c++)
                g_assert_cmpint(pcb_image_row(drgb, y)[3 * x + c], ==, want[o].px[i] * 10 + c);
        }
    }
}

static void
test_exif_parser_hostile(void)
{
    g_autoptr(PcbImage) board = tu_make_board(16, 16, 2);
    g_autoptr(GBytes) jpeg
        = jpeg_encode(board->data, 16, (int) board->stride, 16, TJPF_RGB, TJSAMP_444, 90);
    for (int o = 1; o <= 8; o++) {
        g_autoptr(GBytes) le = with_exif(jpeg, o, FALSE);
        g_autoptr(GBytes) be = with_exif(jpeg, o, TRUE);
        g_assert_cmpint(
            pcb_io_jpeg_exif_orientation(g_bytes_get_data(le, NULL), g_bytes_get_size(le)), ==, o);
        g_assert_cmpint(
            pcb_io_jpeg_exif_orientation(g_bytes_get_data(be, NULL), g_bytes_get_size(be)), ==, o);
    }
    g_assert_cmpint(
        pcb_io_jpeg_exif_orientation(g_bytes_get_data(jpeg, NULL), g_bytes_get_size(jpeg)), ==,
        1); /* no Exif */

    g_autoptr(GBytes) good = with_exif(jpeg, 6, FALSE);
    gsize len = g_bytes_get_size(good);
    g_autofree guint8 *p = g_memdup2(g_bytes_get_data(good, NULL), len);
    const gsize tiff = 2 + 4 + 6; /* SOI, marker + length, "Exif\0\0" */

    /* every truncation of the stream: never a crash, never a read out of bounds */
    for (gsize cut = 0; cut < tiff + 40; cut++) {
        int o = pcb_io_jpeg_exif_orientation(p, cut);
        g_assert_true(o == 1 || o == 6);
    }
    /* each damage (one or two bytes) gives 1, and undoing it gives 6 again */
    const gsize entry2 = tiff + 8 + 2 + 12; /* the Orientation entry */
    struct {
        gsize off[2];
        guint8 value[2];
    } damage[] = {
        { { 4, 4 }, { 0xFF, 0xFF } },               /* segment length past the end */
        { { 5, 4 }, { 0x01, 0x00 } },               /* segment length < 2 */
        { { tiff, tiff }, { 'X', 'X' } },           /* byte order */
        { { tiff + 2, tiff + 2 }, { 43, 43 } },     /* magic */
        { { tiff + 4, tiff + 4 }, { 0xF0, 0xF0 } }, /* IFD0 offset past the segment */
        { { tiff + 7, tiff + 7 }, { 0xFF, 0xFF } }, /* IFD0 offset near 2^32 */
        { { tiff + 4, tiff + 4 }, { 37, 37 } },     /* IFD0 count straddles the end */
        { { tiff + 8, tiff + 8 }, { 0, 0 } },       /* no entries */
        { { tiff + 8, entry2 }, { 0xFF, 0x13 } },   /* no Orientation, count past the end */
        { { entry2 + 2, entry2 + 2 }, { 4, 4 } },   /* Orientation as LONG */
        { { entry2 + 4, entry2 + 4 }, { 0, 0 } },   /* count 0 */
        { { entry2 + 8, entry2 + 8 }, { 9, 9 } },   /* value out of range */
        { { entry2 + 8, entry2 + 8 }, { 0, 0 } },   /* value 0 */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(damage); i++) {
        guint8 keep[2] = { p[damage[i].off[0]], p[damage[i].off[1]] };
        p[damage[i].off[0]] = damage[i].value[0];
        p[damage[i].off[1]] = damage[i].value[1];
        g_assert_cmpint(pcb_io_jpeg_exif_orientation(p, len), ==, 1);
        p[damage[i].off[1]] = keep[1];
        p[damage[i].off[0]] = keep[0];
        g_assert_cmpint(pcb_io_jpeg_exif_orientation(p, len), ==, 6);
    }
    g_assert_cmpint(pcb_io_jpeg_exif_orientation(NULL, 0), ==, 1);
    static const guint8 junk[] = { 0xFF, 0xD8, 0x00, 0x00, 0xFF, 0xE1 };
    g_assert_cmpint(pcb_io_jpeg_exif_orientation(junk, sizeof junk), ==, 1);
}

/* ---- PNG -------------------------------------------------------------------------------- */

static void
test_png_roundtrip_rgb(void)
{
    g_autoptr(PcbImage) board = tu_make_board(97, 61, 3);
    g_autoptr(GBytes) bytes = save_and_read(board, FALSE, 0);
    g_autoptr(PcbImage) back = load_bytes(bytes, PCB_FORMAT_RGB8, 1);
    assert_same_pixels(board, back);

    /* GRAY output of a colour PNG: the same luma as pcb_image_to_gray */
    g_autoptr(PcbImage) gray = load_bytes(bytes, PCB_FORMAT_GRAY8, 1);
    g_autoptr(PcbImage) want = pcb_image_to_gray(board, NULL);
    assert_same_pixels(want, gray);
}

static void
test_png_roundtrip_gray(void)
{
    g_autoptr(PcbImage) gray = make_gray_board(64, 33, 4);
    g_autoptr(GBytes) bytes = save_and_read(gray, FALSE, 0);
    g_autoptr(PcbImage) back = load_bytes(bytes, PCB_FORMAT_GRAY8, 1);
    assert_same_pixels(gray, back);

    g_autoptr(PcbImage) rgb = load_bytes(bytes, PCB_FORMAT_RGB8, 1); /* grey replicated */
    for (int y = 0; y < rgb->height; y++)
        for (int x = 0; x < rgb->width; x++)
            for (int c = 0; c < 3; c++)
                g_assert_cmpint(pcb_image_row(rgb, y)[3 * x + c], ==, pcb_image_row(gray, y)[x]);

    /* the file on disk loads too, with opts == NULL meaning RGB8 */
    g_autofree char *path = tmp_path("fixture.png");
    g_autoptr(GError) error = NULL;
    g_autoptr(PcbImage) from_file = pcb_image_load(path, NULL, &error);
    g_assert_no_error(error);
    assert_same_pixels(rgb, from_file);
}

static void
test_png_16bit(void)
{
    const int w = 7, h = 5;
    guint8 raw_rgb[5][7 * 6], raw_gray[5][7 * 2];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++) {
                guint16 v = (guint16) (((x * 37 + y * 11 + c * 90) % 256) * 257);
                raw_rgb[y][6 * x + 2 * c] = (guint8) (v >> 8);
                raw_rgb[y][6 * x + 2 * c + 1] = (guint8) v;
            }
            guint16 g = (guint16) (((x * 29 + y * 53) % 256) * 257);
            raw_gray[y][2 * x] = (guint8) (g >> 8);
            raw_gray[y][2 * x + 1] = (guint8) g;
        }
    /* no gAMA chunk: read as sRGB, so v * 257 -> v exactly */
    g_autoptr(GByteArray) rgb16 = build_png((guint32) w, (guint32) h, 16, 2, &raw_rgb[0][0], 42);
    g_autoptr(GByteArray) gray16 = build_png((guint32) w, (guint32) h, 16, 0, &raw_gray[0][0], 14);
    g_autoptr(GBytes) b1 = g_bytes_new(rgb16->data, rgb16->len);
    g_autoptr(GBytes) b2 = g_bytes_new(gray16->data, gray16->len);
    g_autoptr(PcbImage) rgb = load_bytes(b1, PCB_FORMAT_RGB8, 1);
    g_autoptr(PcbImage) gray = load_bytes(b2, PCB_FORMAT_GRAY8, 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++)
                g_assert_cmpint(pcb_image_row(rgb, y)[3 * x + c], ==, raw_rgb[y][6 * x + 2 * c]);
            g_assert_cmpint(pcb_image_row(gray, y)[x], ==, raw_gray[y][2 * x]);
        }

    /* a 16-bit linear file (libpng writes gAMA 1.0) is converted to sRGB: ends exact,
     * linear 0.5 near sRGB 188 */
    guint16 lin[3] = { 0, 32768, 65535 };
    g_autoptr(GBytes) b3 = png_encode(3, 1, PNG_FORMAT_LINEAR_Y, lin, NULL, 0);
    g_autoptr(PcbImage) l = load_bytes(b3, PCB_FORMAT_GRAY8, 1);
    g_assert_cmpint(l->data[0], ==, 0);
    g_assert_cmpint(l->data[1], >=, 186);
    g_assert_cmpint(l->data[1], <=, 190);
    g_assert_cmpint(l->data[2], ==, 255);

    /* sub-byte grey: 4-bit v -> v * 17 */
    guint8 raw4[2][2] = { { 0x01, 0x23 }, { 0xCD, 0xEF } }; /* 4 x 2 pixels */
    g_autoptr(GByteArray) gray4 = build_png(4, 2, 4, 0, &raw4[0][0], 2);
    g_autoptr(GBytes) b4 = g_bytes_new(gray4->data, gray4->len);
    g_autoptr(PcbImage) g4 = load_bytes(b4, PCB_FORMAT_GRAY8, 1);
    static const guint8 want4[8] = { 0, 17, 34, 51, 204, 221, 238, 255 };
    for (int i = 0; i < 8; i++)
        g_assert_cmpint(pcb_image_row(g4, i / 4)[i % 4], ==, want4[i]);
}

static void
test_png_palette(void)
{
    static const guint8 cmap[4][3]
        = { { 255, 0, 0 }, { 0, 200, 0 }, { 10, 20, 250 }, { 77, 77, 77 } };
    guint8 idx[6 * 4];
    for (int i = 0; i < 24; i++)
        idx[i] = (guint8) ((i * 7 + i / 6) % 4);
    g_autoptr(GBytes) bytes = png_encode(6, 4, PNG_FORMAT_RGB_COLORMAP, idx, cmap, 4);
    g_autoptr(PcbImage) img = load_bytes(bytes, PCB_FORMAT_RGB8, 1);
    g_assert_cmpint(img->width, ==, 6);
    g_assert_cmpint(img->height, ==, 4);
    for (int i = 0; i < 24; i++)
        g_assert_cmpmem(pcb_image_row(img, i / 6) + 3 * (i % 6), 3, cmap[idx[i]], 3);

    /* palette with tRNS: the transparent entry comes out black */
    static const guint8 cmap_a[2][4] = { { 250, 100, 50, 255 }, { 250, 100, 50, 0 } };
    guint8 idx_a[4] = { 0, 1, 1, 0 };
    g_autoptr(GBytes) bytes_a = png_encode(2, 2, PNG_FORMAT_RGBA_COLORMAP, idx_a, cmap_a, 2);
    g_autoptr(PcbImage) ia = load_bytes(bytes_a, PCB_FORMAT_RGB8, 1);
    static const guint8 opaque[3] = { 250, 100, 50 }, black[3] = { 0, 0, 0 };
    g_assert_cmpmem(pcb_image_row(ia, 0), 3, opaque, 3);
    g_assert_cmpmem(pcb_image_row(ia, 0) + 3, 3, black, 3);
    g_assert_cmpmem(pcb_image_row(ia, 1), 3, black, 3);
    g_assert_cmpmem(pcb_image_row(ia, 1) + 3, 3, opaque, 3);
}

static void
test_png_alpha(void)
{
    /* grey + alpha: opaque exact, transparent black, half-transparent in between */
    guint8 ga[4][2] = { { 200, 255 }, { 200, 0 }, { 200, 128 }, { 17, 255 } };
    g_autoptr(GBytes) gab = png_encode(4, 1, PNG_FORMAT_GA, ga, NULL, 0);
    g_autoptr(PcbImage) g = load_bytes(gab, PCB_FORMAT_GRAY8, 1);
    g_assert_cmpint(g->data[0], ==, 200);
    g_assert_cmpint(g->data[1], ==, 0);
    g_test_message("grey 200 at alpha 128 on black: %d", g->data[2]);
    g_assert_cmpint(g->data[2], >, 60);
    g_assert_cmpint(g->data[2], <, 190);
    g_assert_cmpint(g->data[3], ==, 17);
    g_autoptr(PcbImage) grgb = load_bytes(gab, PCB_FORMAT_RGB8, 1);
    for (int x = 0; x < 4; x++)
        for (int c = 0; c < 3; c++)
            g_assert_cmpint(grgb->data[3 * x + c], ==, g->data[x]);

    /* RGBA */
    guint8 rgba[2][2][4] = { { { 10, 20, 30, 255 }, { 255, 255, 255, 0 } },
                             { { 200, 150, 100, 255 }, { 0, 255, 0, 255 } } };
    g_autoptr(GBytes) rb = png_encode(2, 2, PNG_FORMAT_RGBA, rgba, NULL, 0);
    g_autoptr(PcbImage) r = load_bytes(rb, PCB_FORMAT_RGB8, 1);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            for (int c = 0; c < 3; c++)
                g_assert_cmpint(pcb_image_row(r, y)[3 * x + c], ==,
                                rgba[y][x][3] == 255 ? rgba[y][x][c] : 0);
    g_autoptr(PcbImage) rg = load_bytes(rb, PCB_FORMAT_GRAY8, 1);
    g_assert_cmpint(rg->width, ==, 2);
    g_assert_cmpint(pcb_image_row(rg, 0)[1], ==, 0);
}

static void
test_png_scale(void)
{
    g_autoptr(PcbImage) board = tu_make_board(101, 43, 5);
    g_autoptr(GBytes) bytes = save_and_read(board, FALSE, 0);
    for (int n = 2; n <= 8; n *= 2) {
        g_autoptr(PcbImage) img = load_bytes(bytes, PCB_FORMAT_RGB8, n);
        g_assert_cmpint(img->width, ==, (101 + n - 1) / n);
        g_assert_cmpint(img->height, ==, (43 + n - 1) / n);
        /* every output pixel is the rounded mean of its (clipped) block */
        for (int oy = 0; oy < img->height; oy++)
            for (int ox = 0; ox < img->width; ox++)
                for (int c = 0; c < 3; c++) {
                    guint sum = 0, cnt = 0;
                    for (int y = oy * n; y < MIN(43, oy * n + n); y++)
                        for (int x = ox * n; x < MIN(101, ox * n + n); x++, cnt++)
                            sum += pcb_image_row(board, y)[3 * x + c];
                    g_assert_cmpint(pcb_image_row(img, oy)[3 * ox + c], ==, (sum + cnt / 2) / cnt);
                }
        g_autoptr(PcbImage) gray = load_bytes(bytes, PCB_FORMAT_GRAY8, n);
        g_assert_cmpint(gray->format, ==, PCB_FORMAT_GRAY8);
        g_assert_cmpint(gray->width, ==, img->width);
        g_assert_cmpint(gray->height, ==, img->height);
    }
}

/* ---- JPEG ------------------------------------------------------------------------------- */

static void
test_jpeg_roundtrip(void)
{
    g_autoptr(PcbImage) board = tu_make_board(120, 80, 6);
    for (int q = 75; q <= 95; q += 20) { /* 4:2:0 below 90, 4:4:4 from 90 */
        g_autoptr(GBytes) bytes = save_and_read(board, TRUE, q);
        g_autoptr(PcbImage) back = load_bytes(bytes, PCB_FORMAT_RGB8, 1);
        double mad = mean_abs_diff(board, back);
        g_test_message("JPEG q%d: mean abs diff %.2f", q, mad);
        g_assert_cmpfloat(mad, <, q >= 90 ? 3.0 : 8.0);
    }
    /* a colour JPEG to GRAY8: the luma channel, close to pcb_image_to_gray */
    g_autoptr(GBytes) bytes = save_and_read(board, TRUE, 95);
    g_autoptr(PcbImage) gray = load_bytes(bytes, PCB_FORMAT_GRAY8, 1);
    g_autoptr(PcbImage) want = pcb_image_to_gray(board, NULL);
    g_assert_cmpfloat(mean_abs_diff(want, gray), <, 2.5);
}

static void
test_jpeg_gray(void)
{
    g_autoptr(PcbImage) gray = make_gray_board(90, 70, 7);
    g_autoptr(GBytes) bytes = save_and_read(gray, TRUE, 92);
    g_autoptr(PcbImage) back = load_bytes(bytes, PCB_FORMAT_GRAY8, 1);
    g_assert_cmpfloat(mean_abs_diff(gray, back), <, 2.5);

    g_autoptr(PcbImage) rgb = load_bytes(bytes, PCB_FORMAT_RGB8, 1);
    g_assert_cmpint(rgb->format, ==, PCB_FORMAT_RGB8);
    for (int y = 0; y < rgb->height; y++)
        for (int x = 0; x < rgb->width; x++) {
            const guint8 *p = pcb_image_row(rgb, y) + 3 * x;
            g_assert_cmpint(p[0], ==, pcb_image_row(back, y)[x]);
            g_assert_cmpint(p[1], ==, p[0]);
            g_assert_cmpint(p[2], ==, p[0]);
        }
}

static void
test_jpeg_scaled(void)
{
    const int w = 203, h = 141; /* odd sizes: ceil at the edges */
    g_autoptr(PcbImage) board = tu_make_board(w, h, 8);
    g_autoptr(GBytes) bytes = save_and_read(board, TRUE, 95);
    g_autoptr(PcbImage) full = load_bytes(bytes, PCB_FORMAT_RGB8, 1);
    for (int n = 2; n <= 8; n *= 2) {
        g_autoptr(PcbImage) img = load_bytes(bytes, PCB_FORMAT_RGB8, n);
        g_assert_cmpint(img->width, ==, (w + n - 1) / n);
        g_assert_cmpint(img->height, ==, (h + n - 1) / n);
        g_autoptr(PcbImage) box = pcb_io_reduce(full, n, NULL);
        double mad = mean_abs_diff(box, img);
        g_test_message("JPEG 1/%d vs box average: mean abs diff %.2f", n, mad);
        g_assert_cmpfloat(mad, <, 4.0);

        g_autoptr(PcbImage) gray = load_bytes(bytes, PCB_FORMAT_GRAY8, n);
        g_assert_cmpint(gray->width, ==, img->width);
        g_assert_cmpint(gray->height, ==, img->height);

        int pw = 0, ph = 0; /* probe ignores scaling */
        g_autofree char *path = tmp_path("fixture.jpg");
        g_assert_true(pcb_image_probe(path, &pw, &ph, NULL));
        g_assert_cmpint(pw, ==, w);
        g_assert_cmpint(ph, ==, h);
    }
}

static void
test_jpeg_cmyk(void)
{
    const int w = 48, h = 32;
    g_autoptr(PcbImage) board = tu_make_board(w, h, 9);
    g_autofree guint8 *cmyk = g_malloc((gsize) w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) { /* libjpeg-turbo's inverted (Adobe) CMYK */
            const guint8 *s = pcb_image_row(board, y) + 3 * x;
            guint8 *d = cmyk + ((gsize) y * w + x) * 4;
            int k = MAX(s[0], MAX(s[1], s[2])); /* 255 - black ink */
            for (int c = 0; c < 3; c++)
                d[c] = k == 0 ? 255 : (guint8) ((s[c] * 255 + k / 2) / k);
            d[3] = (guint8) k;
        }
    g_autoptr(GBytes) bytes = jpeg_encode(cmyk, w, w * 4, h, TJPF_CMYK, TJSAMP_444, 98);
    g_autoptr(PcbImage) rgb = load_bytes(bytes, PCB_FORMAT_RGB8, 1);
    g_assert_cmpfloat(mean_abs_diff(board, rgb), <, 3.0);
    g_autoptr(PcbImage) gray = load_bytes(bytes, PCB_FORMAT_GRAY8, 2);
    g_assert_cmpint(gray->width, ==, w / 2);
    g_assert_cmpint(gray->format, ==, PCB_FORMAT_GRAY8);
}

/* 64 x 32: the top-left 32 x 16 quadrant red, the rest green. */
static GBytes *
quadrant_jpeg(void)
{
    g_autoptr(PcbImage) img = pcb_image_new(64, 32, PCB_FORMAT_RGB8, NULL);
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 64; x++) {
            guint8 *p = pcb_image_row(img, y) + 3 * x;
            gboolean red = x < 32 && y < 16;
            p[0] = red ? 230 : 20;
            p[1] = red ? 20 : 210;
            p[2] = 20;
        }
    return jpeg_encode(img->data, 64, (int) img->stride, 32, TJPF_RGB, TJSAMP_444, 95);
}

static gboolean
is_red(const PcbImage *img, int x, int y)
{
    const guint8 *p = pcb_image_row(img, y) + 3 * x;
    if (p[0] > 180 && p[1] < 70)
        return TRUE;
    g_assert_true(p[1] > 160 && p[0] < 70); /* else green */
    return FALSE;
}

static void
test_jpeg_exif_orientation(void)
{
    g_autoptr(GBytes) plain = quadrant_jpeg();
    g_autoptr(PcbImage) upright = load_bytes(plain, PCB_FORMAT_RGB8, 1);

    /* 6: rotate 90 clockwise -> 32 x 64, red in the top-right */
    g_autoptr(GBytes) b6 = with_exif(plain, 6, FALSE);
    g_autoptr(PcbImage) r6 = load_bytes(b6, PCB_FORMAT_RGB8, 1);
    g_assert_cmpint(r6->width, ==, 32);
    g_assert_cmpint(r6->height, ==, 64);
    g_assert_true(is_red(r6, 28, 4));
    g_assert_true(is_red(r6, 20, 28));
    g_assert_false(is_red(r6, 4, 4));
    g_assert_false(is_red(r6, 28, 40));

    /* 3: rotate 180 -> 64 x 32, red in the bottom-right */
    g_autoptr(GBytes) b3 = with_exif(plain, 3, TRUE);
    g_autoptr(PcbImage) r3 = load_bytes(b3, PCB_FORMAT_RGB8, 1);
    g_assert_cmpint(r3->width, ==, 64);
    g_assert_cmpint(r3->height, ==, 32);
    g_assert_true(is_red(r3, 60, 28));
    g_assert_false(is_red(r3, 4, 4));
    g_assert_false(is_red(r3, 20, 28));

    /* every orientation is the same pixels rearranged; probe reports the oriented size */
    for (int o = 1; o <= 8; o++) {
        g_autoptr(GBytes) b = with_exif(plain, o, o % 2 == 0);
        g_autoptr(PcbImage) got = load_bytes(b, PCB_FORMAT_RGB8, 1);
        g_autoptr(PcbImage) want = pcb_io_orient(upright, o, NULL);
        assert_same_pixels(want, got);

        g_autoptr(PcbImage) small = load_bytes(b, PCB_FORMAT_GRAY8, 2);
        g_assert_cmpint(small->width, ==, o >= 5 ? 16 : 32);
        g_assert_cmpint(small->height, ==, o >= 5 ? 32 : 16);

        g_autofree char *path = tmp_path("exif.jpg");
        write_bytes(path, g_bytes_get_data(b, NULL), g_bytes_get_size(b));
        int w = 0, h = 0;
        g_autoptr(GError) error = NULL;
        g_assert_true(pcb_image_probe(path, &w, &h, &error));
        g_assert_no_error(error);
        g_assert_cmpint(w, ==, o >= 5 ? 32 : 64);
        g_assert_cmpint(h, ==, o >= 5 ? 64 : 32);
    }
}

static void
test_probe_header_beyond_prefix(void)
{
    /* 20 APP2 segments of 64 KiB before SOF: the header is past probe's first read */
    g_autoptr(PcbImage) board = tu_make_board(72, 40, 19);
    g_autoptr(GBytes) jpeg
        = jpeg_encode(board->data, 72, (int) board->stride, 40, TJPF_RGB, TJSAMP_420, 85);
    gsize len = 0;
    const guint8 *p = g_bytes_get_data(jpeg, &len);
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_byte_array_append(out, p, 2);
    g_autofree guint8 *filler = g_malloc0(65533);
    for (int i = 0; i < 20; i++) {
        static const guint8 app2[4] = { 0xFF, 0xE2, 0xFF, 0xFF };
        g_byte_array_append(out, app2, 4);
        g_byte_array_append(out, filler, 65533);
    }
    g_byte_array_append(out, p + 2, (guint) (len - 2));
    g_assert_cmpuint(out->len, >, 1u << 20);
    g_autofree char *path = tmp_path("big-header.jpg");
    write_bytes(path, out->data, out->len);

    int w = 0, h = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(pcb_image_probe(path, &w, &h, &error));
    g_assert_no_error(error);
    g_assert_cmpint(w, ==, 72);
    g_assert_cmpint(h, ==, 40);
    g_autoptr(PcbImage) img = pcb_image_load(path, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->width, ==, 72);
}

/* ---- limits and hostile input -------------------------------------------------------------- */

static void
test_pixel_cap(void)
{
    g_autoptr(PcbImage) board = tu_make_board(64, 64, 10);
    g_autoptr(GBytes) png = save_and_read(board, FALSE, 0);
    g_autoptr(GBytes) jpeg = save_and_read(board, TRUE, 90);
    g_autofree char *jpeg_path = tmp_path("fixture.jpg");

    guint64 saved = pcb_get_max_pixels();
    pcb_set_max_pixels(4095); /* one pixel short */
    GBytes *fixtures[2] = { png, jpeg };
    for (int i = 0; i < 2; i++)
        for (int n = 1; n <= 8; n *= 2) { /* the declared full size counts, not the scaled one */
            PcbLoadOptions opts = { PCB_FORMAT_RGB8, n };
            g_autoptr(GError) error = NULL;
            g_autoptr(PcbImage) img = pcb_image_load_memory(
                g_bytes_get_data(fixtures[i], NULL), g_bytes_get_size(fixtures[i]), &opts, &error);
            g_assert_null(img);
            g_assert_error(error, PCB_ERROR, PCB_ERROR_LIMIT);
            g_assert_nonnull(strstr(error->message, "64 x 64"));
        }
    assert_load_fails(jpeg_path, PCB_ERROR_LIMIT, TRUE);
    pcb_set_max_pixels(4096); /* exactly at the cap: fine */
    g_autoptr(PcbImage) ok = load_bytes(png, PCB_FORMAT_RGB8, 1);
    g_autoptr(PcbImage) ok2 = load_bytes(jpeg, PCB_FORMAT_GRAY8, 8);
    g_assert_cmpint(ok->width, ==, 64);
    g_assert_cmpint(ok2->width, ==, 8);
    pcb_set_max_pixels(saved);
    g_assert_cmpuint(pcb_get_max_pixels(), ==, saved);
}

static void
test_error_missing_and_directory(void)
{
    g_autofree char *missing = tmp_path("no-such-file.png");
    assert_load_fails(missing, PCB_ERROR_IO, TRUE);
    assert_load_fails(tu_tmpdir(), PCB_ERROR_IO, TRUE);
}

static void
test_error_empty(void)
{
    g_autofree char *path = tmp_path("empty.jpg");
    write_bytes(path, "", 0);
    assert_load_fails(path, PCB_ERROR_DECODE, TRUE);
    g_autoptr(GError) error = NULL;
    g_assert_null(pcb_image_load(path, NULL, &error));
    g_autofree char *want = g_strdup_printf("%s: empty file", path);
    g_assert_cmpstr(error->message, ==, want);

    /* from memory: the same reason, no path */
    g_autoptr(GError) merr = NULL;
    g_assert_null(pcb_image_load_memory(NULL, 0, NULL, &merr));
    g_assert_error(merr, PCB_ERROR, PCB_ERROR_DECODE);
    g_assert_cmpstr(merr->message, ==, "empty file");
}

static void
test_error_random_bytes(void)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(11);
    guint8 junk[4096];
    for (gsize i = 0; i < sizeof junk; i++)
        junk[i] = (guint8) g_rand_int_range(rand, 0, 256);
    junk[0] = 0x42;
    g_autofree char *path = tmp_path("random.png");
    write_bytes(path, junk, sizeof junk);
    assert_load_fails(path, PCB_ERROR_DECODE, TRUE);
    g_autoptr(GError) error = NULL;
    g_assert_null(pcb_image_load_memory(junk, sizeof junk, NULL, &error));
    g_assert_cmpstr(error->message, ==, "unsupported image format (not JPEG or PNG)");

    /* magic bytes followed by junk */
    junk[0] = 0xFF, junk[1] = 0xD8, junk[2] = 0xFF;
    assert_memory_fails(junk, sizeof junk, PCB_ERROR_DECODE);
    static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    memcpy(junk, sig, 8);
    assert_memory_fails(junk, sizeof junk, PCB_ERROR_DECODE);
    assert_memory_fails(junk, 8, PCB_ERROR_DECODE);
}

static void
test_error_truncated(void)
{
    g_autoptr(PcbImage) board = tu_make_board(160, 120, 12);
    const gboolean kinds[2] = { TRUE, FALSE };
    for (int i = 0; i < 2; i++) {
        g_autoptr(GBytes) bytes = save_and_read(board, kinds[i], 90);
        gsize cut = g_bytes_get_size(bytes) * 6 / 10;
        g_autofree char *path = tmp_path(kinds[i] ? "truncated.jpg" : "truncated.png");
        write_bytes(path, g_bytes_get_data(bytes, NULL), cut);
        /* the header is intact: probe works, load does not (no grey band) */
        assert_load_fails(path, PCB_ERROR_DECODE, FALSE);
        int w = 0, h = 0;
        g_assert_true(pcb_image_probe(path, &w, &h, NULL));
        g_assert_cmpint(w, ==, 160);
        g_assert_cmpint(h, ==, 120);
        for (int n = 2; n <= 8; n *= 2) {
            PcbLoadOptions opts = { PCB_FORMAT_GRAY8, n };
            g_autoptr(GError) error = NULL;
            g_assert_null(pcb_image_load(path, &opts, &error));
            g_assert_error(error, PCB_ERROR, PCB_ERROR_DECODE);
        }
        /* cut inside the header */
        write_bytes(path, g_bytes_get_data(bytes, NULL), 20);
        assert_load_fails(path, PCB_ERROR_DECODE, TRUE);
    }
}

static void
test_error_jpeg_huge_sof(void)
{
    g_autoptr(PcbImage) board = tu_make_board(32, 24, 13);
    g_autoptr(GBytes) bytes = save_and_read(board, TRUE, 80);
    gsize len = g_bytes_get_size(bytes);
    g_autofree guint8 *p = g_memdup2(g_bytes_get_data(bytes, NULL), len);
    gsize sof = find_sof(p, len);
    g_assert_cmpint(p[sof + 5] << 8 | p[sof + 6], ==, 24); /* height, then width */
    g_assert_cmpint(p[sof + 7] << 8 | p[sof + 8], ==, 32);
    for (int i = 5; i <= 7; i += 2) {
        p[sof + i] = 65000 >> 8;
        p[sof + i + 1] = 65000 & 0xFF;
    }
    g_autofree char *path = tmp_path("huge.jpg");
    write_bytes(path, p, len);
    assert_load_fails(path, PCB_ERROR_LIMIT, TRUE);

    /* a zero width: DECODE */
    p[sof + 7] = 0;
    p[sof + 8] = 0;
    write_bytes(path, p, len);
    assert_load_fails(path, PCB_ERROR_DECODE, TRUE);

    /* a plausible but wrong size: the decoder runs out of data; an error, never a crash */
    p[sof + 5] = 0x04, p[sof + 6] = 0x00, p[sof + 7] = 0x04, p[sof + 8] = 0x00;
    write_bytes(path, p, len);
    assert_load_fails(path, PCB_ERROR_DECODE, FALSE);
}

static void
test_error_png_ihdr(void)
{
    g_autoptr(PcbImage) board = tu_make_board(32, 24, 14);
    g_autoptr(GBytes) bytes = save_and_read(board, FALSE, 0);
    gsize len = g_bytes_get_size(bytes);
    g_autofree guint8 *p = g_memdup2(g_bytes_get_data(bytes, NULL), len);
    g_autofree char *path = tmp_path("ihdr.png");
    g_assert_cmpmem(p + 12, 4, "IHDR", 4);

#define FIX_IHDR_CRC()                                                                           \
    do {                                                                                         \
        guint32 crc = crc32_png(p + 12, 17, 0);                                                  \
        p[29] = (guint8) (crc >> 24), p[30] = (guint8) (crc >> 16), p[31] = (guint8) (crc >> 8), \
        p[32] = (guint8) crc;                                                                    \
    } while (0)

    /* damage without fixing the CRC */
    p[19] = 0x7F;
    write_bytes(path, p, len);
    assert_load_fails(path, PCB_ERROR_DECODE, TRUE);

    /* width 0, CRC fixed */
    memset(p + 16, 0, 4);
    FIX_IHDR_CRC();
    write_bytes(path, p, len);
    assert_load_fails(path, PCB_ERROR_DECODE, TRUE);

    /* bit depth 7 */
    p[19] = 32;
    p[24] = 7;
    FIX_IHDR_CRC();
    write_bytes(path, p, len);
    assert_load_fails(path, PCB_ERROR_DECODE, TRUE);

    /* 65000 x 65000: over the cap before anything is allocated */
    p[24] = 8;
    for (int off = 16; off <= 20; off += 4) {
        p[off] = 0, p[off + 1] = 0, p[off + 2] = 65000 >> 8, p[off + 3] = 65000 & 0xFF;
    }
    FIX_IHDR_CRC();
    write_bytes(path, p, len);
    assert_load_fails(path, PCB_ERROR_LIMIT, TRUE);
#undef FIX_IHDR_CRC
}

static void
test_error_bad_options(void)
{
    g_autoptr(PcbImage) board = tu_make_board(16, 16, 15);
    g_autoptr(GBytes) bytes = save_and_read(board, FALSE, 0); /* writes fixture.png */
    g_assert_nonnull(bytes);
    g_autofree char *path = tmp_path("fixture.png");
    const PcbLoadOptions bad[]
        = { { PCB_FORMAT_RGB8, 3 }, { PCB_FORMAT_RGB8, 0 }, { (PcbFormat) 4, 1 } };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_null(pcb_image_load(path, &bad[i], &error));
        g_assert_error(error, PCB_ERROR, PCB_ERROR_USAGE);
        g_assert_true(g_str_has_prefix(error->message, path));
    }
}

/* ---- savers ---------------------------------------------------------------------------------- */

static guint
count_entries(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    guint n = 0;
    while (g_dir_read_name(d) != NULL)
        n++;
    return n;
}

static void
test_save_into_missing_directory(void)
{
    g_autoptr(PcbImage) board = tu_make_board(16, 16, 16);
    g_autofree char *dir = tmp_path("no-such-dir");
    g_autofree char *png = g_build_filename(dir, "out.png", NULL);
    g_autofree char *jpg = g_build_filename(dir, "out.jpg", NULL);
    g_autoptr(GError) e1 = NULL, e2 = NULL;
    g_assert_false(pcb_image_save_png(board, png, &e1));
    g_assert_error(e1, PCB_ERROR, PCB_ERROR_IO);
    g_assert_nonnull(strstr(e1->message, png));
    g_assert_false(pcb_image_save_jpeg(board, jpg, 90, &e2));
    g_assert_error(e2, PCB_ERROR, PCB_ERROR_IO);
    g_assert_nonnull(strstr(e2->message, jpg));
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

static void
test_save_failure_leaves_file(void)
{
    g_autoptr(PcbImage) board = tu_make_board(16, 16, 17);
    g_autofree char *dir = tmp_path("keep");
    g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);

    /* a 250-byte name is a valid file, but ".NAME.XXXXXX" beside it is not (NAME_MAX):
     * the atomic writer fails before touching the file, even as root */
    char name[251];
    memset(name, 'k', 250);
    name[250] = '\0';
    g_autofree char *path = g_build_filename(dir, name, NULL);
    static const char original[] = "original bytes, not an image";
    FILE *f = fopen(path, "wb");
    g_assert_nonnull(f);
    g_assert_cmpuint(fwrite(original, 1, sizeof original, f), ==, sizeof original);
    g_assert_cmpint(fclose(f), ==, 0);

    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_assert_false(pcb_image_save_png(board, path, &e1));
    g_assert_error(e1, PCB_ERROR, PCB_ERROR_IO);
    g_assert_false(pcb_image_save_jpeg(board, path, 90, &e2));
    g_assert_error(e2, PCB_ERROR, PCB_ERROR_IO);
    g_assert_false(pcb_image_save_jpeg(board, path, 0, &e3)); /* bad quality */
    g_assert_error(e3, PCB_ERROR, PCB_ERROR_USAGE);
    g_assert_nonnull(strstr(e3->message, path));

    g_autoptr(GBytes) after = read_bytes(path);
    g_assert_cmpmem(g_bytes_get_data(after, NULL), g_bytes_get_size(after), original,
                    sizeof original);
    g_assert_cmpuint(count_entries(dir), ==, 1); /* no temporary left behind */

    /* and a successful save replaces a file whole */
    g_autofree char *ok = g_build_filename(dir, "ok.png", NULL);
    write_bytes(ok, original, sizeof original);
    g_assert_true(pcb_image_save_png(board, ok, NULL));
    g_autoptr(PcbImage) back = pcb_image_load(ok, NULL, NULL);
    g_assert_nonnull(back);
    assert_same_pixels(board, back);
    g_assert_cmpuint(count_entries(dir), ==, 2);
}

static void
test_save_view_with_stride(void)
{
    /* a view into the middle of a bigger image: rows are stride bytes apart */
    g_autoptr(PcbImage) big = tu_make_board(50, 40, 18);
    g_autoptr(PcbImage) view
        = pcb_image_new_view(20, 10, PCB_FORMAT_RGB8, big->stride, pcb_image_row(big, 5) + 3 * 7);
    g_autoptr(GBytes) bytes = save_and_read(view, FALSE, 0);
    g_autoptr(PcbImage) back = load_bytes(bytes, PCB_FORMAT_RGB8, 1);
    assert_same_pixels(view, back);

    g_autoptr(GBytes) jbytes = save_and_read(view, TRUE, 95);
    g_autoptr(PcbImage) jback = load_bytes(jbytes, PCB_FORMAT_RGB8, 1);
    g_assert_cmpfloat(mean_abs_diff(view, jback), <, 4.0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/io/options/defaults", test_options_defaults);
    g_test_add_func("/io/sniff/by-content", test_sniff_by_content);
    g_test_add_func("/io/orient/all-eight", test_orient_all);
    g_test_add_func("/io/exif/hostile-segments", test_exif_parser_hostile);
    g_test_add_func("/io/png/roundtrip-rgb", test_png_roundtrip_rgb);
    g_test_add_func("/io/png/roundtrip-gray", test_png_roundtrip_gray);
    g_test_add_func("/io/png/16-bit-and-sub-byte", test_png_16bit);
    g_test_add_func("/io/png/palette", test_png_palette);
    g_test_add_func("/io/png/alpha-on-black", test_png_alpha);
    g_test_add_func("/io/png/scale-box-average", test_png_scale);
    g_test_add_func("/io/jpeg/roundtrip", test_jpeg_roundtrip);
    g_test_add_func("/io/jpeg/gray", test_jpeg_gray);
    g_test_add_func("/io/jpeg/scaled-dct", test_jpeg_scaled);
    g_test_add_func("/io/jpeg/cmyk", test_jpeg_cmyk);
    g_test_add_func("/io/jpeg/exif-orientation", test_jpeg_exif_orientation);
    g_test_add_func("/io/probe/header-beyond-first-read", test_probe_header_beyond_prefix);
    g_test_add_func("/io/limit/pixel-cap", test_pixel_cap);
    g_test_add_func("/io/error/missing-and-directory", test_error_missing_and_directory);
    g_test_add_func("/io/error/empty", test_error_empty);
    g_test_add_func("/io/error/random-bytes", test_error_random_bytes);
    g_test_add_func("/io/error/truncated", test_error_truncated);
    g_test_add_func("/io/error/jpeg-huge-sof", test_error_jpeg_huge_sof);
    g_test_add_func("/io/error/png-ihdr", test_error_png_ihdr);
    g_test_add_func("/io/error/bad-options", test_error_bad_options);
    g_test_add_func("/io/save/missing-directory", test_save_into_missing_directory);
    g_test_add_func("/io/save/failure-leaves-file", test_save_failure_leaves_file);
    g_test_add_func("/io/save/view-with-stride", test_save_view_with_stride);
    return g_test_run();
}
