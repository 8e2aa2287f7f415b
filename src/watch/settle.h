/* Whether a photo that something else is writing into a folder (a tethered camera, a phone
 * sync, a copy over the network) is complete. Reusable by any front-end that takes photos from
 * a hot folder.
 *
 * A file is complete when
 *   - its size, modification time and inode have not changed for a quiet period (and no change
 *     event arrived in it: settle_file_touched()), and
 *   - its bytes hold a whole image: a JPEG's marker structure runs from SOI through its scans to
 *     EOI (an EXIF thumbnail's EOI inside APP1 does not count), a PNG's chunks reach IEND.
 * The second test is what keeps a camera that writes in pieces with pauses longer than the quiet
 * period (or closes and reopens the file between pieces, so that close-write events come too
 * early) from being read half written. A file unchanged for the give-up period is taken as it is
 * even when its structure is unfinished (a transfer that died): the decoder then says what is
 * wrong with it. Bytes that cannot be the start of a JPEG or PNG are taken as soon as they are
 * quiet. The bytes returned are the bytes checked: the caller inspects them, not the file again.
 */
#ifndef PCB_WATCH_SETTLE_H
#define PCB_WATCH_SETTLE_H

#include <glib.h>

typedef enum {
    SETTLE_SHAPE_COMPLETE, /* a whole JPEG or PNG (its end marker is there) */
    SETTLE_SHAPE_PARTIAL,  /* the start of one, or zeros so far: more bytes may complete it */
    SETTLE_SHAPE_BROKEN,   /* a JPEG or PNG start followed by bytes no image has there */
    SETTLE_SHAPE_FOREIGN,  /* neither JPEG nor PNG */
} SettleShape;

/* The shape of @len bytes at @data (any length, also 0). */
SettleShape settle_shape(const guint8 *data, gsize len);
/* "complete", "partial", "broken", "foreign". Static. */
const char *settle_shape_name(SettleShape shape);

typedef struct {
    gint64 quiet_us;   /* unchanged this long before the bytes are checked */
    gint64 give_up_us; /* a partial file unchanged this long is taken as it is */
} SettleRules;

typedef enum {
    SETTLE_WAITING, /* being written, or not quiet long enough yet */
    SETTLE_READY,   /* complete (or not an image at all): the bytes are returned */
    SETTLE_STALE,   /* still partial after give_up_us unchanged: what is there is returned */
    SETTLE_GONE,    /* removed, renamed away, or not a regular file any more */
} SettleState;

typedef struct {
    char *path;
    guint64 size, inode;
    gint64 mtime_ns;
    gboolean seen;     /* size, inode and mtime_ns hold a stat() */
    gint64 changed_at; /* monotonic µs: the last change seen (stat or event) */
    gboolean checked;  /* shape holds the current bytes' shape */
    SettleShape shape;
} SettleFile;

/* Starts tracking @path, first seen at monotonic time @now (g_get_monotonic_time()): the quiet
 * period starts then. */
SettleFile *settle_file_new(const char *path, gint64 now);
void settle_file_free(SettleFile *f); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SettleFile, settle_file_free)

/* A change event (inotify, GFileMonitor) for the file at @now: the quiet period starts again,
 * also on file systems whose modification times are coarse (FAT: 2 s). */
void settle_file_touched(SettleFile *f, gint64 now);

/* Looks at the file's size, time and inode only (cheap: for files queued behind another);
 * FALSE when it is gone. */
gboolean settle_file_observe(SettleFile *f, gint64 now);

/* Looks at the file at @now under @rules. For SETTLE_READY and SETTLE_STALE, *@bytes gets the
 * content (g_bytes_unref() it); otherwise, and for a stale file that cannot be read (its
 * permissions), it is left NULL. */
SettleState settle_file_poll(SettleFile *f, const SettleRules *rules, gint64 now, GBytes **bytes);

#endif
