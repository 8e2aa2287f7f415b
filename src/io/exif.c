/* EXIF orientation from a JPEG's APP1 segment, read defensively: the bytes are hostile.
 *
 * JPEG markers:  FF D8 | FF Ex LEN(2, big-endian, includes itself) payload | ... | FF DA (SOS)
 * APP1 payload:  "Exif\0\0" | TIFF header: "II" 2A 00 or "MM" 00 2A, u32 offset of IFD0 |
 * IFD0:          u16 count | count x { u16 tag, u16 type, u32 count, 4-byte value } | ...
 * Offsets inside TIFF are relative to the TIFF header. Tag 0x0112 (Orientation) is a SHORT. */
#include <string.h>
#include "io/io_internal.h"

#define EXIF_TAG_ORIENTATION 0x0112
#define TIFF_TYPE_SHORT      3

typedef struct {
    const guint8 *p; /* the TIFF header */
    gsize len;       /* bytes from p to the end of the APP1 segment */
    gboolean big_endian;
} Tiff;

static guint16
tiff_u16(const Tiff *t, gsize off)
{
    const guint8 *b = t->p + off;
    return t->big_endian ? (guint16) (b[0] << 8 | b[1]) : (guint16) (b[1] << 8 | b[0]);
}

static guint32
tiff_u32(const Tiff *t, gsize off)
{
    const guint8 *b = t->p + off;
    if (t->big_endian)
        return (guint32) b[0] << 24 | (guint32) b[1] << 16 | (guint32) b[2] << 8 | b[3];
    return (guint32) b[3] << 24 | (guint32) b[2] << 16 | (guint32) b[1] << 8 | b[0];
}

/* Orientation from a TIFF block, or 1. */
static int
tiff_orientation(const guint8 *p, gsize len)
{
    if (len < 8)
        return 1;
    Tiff t = { .p = p, .len = len };
    if (p[0] == 'I' && p[1] == 'I')
        t.big_endian = FALSE;
    else if (p[0] == 'M' && p[1] == 'M')
        t.big_endian = TRUE;
    else
        return 1;
    if (tiff_u16(&t, 2) != 42)
        return 1;
    guint64 ifd = tiff_u32(&t, 4);
    if (ifd + 2 > t.len) /* 64-bit: no wrap-around */
        return 1;
    guint64 count = tiff_u16(&t, (gsize) ifd);
    for (guint64 i = 0; i < count; i++) {
        guint64 entry = ifd + 2 + 12 * i;
        if (entry + 12 > t.len)
            return 1;
        if (tiff_u16(&t, (gsize) entry) != EXIF_TAG_ORIENTATION)
            continue;
        if (tiff_u16(&t, (gsize) entry + 2) != TIFF_TYPE_SHORT
            || tiff_u32(&t, (gsize) entry + 4) < 1)
            return 1;
        int value = tiff_u16(&t, (gsize) entry + 8); /* a SHORT sits in the value field */
        return value >= 1 && value <= 8 ? value : 1;
    }
    return 1;
}

int
pcb_io_jpeg_exif_orientation(const guint8 *data, gsize len)
{
    if (data == NULL || len < 4 || data[0] != 0xFF || data[1] != 0xD8)
        return 1;
    gsize pos = 2;
    while (pos + 4 <= len) {
        if (data[pos] != 0xFF)
            return 1; /* not at a marker: give up rather than guess */
        guint8 marker = data[pos + 1];
        if (marker == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            pos += 2; /* no length field */
            continue;
        }
        if (marker == 0xDA || marker == 0xD9) /* SOS / EOI: metadata is over */
            return 1;
        gsize seglen = (gsize) data[pos + 2] << 8 | data[pos + 3];
        if (seglen < 2 || seglen > len - pos - 2)
            return 1;
        const guint8 *payload = data + pos + 4;
        gsize plen = seglen - 2;
        if (marker == 0xE1 && plen >= 6 && memcmp(payload, "Exif\0\0", 6) == 0)
            return tiff_orientation(payload + 6, plen - 6);
        pos += 2 + seglen;
    }
    return 1;
}
