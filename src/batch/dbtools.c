/* pcbdiff db: merge shard databases, export, summarise. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include "batch/batch.h"

typedef struct {
    BatchDb *out;
    gint64 taken;
    GHashTable *ids; /* the shard's inspection id -> the output's (gint64 *) */
} Merge;

static gint64 *
id_dup(gint64 v)
{
    return g_memdup2(&v, sizeof v);
}

static gboolean
merge_row(const BatchRow *row, gpointer data, GError **error)
{
    Merge *m = data;
    g_autoptr(BatchRow) copy = batch_row_new();
    copy->key = g_strdup(row->key);
    copy->photo_path = g_strdup(row->photo_path);
    copy->photo_sha256 = g_strdup(row->photo_sha256);
    copy->board = g_strdup(row->board);
    copy->reference_sha256 = g_strdup(row->reference_sha256);
    copy->params_sha256 = g_strdup(row->params_sha256);
    copy->unit_id = g_strdup(row->unit_id);
    copy->verdict = g_strdup(row->verdict);
    copy->n_findings = row->n_findings;
    copy->exit_code = row->exit_code;
    copy->reason = g_strdup(row->reason);
    copy->report_json = g_strdup(row->report_json);
    copy->finished_at = g_strdup(row->finished_at);
    for (guint i = 0; i < row->findings->len; i++) {
        BatchFinding f = g_array_index(row->findings, BatchFinding, i);
        f.kind = g_strdup(f.kind);
        f.zone = g_strdup(f.zone);
        g_array_append_val(copy->findings, f);
    }
    gboolean inserted = FALSE;
    if (!batch_db_append(m->out, copy, &inserted, error))
        return FALSE;
    m->taken += inserted;
    gint64 out_id = copy->id;
    if (!inserted) { /* already there: its id in the output */
        sqlite3 *h = batch_db_handle(m->out);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, "SELECT id FROM inspections WHERE key = ?", -1, &st, NULL)
            != SQLITE_OK) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read: %s", sqlite3_errmsg(h));
            return FALSE;
        }
        sqlite3_bind_text(st, 1, row->key, -1, SQLITE_STATIC);
        out_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
    }
    g_hash_table_insert(m->ids, id_dup(row->id), id_dup(out_id));
    return TRUE;
}

/* the shard's decisions, each on the output's inspection, chained anew in the output; those
 * already there (merged before) are not added again */
static gboolean
merge_decisions(BatchDb *in, Merge *m, guint *added, GError **error)
{
    g_autoptr(GArray) all = batch_decisions_new();
    if (!batch_db_decisions(in, all, error))
        return FALSE;
    for (guint i = 0; i < all->len; i++) {
        BatchDecision *d = &g_array_index(all, BatchDecision, i);
        const gint64 *to = g_hash_table_lookup(m->ids, &d->inspection_id);
        if (to == NULL || *to == 0) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                        "decision row %" G_GINT64_FORMAT " is for inspection %" G_GINT64_FORMAT
                        ", which is not in the shard",
                        d->id, d->inspection_id);
            return FALSE;
        }
        d->inspection_id = *to;
    }
    return batch_db_add_decisions(m->out, all, TRUE, added, error);
}

gboolean
batch_db_merge(const char *out_path, char **shards, FILE *report, GError **error)
{
    for (char **s = shards; *s != NULL; s++) {
        g_autofree char *a = g_canonicalize_filename(*s, NULL);
        g_autofree char *b = g_canonicalize_filename(out_path, NULL);
        if (strcmp(a, b) == 0) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s is both the output and a shard", *s);
            return FALSE;
        }
    }
    /* every shard verifies before anything is written: the merged chain only carries rows
     * whose own chain held */
    for (char **s = shards; *s != NULL; s++) {
        g_autoptr(BatchDb) in = batch_db_open(*s, FALSE, error);
        gint64 rows = 0;
        g_autofree char *head = NULL;
        if (in == NULL || !batch_db_verify(in, &rows, &head, error)) {
            g_prefix_error(error, "%s: ", *s);
            return FALSE;
        }
    }
    g_autoptr(BatchDb) out = batch_db_open(out_path, TRUE, error);
    if (out == NULL)
        return FALSE;
    for (char **s = shards; *s != NULL; s++) {
        g_autoptr(BatchDb) in = batch_db_open(*s, FALSE, error);
        gint64 rows = 0;
        g_autofree char *head = NULL;
        if (in == NULL || !batch_db_head(in, &head, &rows, error))
            return FALSE;
        g_autoptr(GHashTable) ids
            = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
        Merge m = { out, 0, ids };
        guint decided = 0;
        if (!batch_db_foreach(in, "id", merge_row, &m, error)
            || !merge_decisions(in, &m, &decided, error)
            || !batch_db_note_merge(out, *s, head, rows, m.taken, error))
            return FALSE;
        fprintf(report,
                "merged %s: %" G_GINT64_FORMAT " rows, %" G_GINT64_FORMAT
                " new, %u new decisions\n",
                *s, rows, m.taken, decided);
    }
    return TRUE;
}

/* ---- export ---- */

static void
csv_field(GString *s, const char *v, gboolean last)
{
    if (v != NULL && strpbrk(v, ",\"\r\n") != NULL) {
        g_string_append_c(s, '"');
        for (const char *p = v; *p; p++) {
            if (*p == '"')
                g_string_append_c(s, '"');
            g_string_append_c(s, *p);
        }
        g_string_append_c(s, '"');
    }
    else if (v != NULL)
        g_string_append(s, v);
    g_string_append_c(s, last ? '\n' : ',');
}

typedef struct {
    FILE *f;
    gboolean jsonl;
    gboolean failed;
    GArray *decisions;  /* every decision row, in the order recorded */
    GHashTable *latest; /* "INSPECTION/INDEX" -> the finding's latest verification */
    GHashTable *review; /* inspection id -> its latest BatchDecision (operator, time) */
} Export;

/* the latest verification of finding @idx of inspection @id, or NULL */
static const char *
latest(const Export *e, gint64 id, int idx)
{
    char key[64];
    g_snprintf(key, sizeof key, "%" G_GINT64_FORMAT "/%d", id, idx);
    return g_hash_table_lookup(e->latest, key);
}

/* @k = @v, or null. */
static void
member_str(JsonBuilder *b, const char *k, const char *v)
{
    json_builder_set_member_name(b, k);
    if (v != NULL)
        json_builder_add_string_value(b, v);
    else
        json_builder_add_null_value(b);
}

/* One CSV line: the row's columns and its findings' confirmed, rejected, accepted counts. */
static void
export_csv_row(Export *e, const BatchRow *row)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char n[32], c[32], id[32], counts[3][16];
    g_snprintf(id, sizeof id, "%" G_GINT64_FORMAT, row->id);
    int k[3] = { 0, 0, 0 };
    for (int i = 0; i < row->n_findings; i++) {
        const char *v = latest(e, row->id, i);
        k[0] += g_strcmp0(v, "DefectConfirmed") == 0;
        k[1] += g_strcmp0(v, "DefectRejected") == 0;
        k[2] += g_strcmp0(v, "DefectAccepted") == 0;
    }
    for (int i = 0; i < 3; i++)
        g_snprintf(counts[i], sizeof counts[i], "%d", k[i]);
    g_snprintf(n, sizeof n, "%d", row->n_findings);
    g_snprintf(c, sizeof c, "%d", row->exit_code);
    const char *v[] = { id,
                        row->photo_path,
                        row->photo_sha256,
                        row->board,
                        row->unit_id,
                        row->verdict,
                        n,
                        c,
                        row->reason,
                        row->finished_at,
                        row->params_sha256,
                        row->row_hash,
                        counts[0],
                        counts[1],
                        counts[2] };
    for (guint i = 0; i < G_N_ELEMENTS(v); i++)
        csv_field(s, v[i], i + 1 == G_N_ELEMENTS(v));
    if (fwrite(s->str, 1, s->len, e->f) != s->len)
        e->failed = TRUE;
}

/* The row's findings, each with its latest verification. */
static void
export_findings(JsonBuilder *b, Export *e, const BatchRow *row)
{
    json_builder_set_member_name(b, "findings");
    json_builder_begin_array(b);
    for (guint i = 0; i < row->findings->len; i++) {
        const BatchFinding *f = &g_array_index(row->findings, BatchFinding, i);
        json_builder_begin_object(b);
        member_str(b, "kind", f->kind);
        json_builder_set_member_name(b, "bbox");
        json_builder_begin_array(b);
        json_builder_add_int_value(b, f->x);
        json_builder_add_int_value(b, f->y);
        json_builder_add_int_value(b, f->w);
        json_builder_add_int_value(b, f->h);
        json_builder_end_array(b);
        json_builder_set_member_name(b, "area_mm2");
        if (f->area_mm2 < 0)
            json_builder_add_null_value(b);
        else
            json_builder_add_double_value(b, f->area_mm2);
        member_str(b, "zone", f->zone);
        json_builder_set_member_name(b, "score");
        json_builder_add_double_value(b, f->score);
        const char *v = latest(e, row->id, (int) i);
        member_str(b, "verification", v != NULL ? v : "NotVerifiedYet");
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
}

static gboolean
export_row(const BatchRow *row, gpointer data, GError **error)
{
    Export *e = data;
    (void) error;
    if (!e->jsonl) {
        export_csv_row(e, row);
        return TRUE;
    }
    g_autoptr(JsonBuilder) b = json_builder_new_immutable();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, row->id);
    member_str(b, "photo_path", row->photo_path);
    member_str(b, "photo_sha256", row->photo_sha256);
    member_str(b, "board", row->board);
    member_str(b, "unit_id", row->unit_id);
    member_str(b, "verdict", row->verdict);
    json_builder_set_member_name(b, "n_findings");
    json_builder_add_int_value(b, row->n_findings);
    json_builder_set_member_name(b, "exit_code");
    json_builder_add_int_value(b, row->exit_code);
    member_str(b, "reason", row->reason);
    member_str(b, "finished_at", row->finished_at);
    member_str(b, "reference_sha256", row->reference_sha256);
    member_str(b, "params_sha256", row->params_sha256);
    member_str(b, "row_hash", row->row_hash);
    export_findings(b, e, row);
    /* who decided last on this inspection (pcbdiff db decide), and when */
    const BatchDecision *last = g_hash_table_lookup(e->review, &row->id);
    json_builder_set_member_name(b, "review");
    if (last != NULL) {
        json_builder_begin_object(b);
        member_str(b, "operator", last->operator_name);
        member_str(b, "decided_at", last->decided_at);
        member_str(b, "recorded_at", last->recorded_at);
        json_builder_end_object(b);
    }
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "report");
    g_autoptr(JsonNode) report = row->report_json ? json_from_string(row->report_json, NULL) : NULL;
    if (report != NULL)
        json_builder_add_value(b, g_steal_pointer(&report));
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *line = json_to_string(root, FALSE);
    if (fprintf(e->f, "%s\n", line) < 0)
        e->failed = TRUE;
    return TRUE;
}

gboolean
batch_db_export(BatchDb *db, gboolean jsonl, FILE *f, GError **error)
{
    g_autoptr(GArray) decisions = batch_decisions_new();
    if (!batch_db_decisions(db, decisions, error))
        return FALSE;
    g_autoptr(GHashTable) by_finding = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) review = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < decisions->len; i++) { /* in the order recorded: the latest wins */
        BatchDecision *d = &g_array_index(decisions, BatchDecision, i);
        g_hash_table_insert(by_finding,
                            g_strdup_printf("%" G_GINT64_FORMAT "/%d", d->inspection_id, d->idx),
                            d->verification);
        g_hash_table_insert(review, &d->inspection_id, d);
    }
    Export e = { f, jsonl, FALSE, decisions, by_finding, review };
    if (!jsonl
        && fputs("id,photo_path,photo_sha256,board,unit_id,verdict,n_findings,exit_code,reason,"
                 "finished_at,params_sha256,row_hash,confirmed,rejected,accepted\n",
                 f)
               < 0)
        e.failed = TRUE;
    if (!batch_db_foreach(db, "photo_path, board, key", export_row, &e, error))
        return FALSE;
    if (fflush(f) != 0 || e.failed) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write the export: %s",
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/* ---- summary ---- */

gboolean
batch_db_summary(BatchDb *db, FILE *f, GError **error)
{
    sqlite3 *h = batch_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(
            h,
            "SELECT board, count(*), sum(verdict = 'pass'), sum(verdict = 'fail'), "
            "sum(verdict = 'unregistered'), sum(verdict = 'error'), sum(n_findings), "
            "min(finished_at), max(finished_at) FROM inspections GROUP BY board "
            "UNION ALL SELECT NULL, count(*), sum(verdict = 'pass'), sum(verdict = 'fail'), "
            "sum(verdict = 'unregistered'), sum(verdict = 'error'), sum(n_findings), "
            "min(finished_at), max(finished_at) FROM inspections",
            -1, &st, NULL)
        != SQLITE_OK) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read: %s", sqlite3_errmsg(h));
        return FALSE;
    }
    fprintf(f, "%-20s %8s %8s %8s %8s %8s %9s\n", "board", "photos", "pass", "fail", "unreg",
            "error", "findings");
    g_autofree char *from = NULL, *to = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *board = (const char *) sqlite3_column_text(st, 0);
        if (board == NULL) {
            from = g_strdup((const char *) sqlite3_column_text(st, 7));
            to = g_strdup((const char *) sqlite3_column_text(st, 8));
        }
        fprintf(f, "%-20s %8d %8d %8d %8d %8d %9d\n", board ? board : "(all)",
                sqlite3_column_int(st, 1), sqlite3_column_int(st, 2), sqlite3_column_int(st, 3),
                sqlite3_column_int(st, 4), sqlite3_column_int(st, 5), sqlite3_column_int(st, 6));
    }
    sqlite3_finalize(st);
    if (from != NULL)
        fprintf(f, "finished between %s and %s\n", from, to);
    /* the commonest reasons a photo was not inspected */
    if (sqlite3_prepare_v2(h,
                           "SELECT verdict, count(*), min(reason) FROM inspections WHERE verdict "
                           "IN ('error', 'unregistered') GROUP BY verdict ORDER BY verdict",
                           -1, &st, NULL)
        == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            fprintf(f, "%s: %d photos (e.g. %s)\n", sqlite3_column_text(st, 0),
                    sqlite3_column_int(st, 1), sqlite3_column_text(st, 2));
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(h, "SELECT count(*), sum(taken) FROM merges", -1, &st, NULL)
        == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0)
            fprintf(f, "merged from %d shard databases (%d rows taken)\n",
                    sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
        sqlite3_finalize(st);
    }
    g_autofree char *head = NULL;
    gint64 n = 0;
    if (!batch_db_head(db, &head, &n, error))
        return FALSE;
    fprintf(f, "audit chain: %" G_GINT64_FORMAT " rows, head %s (pcbdiff db verify checks it)\n", n,
            head);
    return TRUE;
}
