/* pcbdiff batch: the results database (SQLite, WAL) and its hash chain (the audit log).
 *
 * Every inspection row carries prev_hash (the row_hash of the row before it, in id order; 64
 * zeros for the first) and row_hash = SHA-256 of a canonical form of the row's content, its
 * findings and prev_hash (batch_row_hash()). The meta table keeps the chain's head and length,
 * updated in the same transaction as each row, so an edited, deleted or reordered row, or a
 * dropped last row, no longer verifies. A row is appended in one transaction: the database
 * holds whole rows only, whatever moment the process dies at. */
#include <string.h>
#include <sqlite3.h>
#include "batch/batch.h"

#define SCHEMA_VERSION "1"
#define APPLICATION    "pcbdiff batch results"
#define GENESIS        "0000000000000000000000000000000000000000000000000000000000000000"

struct _BatchDb {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *exists, *insert, *insert_finding, *get_meta, *set_meta;
};

static const char schema[]
    = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
      "CREATE TABLE IF NOT EXISTS inspections (\n"
      "  id INTEGER PRIMARY KEY,\n"
      "  key TEXT NOT NULL UNIQUE,\n"
      "  photo_path TEXT NOT NULL,\n"
      "  photo_sha256 TEXT,\n"
      "  board TEXT NOT NULL,\n"
      "  reference_sha256 TEXT,\n"
      "  params_sha256 TEXT NOT NULL,\n"
      "  unit_id TEXT,\n"
      "  verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'error', 'unregistered')),\n"
      "  n_findings INTEGER NOT NULL,\n"
      "  exit_code INTEGER NOT NULL,\n"
      "  reason TEXT,\n"
      "  report_json TEXT,\n"
      "  finished_at TEXT NOT NULL,\n"
      "  prev_hash TEXT NOT NULL,\n"
      "  row_hash TEXT NOT NULL);\n"
      "CREATE INDEX IF NOT EXISTS inspections_photo ON inspections (photo_sha256);\n"
      "CREATE TABLE IF NOT EXISTS findings (\n"
      "  inspection_id INTEGER NOT NULL REFERENCES inspections (id),\n"
      "  idx INTEGER NOT NULL,\n"
      "  kind TEXT NOT NULL,\n"
      "  x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,\n"
      "  area_mm2 REAL,\n"
      "  zone TEXT,\n"
      "  score REAL NOT NULL,\n"
      "  PRIMARY KEY (inspection_id, idx));\n"
      "CREATE TABLE IF NOT EXISTS merges (\n"
      "  id INTEGER PRIMARY KEY, source TEXT NOT NULL, source_head TEXT NOT NULL,\n"
      "  source_rows INTEGER NOT NULL, taken INTEGER NOT NULL, merged_at TEXT NOT NULL);\n";

/* operators' decisions (pcbdiff db decide): append-only, with their own hash chain; made on open
 * in databases written before it existed */
static const char decisions_schema[]
    = "CREATE TABLE IF NOT EXISTS decisions (\n"
      "  id INTEGER PRIMARY KEY,\n"
      "  inspection_id INTEGER NOT NULL REFERENCES inspections (id),\n"
      "  idx INTEGER NOT NULL,\n"
      "  verification TEXT NOT NULL,\n"
      "  operator TEXT NOT NULL,\n"
      "  decided_at TEXT NOT NULL,\n"
      "  recorded_at TEXT NOT NULL,\n"
      "  prev_hash TEXT NOT NULL,\n"
      "  row_hash TEXT NOT NULL);\n"
      "CREATE INDEX IF NOT EXISTS decisions_inspection ON decisions (inspection_id);\n"
      "INSERT OR IGNORE INTO meta VALUES ('decisions_head', '" GENESIS "'),"
      "('decisions_length', '0');\n";

static gboolean
db_fail(BatchDb *db, GError **error, const char *what)
{
    g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: %s: %s", db->path, what,
                sqlite3_errmsg(db->db));
    return FALSE;
}

static gboolean
exec(BatchDb *db, const char *sql, GError **error)
{
    char *msg = NULL;
    if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return TRUE;
    g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: %s", db->path, msg ? msg : "failed");
    sqlite3_free(msg);
    return FALSE;
}

static gboolean
prepare(BatchDb *db, sqlite3_stmt **st, const char *sql, GError **error)
{
    if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
        return TRUE;
    return db_fail(db, error, "cannot prepare a statement");
}

void
batch_db_close(BatchDb *db)
{
    if (db == NULL)
        return;
    sqlite3_stmt *sts[]
        = { db->exists, db->insert, db->insert_finding, db->get_meta, db->set_meta };
    for (guint i = 0; i < G_N_ELEMENTS(sts); i++)
        sqlite3_finalize(sts[i]);
    sqlite3_close(db->db);
    g_free(db->path);
    g_free(db);
}

/* meta @key, or NULL (g_free) */
static char *
get_meta(BatchDb *db, const char *key)
{
    sqlite3_reset(db->get_meta);
    sqlite3_bind_text(db->get_meta, 1, key, -1, SQLITE_STATIC);
    char *v = NULL;
    if (sqlite3_step(db->get_meta) == SQLITE_ROW)
        v = g_strdup((const char *) sqlite3_column_text(db->get_meta, 0));
    sqlite3_reset(db->get_meta);
    return v;
}

static gboolean
set_meta(BatchDb *db, const char *key, const char *value, GError **error)
{
    sqlite3_reset(db->set_meta);
    sqlite3_bind_text(db->set_meta, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(db->set_meta, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(db->set_meta);
    sqlite3_reset(db->set_meta);
    return rc == SQLITE_DONE || db_fail(db, error, "cannot write");
}

/* Which tables the file holds: any, the meta table, the decisions table. */
static gboolean
probe_tables(BatchDb *db, gboolean *tables, gboolean *meta, gboolean *decisions, GError **error)
{
    sqlite3_stmt *probe = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1,
                           &probe, NULL)
        != SQLITE_OK)
        return db_fail(db, error, "not a results database");
    while (sqlite3_step(probe) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text(probe, 0);
        *tables = TRUE;
        *meta |= g_strcmp0(name, "meta") == 0;
        *decisions |= g_strcmp0(name, "decisions") == 0;
    }
    sqlite3_finalize(probe);
    return TRUE;
}

/* The statements a run appends rows with. */
static gboolean
prepare_rows(BatchDb *db, GError **error)
{
    return prepare(db, &db->exists, "SELECT 1 FROM inspections WHERE key = ?", error)
           && prepare(db, &db->insert,
                      "INSERT INTO inspections (key, photo_path, photo_sha256, board, "
                      "reference_sha256, params_sha256, unit_id, verdict, n_findings, exit_code, "
                      "reason, report_json, finished_at, prev_hash, row_hash) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      error)
           && prepare(db, &db->insert_finding,
                      "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
}

BatchDb *
batch_db_open(const char *path, gboolean create, GError **error)
{
    g_autoptr(BatchDb) db = g_new0(BatchDb, 1);
    db->path = g_strdup(path);
    if (!create && !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: No such file", path);
        return NULL;
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db->db, flags, NULL) != SQLITE_OK) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot open the database %s: %s", path,
                    db->db ? sqlite3_errmsg(db->db) : "out of memory");
        return NULL;
    }
    sqlite3_extended_result_codes(db->db, 1);
    /* another process (a second batch on the same database) may hold the write lock a moment */
    sqlite3_busy_timeout(db->db, 60000);
    /* a file that is not SQLite fails here, before anything is written to it */
    if (!exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
              error)) {
        g_prefix_error(error, "not a results database: ");
        return NULL;
    }
    gboolean has_meta = FALSE, has_tables = FALSE, has_decisions = FALSE;
    if (!probe_tables(db, &has_tables, &has_meta, &has_decisions, error))
        return NULL;
    if (has_tables && !has_meta) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "%s: an SQLite database, but not pcbdiff's results (no meta table)", path);
        return NULL;
    }
    if (!has_tables && !create) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: not a pcbdiff results database", path);
        return NULL;
    }
    if (!has_tables
        && (!exec(db, "BEGIN IMMEDIATE", error) || !exec(db, schema, error)
            || !exec(db,
                     "INSERT OR IGNORE INTO meta VALUES ('application', '" APPLICATION "'),"
                     "('schema', '" SCHEMA_VERSION "'), ('chain_head', '" GENESIS "'),"
                     "('chain_length', '0')",
                     error)
            || !exec(db, "COMMIT", error)))
        return NULL;
    if (!prepare(db, &db->get_meta, "SELECT value FROM meta WHERE key = ?", error)
        || !prepare(db, &db->set_meta, "INSERT OR REPLACE INTO meta VALUES (?, ?)", error))
        return NULL;
    g_autofree char *app = get_meta(db, "application");
    g_autofree char *version = get_meta(db, "schema");
    if (g_strcmp0(app, APPLICATION) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: not a pcbdiff results database", path);
        return NULL;
    }
    if (g_strcmp0(version, SCHEMA_VERSION) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "%s: results schema %s, this pcbdiff reads schema " SCHEMA_VERSION, path,
                    version ? version : "(none)");
        return NULL;
    }
    if (!has_decisions && !exec(db, "BEGIN IMMEDIATE", error))
        return NULL;
    if (!has_decisions && (!exec(db, decisions_schema, error) || !exec(db, "COMMIT", error))) {
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        return NULL;
    }
    if (!prepare_rows(db, error))
        return NULL;
    return g_steal_pointer(&db);
}

static void
finding_clear(gpointer p)
{
    BatchFinding *f = p;
    g_free(f->kind);
    g_free(f->zone);
}

BatchRow *
batch_row_new(void)
{
    BatchRow *row = g_new0(BatchRow, 1);
    row->findings = g_array_new(FALSE, TRUE, sizeof(BatchFinding));
    g_array_set_clear_func(row->findings, finding_clear);
    return row;
}

void
batch_row_free(BatchRow *row)
{
    if (row == NULL)
        return;
    char **strs[] = { &row->key,         &row->photo_path,       &row->photo_sha256,
                      &row->board,       &row->reference_sha256, &row->params_sha256,
                      &row->unit_id,     &row->verdict,          &row->reason,
                      &row->report_json, &row->finished_at,      &row->prev_hash,
                      &row->row_hash };
    for (guint i = 0; i < G_N_ELEMENTS(strs); i++)
        g_free(*strs[i]);
    g_array_unref(row->findings);
    g_free(row);
}

/* a field of the canonical form: "-" for NULL, else its length, ':' and its bytes */
static void
put(GChecksum *c, const char *s)
{
    if (s == NULL) {
        g_checksum_update(c, (const guchar *) "-\n", 2);
        return;
    }
    char len[32];
    int n = g_snprintf(len, sizeof len, "%zu:", strlen(s));
    g_checksum_update(c, (const guchar *) len, n);
    g_checksum_update(c, (const guchar *) s, (gssize) strlen(s));
    g_checksum_update(c, (const guchar *) "\n", 1);
}

static void
put_num(GChecksum *c, double v, gboolean integer)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    if (integer)
        g_snprintf(buf, sizeof buf, "%.0f", v);
    else
        g_ascii_formatd(buf, sizeof buf, "%.17g", v);
    put(c, buf);
}

char *
batch_row_hash(const BatchRow *row)
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    put(c, "pcbdiff-chain-1");
    put(c, row->prev_hash);
    const char *fields[] = { row->key,     row->photo_path,       row->photo_sha256,
                             row->board,   row->reference_sha256, row->params_sha256,
                             row->unit_id, row->verdict };
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
        put(c, fields[i]);
    put_num(c, row->n_findings, TRUE);
    put_num(c, row->exit_code, TRUE);
    put(c, row->reason);
    put(c, row->report_json);
    put(c, row->finished_at);
    put_num(c, row->findings->len, TRUE);
    for (guint i = 0; i < row->findings->len; i++) {
        const BatchFinding *f = &g_array_index(row->findings, BatchFinding, i);
        put(c, f->kind);
        put_num(c, f->x, TRUE);
        put_num(c, f->y, TRUE);
        put_num(c, f->w, TRUE);
        put_num(c, f->h, TRUE);
        if (f->area_mm2 < 0)
            put(c, NULL);
        else
            put_num(c, f->area_mm2, FALSE);
        put(c, f->zone);
        put_num(c, f->score, FALSE);
    }
    char *hex = g_strdup(g_checksum_get_string(c));
    g_checksum_free(c);
    return hex;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static gboolean
rollback(BatchDb *db)
{
    sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
}

gboolean
batch_db_append(BatchDb *db, BatchRow *row, gboolean *inserted, GError **error)
{
    *inserted = FALSE;
    if (!exec(db, "BEGIN IMMEDIATE", error))
        return FALSE;
    sqlite3_reset(db->exists);
    sqlite3_bind_text(db->exists, 1, row->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(db->exists);
    sqlite3_reset(db->exists);
    if (rc == SQLITE_ROW) {
        rollback(db);
        return TRUE;
    }
    if (rc != SQLITE_DONE)
        return db_fail(db, error, "cannot read") || rollback(db);
    g_autofree char *head = get_meta(db, "chain_head");
    g_autofree char *length = get_meta(db, "chain_length");
    if (head == NULL || length == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: the chain head is missing", db->path);
        return rollback(db);
    }
    g_free(row->prev_hash);
    row->prev_hash = g_strdup(head);
    g_free(row->row_hash);
    row->row_hash = batch_row_hash(row);

    sqlite3_stmt *st = db->insert;
    sqlite3_reset(st);
    const char *texts[] = { row->key,     row->photo_path,       row->photo_sha256,
                            row->board,   row->reference_sha256, row->params_sha256,
                            row->unit_id, row->verdict };
    for (int i = 0; i < 8; i++)
        bind_text(st, i + 1, texts[i]);
    sqlite3_bind_int(st, 9, row->n_findings);
    sqlite3_bind_int(st, 10, row->exit_code);
    bind_text(st, 11, row->reason);
    bind_text(st, 12, row->report_json);
    bind_text(st, 13, row->finished_at);
    bind_text(st, 14, row->prev_hash);
    bind_text(st, 15, row->row_hash);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_fail(db, error, "cannot write a row") || rollback(db);
    row->id = sqlite3_last_insert_rowid(db->db);
    for (guint i = 0; i < row->findings->len; i++) {
        const BatchFinding *f = &g_array_index(row->findings, BatchFinding, i);
        st = db->insert_finding;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, row->id);
        sqlite3_bind_int(st, 2, (int) i);
        bind_text(st, 3, f->kind);
        sqlite3_bind_int(st, 4, f->x);
        sqlite3_bind_int(st, 5, f->y);
        sqlite3_bind_int(st, 6, f->w);
        sqlite3_bind_int(st, 7, f->h);
        if (f->area_mm2 < 0)
            sqlite3_bind_null(st, 8);
        else
            sqlite3_bind_double(st, 8, f->area_mm2);
        bind_text(st, 9, f->zone);
        sqlite3_bind_double(st, 10, f->score);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return db_fail(db, error, "cannot write a finding") || rollback(db);
    }
    g_autofree char *n
        = g_strdup_printf("%" G_GINT64_FORMAT, g_ascii_strtoll(length, NULL, 10) + 1);
    if (!set_meta(db, "chain_head", row->row_hash, error)
        || !set_meta(db, "chain_length", n, error))
        return rollback(db);
    if (!exec(db, "COMMIT", error))
        return rollback(db);
    *inserted = TRUE;
    return TRUE;
}

GHashTable *
batch_db_done(BatchDb *db, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT key, exit_code, n_findings FROM inspections", -1, &st,
                           NULL)
        != SQLITE_OK) {
        db_fail(db, error, "cannot read");
        return NULL;
    }
    GHashTable *done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_hash_table_insert(done, g_strdup((const char *) sqlite3_column_text(st, 0)),
                            GINT_TO_POINTER(((MIN(sqlite3_column_int(st, 2), 1 << 24) << 3)
                                             | (sqlite3_column_int(st, 1) & 7))
                                            + 1));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        g_hash_table_unref(done);
        db_fail(db, error, "cannot read");
        return NULL;
    }
    return done;
}

static char *
col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL ? g_strdup((const char *) t) : NULL;
}

gboolean
batch_db_foreach(BatchDb *db, const char *order_by, BatchRowFunc fn, gpointer data, GError **error)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT id, key, photo_path, photo_sha256, board, reference_sha256, params_sha256, "
        "unit_id, verdict, n_findings, exit_code, reason, report_json, finished_at, prev_hash, "
        "row_hash FROM inspections ORDER BY %s",
        order_by ? order_by : "id");
    sqlite3_stmt *st = NULL, *fs = NULL;
    if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK
        || sqlite3_prepare_v2(db->db,
                              "SELECT kind, x, y, w, h, area_mm2, zone, score FROM findings "
                              "WHERE inspection_id = ? ORDER BY idx",
                              -1, &fs, NULL)
               != SQLITE_OK) {
        sqlite3_finalize(st);
        return db_fail(db, error, "cannot read");
    }
    /* one snapshot for the whole walk */
    gboolean ok = exec(db, "BEGIN", error);
    int rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        g_autoptr(BatchRow) row = batch_row_new();
        row->id = sqlite3_column_int64(st, 0);
        char **strs[] = { &row->key,     &row->photo_path,       &row->photo_sha256,
                          &row->board,   &row->reference_sha256, &row->params_sha256,
                          &row->unit_id, &row->verdict };
        for (int i = 0; i < 8; i++)
            *strs[i] = col_text(st, i + 1);
        row->n_findings = sqlite3_column_int(st, 9);
        row->exit_code = sqlite3_column_int(st, 10);
        row->reason = col_text(st, 11);
        row->report_json = col_text(st, 12);
        row->finished_at = col_text(st, 13);
        row->prev_hash = col_text(st, 14);
        row->row_hash = col_text(st, 15);
        sqlite3_reset(fs);
        sqlite3_bind_int64(fs, 1, row->id);
        while (sqlite3_step(fs) == SQLITE_ROW) {
            BatchFinding f = { 0 };
            f.kind = col_text(fs, 0);
            f.x = sqlite3_column_int(fs, 1);
            f.y = sqlite3_column_int(fs, 2);
            f.w = sqlite3_column_int(fs, 3);
            f.h = sqlite3_column_int(fs, 4);
            f.area_mm2
                = sqlite3_column_type(fs, 5) == SQLITE_NULL ? -1 : sqlite3_column_double(fs, 5);
            f.zone = col_text(fs, 6);
            f.score = sqlite3_column_double(fs, 7);
            g_array_append_val(row->findings, f);
        }
        if (!fn(row, data, error))
            ok = FALSE;
    }
    if (ok && rc != SQLITE_DONE)
        ok = db_fail(db, error, "cannot read");
    sqlite3_finalize(st);
    sqlite3_finalize(fs);
    sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    return ok;
}

gboolean
batch_db_head(BatchDb *db, char **head, gint64 *length, GError **error)
{
    g_autofree char *h = get_meta(db, "chain_head");
    g_autofree char *n = get_meta(db, "chain_length");
    if (h == NULL || n == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "%s: the chain head is missing from the meta table", db->path);
        return FALSE;
    }
    *head = g_steal_pointer(&h);
    *length = g_ascii_strtoll(n, NULL, 10);
    return TRUE;
}

typedef struct {
    char *prev;
    gint64 rows;
} Walk;

static gboolean
verify_row(const BatchRow *row, gpointer data, GError **error)
{
    Walk *w = data;
    const char *what = NULL;
    if (g_strcmp0(row->prev_hash, w->prev) != 0)
        what = w->rows == 0 ? "is not the first of the chain: a row before it was deleted"
                            : "does not follow the row before it: a row was deleted or the rows "
                              "were reordered";
    g_autofree char *h = batch_row_hash(row);
    if (what == NULL && g_strcmp0(h, row->row_hash) != 0)
        what = "was edited: its content no longer matches its hash";
    if (what != NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "row %" G_GINT64_FORMAT " (%s, board %s) %s", row->id, row->photo_path,
                    row->board, what);
        return FALSE;
    }
    g_free(w->prev);
    w->prev = g_strdup(row->row_hash);
    w->rows++;
    return TRUE;
}

gboolean
batch_db_verify(BatchDb *db, gint64 *rows, char **head, GError **error)
{
    Walk w = { g_strdup(GENESIS), 0 };
    g_autofree char *want = NULL;
    gint64 want_n = 0;
    gboolean ok = batch_db_head(db, &want, &want_n, error)
                  && batch_db_foreach(db, "id", verify_row, &w, error);
    if (ok && (g_strcmp0(w.prev, want) != 0 || w.rows != want_n)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "the chain ends after %" G_GINT64_FORMAT " rows, but %" G_GINT64_FORMAT
                    " were recorded: the last rows were deleted (or the head was edited)",
                    w.rows, want_n);
        ok = FALSE;
    }
    /* the operators' decisions have their own chain */
    gint64 decided = 0;
    if (ok)
        ok = batch_db_verify_decisions(db, &decided, error);
    *rows = w.rows;
    *head = g_steal_pointer(&w.prev);
    if (!ok)
        g_clear_pointer(head, g_free);
    return ok;
}

gboolean
batch_db_note_merge(BatchDb *db, const char *source, const char *head, gint64 rows, gint64 taken,
                    GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "INSERT INTO merges (source, source_head, source_rows, taken, "
                           "merged_at) VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
                           -1, &st, NULL)
        != SQLITE_OK)
        return db_fail(db, error, "cannot write");
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, head, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rows);
    sqlite3_bind_int64(st, 4, taken);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || db_fail(db, error, "cannot write");
}

sqlite3 *
batch_db_handle(BatchDb *db)
{
    return db->db;
}

/* ---- decisions (pcbdiff db decide) ----
 *
 * Each decision row carries prev_hash (the row_hash of the decision row before it, 64 zeros
 * for the first) and row_hash = SHA-256 of its content and prev_hash; the head and length are
 * in meta (decisions_head, decisions_length). Inspection rows are never touched. */

void
batch_decision_clear(BatchDecision *d)
{
    g_free(d->verification);
    g_free(d->operator_name);
    g_free(d->decided_at);
    g_free(d->recorded_at);
    g_free(d->prev_hash);
    g_free(d->row_hash);
    memset(d, 0, sizeof *d);
}

char *
batch_decision_hash(const BatchDecision *d)
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    put(c, "pcbdiff-decision-1");
    put(c, d->prev_hash);
    put_num(c, (double) d->inspection_id, TRUE);
    put_num(c, d->idx, TRUE);
    put(c, d->verification);
    put(c, d->operator_name);
    put(c, d->decided_at);
    put(c, d->recorded_at);
    char *hex = g_strdup(g_checksum_get_string(c));
    g_checksum_free(c);
    return hex;
}

gboolean
batch_db_add_decisions(BatchDb *db, GArray *decisions, gboolean skip_known, guint *added,
                       GError **error)
{
    *added = 0;
    sqlite3_stmt *ins = NULL, *known = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "INSERT INTO decisions (inspection_id, idx, verification, operator, "
                           "decided_at, recorded_at, prev_hash, row_hash) VALUES "
                           "(?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &ins, NULL)
            != SQLITE_OK
        || sqlite3_prepare_v2(
               db->db,
               "SELECT 1 FROM decisions WHERE inspection_id = ? AND idx = ? AND "
               "verification = ? AND operator = ? AND decided_at = ? AND recorded_at = ?",
               -1, &known, NULL)
               != SQLITE_OK) {
        sqlite3_finalize(ins);
        return db_fail(db, error, "cannot prepare a statement");
    }
    gboolean ok = exec(db, "BEGIN IMMEDIATE", error);
    g_autofree char *head = ok ? get_meta(db, "decisions_head") : NULL;
    g_autofree char *length = ok ? get_meta(db, "decisions_length") : NULL;
    if (ok && (head == NULL || length == NULL)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: the decisions chain head is missing",
                    db->path);
        ok = rollback(db);
    }
    gint64 n = ok ? g_ascii_strtoll(length, NULL, 10) : 0;
    for (guint i = 0; ok && i < decisions->len; i++) {
        BatchDecision *d = &g_array_index(decisions, BatchDecision, i);
        if (skip_known) {
            sqlite3_reset(known);
            sqlite3_bind_int64(known, 1, d->inspection_id);
            sqlite3_bind_int(known, 2, d->idx);
            sqlite3_bind_text(known, 3, d->verification, -1, SQLITE_STATIC);
            sqlite3_bind_text(known, 4, d->operator_name, -1, SQLITE_STATIC);
            sqlite3_bind_text(known, 5, d->decided_at, -1, SQLITE_STATIC);
            sqlite3_bind_text(known, 6, d->recorded_at, -1, SQLITE_STATIC);
            if (sqlite3_step(known) == SQLITE_ROW)
                continue;
        }
        g_free(d->prev_hash);
        d->prev_hash = g_strdup(head);
        g_free(d->row_hash);
        d->row_hash = batch_decision_hash(d);
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, d->inspection_id);
        sqlite3_bind_int(ins, 2, d->idx);
        bind_text(ins, 3, d->verification);
        bind_text(ins, 4, d->operator_name);
        bind_text(ins, 5, d->decided_at);
        bind_text(ins, 6, d->recorded_at);
        bind_text(ins, 7, d->prev_hash);
        bind_text(ins, 8, d->row_hash);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            ok = db_fail(db, error, "cannot write a decision") || rollback(db);
            break;
        }
        d->id = sqlite3_last_insert_rowid(db->db);
        g_free(head);
        head = g_strdup(d->row_hash);
        n++;
        (*added)++;
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(known);
    if (!ok)
        return FALSE;
    g_autofree char *ns = g_strdup_printf("%" G_GINT64_FORMAT, n);
    if (!set_meta(db, "decisions_head", head, error) || !set_meta(db, "decisions_length", ns, error)
        || !exec(db, "COMMIT", error))
        return rollback(db);
    return TRUE;
}

gboolean
batch_db_decisions(BatchDb *db, GArray *out, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT id, inspection_id, idx, verification, operator, decided_at, "
                           "recorded_at, prev_hash, row_hash FROM decisions ORDER BY id",
                           -1, &st, NULL)
        != SQLITE_OK)
        return db_fail(db, error, "cannot read the decisions");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        BatchDecision d = { 0 };
        d.id = sqlite3_column_int64(st, 0);
        d.inspection_id = sqlite3_column_int64(st, 1);
        d.idx = sqlite3_column_int(st, 2);
        d.verification = col_text(st, 3);
        d.operator_name = col_text(st, 4);
        d.decided_at = col_text(st, 5);
        d.recorded_at = col_text(st, 6);
        d.prev_hash = col_text(st, 7);
        d.row_hash = col_text(st, 8);
        g_array_append_val(out, d);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || db_fail(db, error, "cannot read the decisions");
}

GArray *
batch_decisions_new(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(BatchDecision));
    g_array_set_clear_func(a, (GDestroyNotify) batch_decision_clear);
    return a;
}

gboolean
batch_db_verify_decisions(BatchDb *db, gint64 *rows, GError **error)
{
    *rows = 0;
    g_autofree char *want = get_meta(db, "decisions_head");
    g_autofree char *n = get_meta(db, "decisions_length");
    if (want == NULL || n == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "%s: the decisions chain head is missing from the meta table", db->path);
        return FALSE;
    }
    g_autoptr(GArray) all = batch_decisions_new();
    if (!exec(db, "BEGIN", error))
        return FALSE;
    gboolean ok = batch_db_decisions(db, all, error);
    sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    if (!ok)
        return FALSE;
    const char *prev = GENESIS;
    for (guint i = 0; i < all->len; i++) {
        const BatchDecision *d = &g_array_index(all, BatchDecision, i);
        const char *what = NULL;
        if (g_strcmp0(d->prev_hash, prev) != 0)
            what = i == 0 ? "is not the first of the decisions chain: a decision before it was "
                            "deleted"
                          : "does not follow the decision before it: a decision was deleted or "
                            "the decisions were reordered";
        g_autofree char *h = batch_decision_hash(d);
        if (what == NULL && g_strcmp0(h, d->row_hash) != 0)
            what = "was edited: its content no longer matches its hash";
        if (what != NULL) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                        "decision row %" G_GINT64_FORMAT " (inspection %" G_GINT64_FORMAT
                        ", finding %d, %s) %s",
                        d->id, d->inspection_id, d->idx, d->verification, what);
            return FALSE;
        }
        prev = d->row_hash;
    }
    if (g_strcmp0(prev, want) != 0 || (gint64) all->len != g_ascii_strtoll(n, NULL, 10)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_VERIFY,
                    "the decisions chain ends after %u rows, but %s were recorded: the last "
                    "decisions were deleted (or the head was edited)",
                    all->len, n);
        return FALSE;
    }
    *rows = all->len;
    return TRUE;
}
