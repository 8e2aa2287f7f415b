/* pcbdiff batch: what to inspect — files, folders, path lists and CSV/JSONL manifests. */
#include <string.h>
#include <stdint.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "batch/batch.h"

/* a manifest line is at most this long, a manifest at most this many entries */
#define MAX_LINE  65536
#define MAX_ITEMS 50000000

void
batch_item_free(BatchItem *item)
{
    if (item == NULL)
        return;
    g_free(item->path);
    g_free(item->board);
    g_free(item->unit_id);
    g_free(item);
}

static void
add_item(GPtrArray *items, const char *base_dir, const char *path, const char *board,
         const char *unit)
{
    BatchItem *it = g_new0(BatchItem, 1);
    it->path = base_dir != NULL && !g_path_is_absolute(path) && strcmp(base_dir, ".") != 0
                   ? g_build_filename(base_dir, path, NULL)
                   : g_strdup(path);
    it->board = board != NULL && *board != '\0' ? g_strdup(board) : NULL;
    it->unit_id = unit != NULL && *unit != '\0' ? g_strdup(unit) : NULL;
    g_ptr_array_add(items, it);
}

static gboolean
fail_line(GError **error, const char *origin, int line, const char *why)
{
    g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s:%d: %s", origin, line, why);
    return FALSE;
}

/* A board name is a folder name under --boards: no separators, not "." or "..". */
static gboolean
board_name_ok(const char *name)
{
    return name == NULL || *name == '\0'
           || (strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
}

/* Splits one CSV record starting at *@p (RFC 4180: quoted fields, "" inside quotes, records
 * end at LF or CRLF; a quoted field may span lines). Advances *@p past the record and *@line
 * by the newlines consumed. NULL with a reason in *@why for an unterminated quote or a
 * stray quote. */
static GPtrArray *
csv_record(const char **p, const char *end, int *line, const char **why)
{
    GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
    GString *f = g_string_new(NULL);
    const char *s = *p;
    for (;;) {
        if (s < end && *s == '"' && f->len == 0) {
            s++;
            for (;;) {
                if (s >= end) {
                    *why = "unterminated quoted field";
                    goto bad;
                }
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        g_string_append_c(f, '"');
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                if (*s == '\n')
                    (*line)++;
                g_string_append_c(f, *s++);
            }
            if (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                *why = "text after a closing quote";
                goto bad;
            }
        }
        while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
            if (*s == '"') {
                *why = "a quote inside an unquoted field";
                goto bad;
            }
            g_string_append_c(f, *s++);
        }
        if (f->len > MAX_LINE) {
            *why = "field too long";
            goto bad;
        }
        g_ptr_array_add(fields, g_string_free(f, FALSE));
        f = g_string_new(NULL);
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n')
            s++;
        break;
    }
    g_string_free(f, TRUE);
    *p = s;
    return fields;
bad:
    g_string_free(f, TRUE);
    g_ptr_array_unref(fields);
    return NULL;
}

static gboolean
is_blank(const char *s)
{
    for (; *s != '\0'; s++)
        if (!g_ascii_isspace(*s))
            return FALSE;
    return TRUE;
}

/* the column of a header name, or -1 */
static int
column_of(const char *name)
{
    static const char *const names[][3] = { { "photo", "photo_path", "path" },
                                            { "board", "board_name", NULL },
                                            { "unit", "unit_id", NULL } };
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 3; k++)
            if (names[c][k] != NULL && g_ascii_strcasecmp(name, names[c][k]) == 0)
                return c;
    return -1;
}

static gboolean
parse_csv(const char *text, gsize len, const char *base_dir, const char *origin, GPtrArray *items,
          GError **error)
{
    const char *p = text, *end = text + len;
    int line = 1, cols[3] = { 0, 1, 2 };
    gboolean first = TRUE;
    while (p < end) {
        int at = line;
        const char *why = NULL;
        g_autoptr(GPtrArray) f = csv_record(&p, end, &line, &why);
        line++;
        if (f == NULL)
            return fail_line(error, origin, at, why);
        if (f->len == 1 && is_blank(g_ptr_array_index(f, 0)))
            continue;
        if (first) {
            first = FALSE;
            if (column_of(g_strstrip((char *) g_ptr_array_index(f, 0))) >= 0) {
                /* a header: map its names */
                cols[0] = cols[1] = cols[2] = -1;
                for (guint i = 0; i < f->len; i++) {
                    int c = column_of(g_strstrip((char *) g_ptr_array_index(f, i)));
                    if (c >= 0 && cols[c] < 0)
                        cols[c] = (int) i;
                }
                if (cols[0] < 0)
                    return fail_line(error, origin, at, "the header names no photo column");
                continue;
            }
        }
        if (f->len > 16)
            return fail_line(error, origin, at, "more than 16 fields");
        const char *v[3] = { NULL, NULL, NULL };
        for (int c = 0; c < 3; c++)
            if (cols[c] >= 0 && (guint) cols[c] < f->len)
                v[c] = g_ptr_array_index(f, cols[c]);
        if (v[0] == NULL || *v[0] == '\0')
            return fail_line(error, origin, at, "no photo path");
        if (!board_name_ok(v[1]))
            return fail_line(error, origin, at, "a board name is a folder name, without '/'");
        if (items->len >= MAX_ITEMS)
            return fail_line(error, origin, at, "too many entries");
        add_item(items, base_dir, v[0], v[1], v[2]);
    }
    return TRUE;
}

/* The text of member @names (the first present) of @o: "" when absent or null, a whole number
 * as its digits; NULL for any other type. @num holds a number's text. */
static const char *
member_text(JsonObject *o, const char *const *names, char **num)
{
    for (; *names != NULL; names++) {
        JsonNode *n = json_object_get_member(o, *names);
        if (n == NULL || JSON_NODE_HOLDS_NULL(n))
            continue;
        if (!JSON_NODE_HOLDS_VALUE(n))
            return NULL;
        if (json_node_get_value_type(n) == G_TYPE_STRING)
            return json_node_get_string(n);
        if (json_node_get_value_type(n) == G_TYPE_INT64)
            return *num = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
        return NULL;
    }
    return "";
}

static gboolean
parse_jsonl(const char *text, gsize len, const char *base_dir, const char *origin, GPtrArray *items,
            GError **error)
{
    static const char *const photo_names[] = { "photo", "photo_path", "path", NULL };
    static const char *const board_names[] = { "board", "board_name", NULL };
    static const char *const unit_names[] = { "unit", "unit_id", NULL };
    const char *p = text, *end = text + len;
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *stop = nl != NULL ? nl : end;
        gsize n = (gsize) (stop - p);
        const char *start = p;
        p = nl != NULL ? nl + 1 : end;
        if (n > MAX_LINE)
            return fail_line(error, origin, line, "line too long");
        g_autofree char *l = g_strndup(start, n);
        if (is_blank(l))
            continue;
        g_autoptr(GError) jerr = NULL;
        if (!json_parser_load_from_data(parser, l, (gssize) n, &jerr)) {
            g_autofree char *why = g_strdup_printf("not JSON (%s)", jerr->message);
            return fail_line(error, origin, line, why);
        }
        JsonNode *root = json_parser_get_root(parser);
        if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
            return fail_line(error, origin, line, "not a JSON object");
        JsonObject *o = json_node_get_object(root);
        g_autofree char *n1 = NULL, *n2 = NULL, *n3 = NULL;
        const char *photo = member_text(o, photo_names, &n1);
        const char *board = member_text(o, board_names, &n2);
        const char *unit = member_text(o, unit_names, &n3);
        if (photo == NULL || board == NULL || unit == NULL)
            return fail_line(error, origin, line, "photo, board and unit must be strings");
        if (*photo == '\0')
            return fail_line(error, origin, line, "no \"photo\" member");
        if (!board_name_ok(board))
            return fail_line(error, origin, line, "a board name is a folder name, without '/'");
        if (items->len >= MAX_ITEMS)
            return fail_line(error, origin, line, "too many entries");
        add_item(items, base_dir, photo, board, unit);
    }
    return TRUE;
}

static gboolean
parse_list(const char *text, gsize len, const char *base_dir, const char *origin, GPtrArray *items,
           GError **error)
{
    const char *p = text, *end = text + len;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *stop = nl != NULL ? nl : end;
        if (stop > p && stop[-1] == '\r')
            stop--;
        gsize n = (gsize) (stop - p);
        const char *start = p;
        p = nl != NULL ? nl + 1 : end;
        if (n == 0 || *start == '#')
            continue;
        if (n > MAX_LINE)
            return fail_line(error, origin, line, "line too long");
        if (memchr(start, '\0', n) != NULL)
            return fail_line(error, origin, line, "a NUL byte in the line");
        g_autofree char *path = g_strndup(start, n);
        if (is_blank(path))
            continue;
        if (items->len >= MAX_ITEMS)
            return fail_line(error, origin, line, "too many entries");
        add_item(items, base_dir, path, NULL, NULL);
    }
    return TRUE;
}

gboolean
batch_manifest_parse(const char *text, gsize len, BatchManifestFormat format, const char *base_dir,
                     const char *origin, GPtrArray *items, GError **error)
{
    if (text == NULL)
        len = 0;
    if (format != BATCH_MANIFEST_LIST && len > 0 && memchr(text, '\0', len) != NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: a NUL byte: not a text manifest",
                    origin);
        return FALSE;
    }
    if (format != BATCH_MANIFEST_LIST && !g_utf8_validate(text, (gssize) len, NULL)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: not UTF-8 text", origin);
        return FALSE;
    }
    switch (format) {
    case BATCH_MANIFEST_LIST:
        return parse_list(text, len, base_dir, origin, items, error);
    case BATCH_MANIFEST_CSV:
        return parse_csv(text, len, base_dir, origin, items, error);
    case BATCH_MANIFEST_JSONL:
        return parse_jsonl(text, len, base_dir, origin, items, error);
    }
    g_assert_not_reached();
}

static gboolean
has_photo_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot != NULL
           && (g_ascii_strcasecmp(dot, ".jpg") == 0 || g_ascii_strcasecmp(dot, ".jpeg") == 0
               || g_ascii_strcasecmp(dot, ".png") == 0);
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* (device, inode) of the folders on the way down: a symlink back up is not followed */
static gboolean
scan_dir(const char *dir, GPtrArray *items, GHashTable *seen, GError **error)
{
    GStatBuf st;
    if (g_stat(dir, &st) != 0)
        return TRUE;
    g_autofree char *id = g_strdup_printf("%ju:%ju", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);
    if (!g_hash_table_add(seen, g_steal_pointer(&id)))
        return TRUE;
    g_autoptr(GError) derr = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &derr);
    if (d == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read folder %s: %s", dir,
                    derr->message);
        return FALSE;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL)
        if (name[0] != '.')
            g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, cmp_str);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *path
            = strcmp(dir, ".") == 0 ? g_strdup(n) : g_build_filename(dir, n, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            if (!scan_dir(path, items, seen, error))
                return FALSE;
        }
        else if (has_photo_ext(n) && g_file_test(path, G_FILE_TEST_IS_REGULAR))
            add_item(items, NULL, path, NULL, NULL);
    }
    return TRUE;
}

static gboolean
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && g_ascii_strcasecmp(s + a - b, suffix) == 0;
}

static gboolean
read_manifest(const char *path, BatchManifestFormat format, GPtrArray *items, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) ferr = NULL;
    if (!g_file_get_contents(path, &text, &len, &ferr)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s", ferr->message);
        return FALSE;
    }
    g_autofree char *base = g_path_get_dirname(path);
    return batch_manifest_parse(text, len, format, base, path, items, error);
}

gboolean
batch_collect(char **args, GPtrArray *items, GError **error)
{
    for (char **a = args; a != NULL && *a != NULL; a++) {
        const char *arg = *a;
        if (arg[0] == '@') {
            if (!read_manifest(arg + 1, BATCH_MANIFEST_LIST, items, error))
                return FALSE;
            continue;
        }
        if (g_file_test(arg, G_FILE_TEST_IS_DIR)) {
            g_autoptr(GHashTable) seen
                = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            if (!scan_dir(arg, items, seen, error))
                return FALSE;
            continue;
        }
        if (!g_file_test(arg, G_FILE_TEST_EXISTS)) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: No such file or directory", arg);
            return FALSE;
        }
        if (ends_with(arg, ".csv")) {
            if (!read_manifest(arg, BATCH_MANIFEST_CSV, items, error))
                return FALSE;
        }
        else if (ends_with(arg, ".jsonl") || ends_with(arg, ".ndjson")) {
            if (!read_manifest(arg, BATCH_MANIFEST_JSONL, items, error))
                return FALSE;
        }
        else
            add_item(items, NULL, arg, NULL, NULL);
    }
    return TRUE;
}

gboolean
batch_shard_parse(const char *text, int *index, int *count, GError **error)
{
    char *end = NULL;
    gint64 i = 0, n = 0;
    if (text != NULL && g_ascii_isdigit(*text)) {
        i = g_ascii_strtoll(text, &end, 10);
        if (end != NULL && *end == '/' && g_ascii_isdigit(end[1]))
            n = g_ascii_strtoll(end + 1, &end, 10);
        else
            n = 0;
    }
    if (end == NULL || *end != '\0' || n < 1 || n > 100000 || i < 1 || i > n) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--shard %s: expected I/N with 1 <= I <= N <= 100000 (e.g. 2/8)",
                    text ? text : "");
        return FALSE;
    }
    *index = (int) i;
    *count = (int) n;
    return TRUE;
}

gboolean
batch_shard_has(const char *path, int index, int count)
{
    guint64 h = 1469598103934665603ULL;
    for (const unsigned char *s = (const unsigned char *) path; *s != '\0'; s++) {
        h ^= *s;
        h *= 1099511628211ULL;
    }
    return (int) (h % (guint64) count) == index - 1;
}
