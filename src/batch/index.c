/* pcbdiff db review: the batch index page. One self-contained HTML file (inline CSS and JS, the
 * rows embedded as JSON, nothing from the network) listing every inspection of a results
 * database, sortable and filterable, each row linking to its photo's review page (written by
 * pcbdiff batch --out DIR --html) when that page exists. */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "batch/batch.h"
#include "index_page.h" /* generated from src/batch/index.html (scripts/embed-text.sh) */

#define DATA_MARK "<!--PCBDIFF-DATA-->"

char *
batch_out_name(const char *photo_path, const char *photo_sha256, const char *board)
{
    g_autofree char *base = g_path_get_basename(photo_path);
    char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
        *dot = '\0';
    return g_strdup_printf("%s-%.12s-%s", base, photo_sha256 ? photo_sha256 : "unread", board);
}

/* @path absolute and without ".", ".." or repeated separators (symbolic links are kept) */
static char *
absolute(const char *path)
{
    return g_canonicalize_filename(path, NULL);
}

/* The URL of @target relative to the folder @from (both absolute, canonical): "../" for each
 * folder of @from past the common part, then the rest of @target, each part %-escaped. */
static char *
relative_href(const char *from, const char *target)
{
    g_auto(GStrv) a = g_strsplit(from, G_DIR_SEPARATOR_S, -1);
    g_auto(GStrv) b = g_strsplit(target, G_DIR_SEPARATOR_S, -1);
    guint i = 0;
    while (a[i] != NULL && b[i] != NULL && strcmp(a[i], b[i]) == 0)
        i++;
    GString *s = g_string_new(NULL);
    for (guint k = i; a[k] != NULL; k++)
        if (*a[k] != '\0')
            g_string_append(s, "../");
    for (guint k = i; b[k] != NULL; k++) {
        if (*b[k] == '\0')
            continue;
        g_autofree char *part = g_uri_escape_string(b[k], NULL, FALSE);
        g_string_append(s, part);
        if (b[k + 1] != NULL)
            g_string_append_c(s, '/');
    }
    return g_string_free(s, FALSE);
}

typedef struct {
    JsonBuilder *b;
    const char *out_abs;   /* OUTDIR */
    const char *pages_abs; /* where the review pages are */
    BatchReviewSummary *sum;
    GHashTable *decided; /* inspection id -> Decided, from pcbdiff db decide */
} Index;

/* how many of an inspection's findings are confirmed, rejected, accepted (their latest
 * decision) */
typedef struct {
    gint64 id;
    int confirmed, rejected, accepted;
} Decided;

static GHashTable *
decided_counts(BatchDb *db, GError **error)
{
    sqlite3 *h = batch_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h,
                           "SELECT inspection_id, sum(verification = 'DefectConfirmed'), "
                           "sum(verification = 'DefectRejected'), "
                           "sum(verification = 'DefectAccepted') FROM decisions d WHERE id = "
                           "(SELECT max(id) FROM decisions WHERE inspection_id = d.inspection_id "
                           "AND idx = d.idx) GROUP BY inspection_id",
                           -1, &st, NULL)
        != SQLITE_OK) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read the decisions: %s",
                    sqlite3_errmsg(h));
        return NULL;
    }
    GHashTable *t = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    while (sqlite3_step(st) == SQLITE_ROW) {
        Decided *d = g_new(Decided, 1);
        d->id = sqlite3_column_int64(st, 0);
        d->confirmed = sqlite3_column_int(st, 1);
        d->rejected = sqlite3_column_int(st, 2);
        d->accepted = sqlite3_column_int(st, 3);
        g_hash_table_insert(t, &d->id, d);
    }
    sqlite3_finalize(st);
    return t;
}

static gboolean
add_row(const BatchRow *row, gpointer data, GError **error)
{
    (void) error;
    Index *ix = data;
    JsonBuilder *b = ix->b;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "photo");
    json_builder_add_string_value(b, row->photo_path);
    json_builder_set_member_name(b, "board");
    json_builder_add_string_value(b, row->board);
    json_builder_set_member_name(b, "unit");
    json_builder_add_string_value(b, row->unit_id);
    json_builder_set_member_name(b, "verdict");
    json_builder_add_string_value(b, row->verdict);
    json_builder_set_member_name(b, "findings");
    json_builder_add_int_value(b, row->n_findings);
    /* the zones of its findings, each once, in finding order; the highest score */
    double top = -1;
    g_autoptr(GPtrArray) zones = g_ptr_array_new();
    for (guint i = 0; row->findings != NULL && i < row->findings->len; i++) {
        const BatchFinding *f = &g_array_index(row->findings, BatchFinding, i);
        top = MAX(top, f->score);
        if (f->zone != NULL && !g_ptr_array_find_with_equal_func(zones, f->zone, g_str_equal, NULL))
            g_ptr_array_add(zones, f->zone);
    }
    json_builder_set_member_name(b, "zones");
    json_builder_begin_array(b);
    for (guint i = 0; i < zones->len; i++)
        json_builder_add_string_value(b, zones->pdata[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "score");
    if (top >= 0)
        json_builder_add_double_value(b, top);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "finished_at");
    json_builder_add_string_value(b, row->finished_at);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, row->reason);
    /* the operators' decisions (null: none recorded) */
    const Decided *d = g_hash_table_lookup(ix->decided, &row->id);
    const char *names[] = { "confirmed", "rejected", "accepted" };
    const int counts[] = { d ? d->confirmed : 0, d ? d->rejected : 0, d ? d->accepted : 0 };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        json_builder_set_member_name(b, names[i]);
        if (d != NULL)
            json_builder_add_int_value(b, counts[i]);
        else
            json_builder_add_null_value(b);
    }
    /* its review page, if batch --html wrote one */
    g_autofree char *name = batch_out_name(row->photo_path, row->photo_sha256, row->board);
    g_autofree char *file = g_strconcat(name, ".html", NULL);
    g_autofree char *page = g_build_filename(ix->pages_abs, file, NULL);
    json_builder_set_member_name(b, "href");
    if (g_file_test(page, G_FILE_TEST_IS_REGULAR)) {
        g_autofree char *href = relative_href(ix->out_abs, page);
        json_builder_add_string_value(b, href);
        ix->sum->linked++;
    }
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);

    BatchReviewSummary *s = ix->sum;
    s->rows++;
    if (g_strcmp0(row->verdict, "pass") == 0)
        s->pass++;
    else if (g_strcmp0(row->verdict, "fail") == 0)
        s->fail++;
    else if (g_strcmp0(row->verdict, "unregistered") == 0)
        s->unregistered++;
    else
        s->error++;
    return TRUE;
}

/* The JSON in a <script type="application/json">: "<" escaped so that no "</script>" ends it */
static void
append_script_json(GString *html, const char *id, const char *json)
{
    g_string_append_printf(html, "<script id=\"%s\" type=\"application/json\">\n", id);
    for (const char *p = json; *p != '\0'; p++) {
        if (*p == '<')
            g_string_append(html, "\\u003c");
        else
            g_string_append_c(html, *p);
    }
    g_string_append(html, "\n</script>\n");
}

gboolean
batch_db_review(BatchDb *db, const char *db_path, const char *out_dir, const char *pages_dir,
                BatchReviewSummary *summary, GError **error)
{
    memset(summary, 0, sizeof *summary);
    if (g_mkdir_with_parents(out_dir, 0777) != 0) {
        int e = errno;
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot make the output folder %s: %s", out_dir,
                    g_strerror(e));
        return FALSE;
    }
    if (pages_dir != NULL && !g_file_test(pages_dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "--pages %s: not a folder", pages_dir);
        return FALSE;
    }
    g_autofree char *out_abs = absolute(out_dir);
    g_autofree char *pages_abs = absolute(pages_dir != NULL ? pages_dir : out_dir);
    g_autoptr(GHashTable) decided = decided_counts(db, error);
    if (decided == NULL)
        return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    Index ix = { b, out_abs, pages_abs, summary, decided };
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_int_value(b, 1);
    g_autofree char *db_base = g_path_get_basename(db_path);
    json_builder_set_member_name(b, "database");
    json_builder_add_string_value(b, db_base);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
    json_builder_set_member_name(b, "generated_at");
    json_builder_add_string_value(b, when);
    json_builder_set_member_name(b, "rows");
    json_builder_begin_array(b);
    if (!batch_db_foreach(db, "photo_path, board, id", add_row, &ix, error))
        return FALSE;
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *json = json_to_string(root, FALSE);

    const char *mark = strstr(index_page, DATA_MARK);
    g_assert(mark != NULL);
    GString *html = g_string_sized_new(sizeof index_page + strlen(json) + 256);
    g_string_append_len(html, index_page, mark - index_page);
    append_script_json(html, "pcbdiff-index", json);
    g_string_append(html, mark + strlen(DATA_MARK));
    g_autofree char *text = g_string_free(html, FALSE);

    g_autofree char *path = g_build_filename(out_dir, "index.html", NULL);
    g_autoptr(GError) werr = NULL;
    /* a temporary file in the same folder, fsync, rename: the old page stays until then */
    if (!g_file_set_contents_full(path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0666, &werr)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s", werr->message);
        return FALSE;
    }
    summary->path = g_steal_pointer(&path);
    return TRUE;
}
