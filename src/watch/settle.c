/* Is a photo being written into a hot folder complete? Quiet period plus image structure
 * (settle.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "watch/settle.h"

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* TRUE when every byte from @pos to @len is zero: a file preallocated and not written yet. */
static gboolean
zeros_from(const guint8 *data, gsize pos, gsize len)
{
    for (gsize i = pos; i < len; i++)
        if (data[i] != 0)
            return FALSE;
    return TRUE;
}

static SettleShape
unfinished(const guint8 *data, gsize pos, gsize len)
{
    return zeros_from(data, pos, len) ? SETTLE_SHAPE_PARTIAL : SETTLE_SHAPE_BROKEN;
}

/* The entropy-coded data of a scan from @pos: the offset of the marker that ends it (0xFF
 * followed by neither a stuffed 0x00, a restart marker nor fill), or @len when the bytes end
 * first. */
static gsize
scan_end(const guint8 *data, gsize pos, gsize len)
{
    while (pos < len) {
        const guint8 *ff = memchr(data + pos, 0xff, len - pos);
        if (ff == NULL)
            return len;
        gsize i = (gsize) (ff - data);
        if (i + 1 >= len)
            return len;
        guint8 next = data[i + 1];
        if (next == 0x00 || (next >= 0xd0 && next <= 0xd7) || next == 0xff)
            pos = i + 1 + (next != 0xff);
        else
            return i;
    }
    return len;
}

static SettleShape
jpeg_shape(const guint8 *data, gsize len)
{
    gsize pos = 2; /* after SOI */
    for (;;) {
        if (pos >= len)
            return SETTLE_SHAPE_PARTIAL;
        if (data[pos] != 0xff)
            return unfinished(data, pos, len);
        while (pos < len && data[pos] == 0xff) /* fill bytes before a marker */
            pos++;
        if (pos >= len)
            return SETTLE_SHAPE_PARTIAL;
        guint8 marker = data[pos++];
        if (marker == 0xd9) /* EOI */
            return SETTLE_SHAPE_COMPLETE;
        if (marker == 0x00 || marker == 0xd8)
            return SETTLE_SHAPE_BROKEN;
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) /* no length */
            continue;
        if (pos + 2 > len)
            return SETTLE_SHAPE_PARTIAL;
        gsize seglen = ((gsize) data[pos] << 8) | data[pos + 1];
        if (seglen < 2)
            return SETTLE_SHAPE_BROKEN;
        pos += seglen;
        if (pos > len)
            return SETTLE_SHAPE_PARTIAL;
        if (marker == 0xda) /* SOS: the scan's data follows its header */
            pos = scan_end(data, pos, len);
    }
}

static SettleShape
png_shape(const guint8 *data, gsize len)
{
    gsize pos = sizeof png_signature;
    for (;;) {
        if (pos + 8 > len)
            return SETTLE_SHAPE_PARTIAL;
        guint32 n = ((guint32) data[pos] << 24) | ((guint32) data[pos + 1] << 16)
                    | ((guint32) data[pos + 2] << 8) | data[pos + 3];
        const guint8 *type = data + pos + 4;
        if (n > 0x7fffffffu)
            return unfinished(data, pos, len);
        for (int i = 0; i < 4; i++)
            if (!g_ascii_isalpha(type[i]))
                return unfinished(data, pos, len);
        gboolean iend = memcmp(type, "IEND", 4) == 0;
        if (pos + 12 + (gsize) n > len || pos + 12 + (gsize) n < pos)
            return SETTLE_SHAPE_PARTIAL;
        if (iend)
            return SETTLE_SHAPE_COMPLETE;
        pos += 12 + (gsize) n;
    }
}

static SettleShape
shape_of(const guint8 *data, gsize len)
{
    if (len == 0 || zeros_from(data, 0, len))
        return SETTLE_SHAPE_PARTIAL;
    if (data[0] == 0xff && (len == 1 || data[1] == 0xd8))
        return len == 1 ? SETTLE_SHAPE_PARTIAL : jpeg_shape(data, len);
    gsize sig = MIN(len, sizeof png_signature);
    if (memcmp(data, png_signature, sig) == 0)
        return len < sizeof png_signature ? SETTLE_SHAPE_PARTIAL : png_shape(data, len);
    return SETTLE_SHAPE_FOREIGN;
}

SettleShape
settle_shape(const guint8 *data, gsize len)
{
    SettleShape shape = shape_of(data, len);
    if (shape != SETTLE_SHAPE_BROKEN)
        return shape;
    /* a file preallocated and filled from the start: zeros after a valid beginning */
    gsize z = len;
    while (z > 0 && data[z - 1] == 0)
        z--;
    return z < len && shape_of(data, z) == SETTLE_SHAPE_PARTIAL ? SETTLE_SHAPE_PARTIAL : shape;
}

const char *
settle_shape_name(SettleShape shape)
{
    switch (shape) {
    case SETTLE_SHAPE_COMPLETE:
        return "complete";
    case SETTLE_SHAPE_PARTIAL:
        return "partial";
    case SETTLE_SHAPE_BROKEN:
        return "broken";
    case SETTLE_SHAPE_FOREIGN:
        return "foreign";
    }
    return "?";
}

SettleFile *
settle_file_new(const char *path, gint64 now)
{
    SettleFile *f = g_new0(SettleFile, 1);
    f->path = g_strdup(path);
    (void) settle_file_observe(f, now); /* its size and time now: changes are counted from here */
    f->changed_at = now;
    return f;
}

void
settle_file_free(SettleFile *f)
{
    if (f == NULL)
        return;
    g_free(f->path);
    g_free(f);
}

void
settle_file_touched(SettleFile *f, gint64 now)
{
    f->changed_at = now;
    f->checked = FALSE;
}

gboolean
settle_file_observe(SettleFile *f, gint64 now)
{
    struct stat st;
    if (stat(f->path, &st) != 0 || !S_ISREG(st.st_mode))
        return FALSE;
    gint64 mtime_ns
        = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
    if (!f->seen || f->size != (guint64) st.st_size || f->inode != (guint64) st.st_ino
        || f->mtime_ns != mtime_ns) {
        f->seen = TRUE;
        f->size = (guint64) st.st_size;
        f->inode = (guint64) st.st_ino;
        f->mtime_ns = mtime_ns;
        settle_file_touched(f, now);
    }
    return TRUE;
}

/* The file's bytes, when they are still what the last stat() saw; NULL otherwise (it changed
 * while being read, or cannot be read now). */
static GBytes *
read_unchanged(SettleFile *f, gint64 now)
{
    char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(f->path, &data, &len, NULL))
        return NULL;
    GBytes *bytes = g_bytes_new_take(data, len);
    if (!settle_file_observe(f, now) || len != f->size || f->changed_at == now) {
        g_bytes_unref(bytes);
        return NULL;
    }
    return bytes;
}

SettleState
settle_file_poll(SettleFile *f, const SettleRules *rules, gint64 now, GBytes **bytes)
{
    *bytes = NULL;
    if (!settle_file_observe(f, now))
        return SETTLE_GONE;
    gint64 quiet = now - f->changed_at;
    if (quiet < rules->quiet_us)
        return SETTLE_WAITING;
    gboolean give_up = quiet >= rules->give_up_us;
    if (f->checked && f->shape == SETTLE_SHAPE_PARTIAL && !give_up)
        return SETTLE_WAITING; /* unchanged since it was found partial: no need to read again */
    GBytes *b = read_unchanged(f, now);
    if (b == NULL) {
        if (give_up && f->changed_at != now) {
            /* quiet but unreadable (permissions): the inspection will say why */
            return SETTLE_STALE;
        }
        return SETTLE_WAITING;
    }
    gsize len = 0;
    const guint8 *data = g_bytes_get_data(b, &len);
    f->shape = settle_shape(data, len);
    f->checked = TRUE;
    if (f->shape != SETTLE_SHAPE_PARTIAL) {
        *bytes = b;
        return SETTLE_READY;
    }
    if (give_up) {
        *bytes = b;
        return SETTLE_STALE;
    }
    g_bytes_unref(b);
    return SETTLE_WAITING;
}
