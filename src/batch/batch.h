/* pcbdiff batch: inspections over photo archives into an SQLite results database (a front-end,
 * linked into the pcbdiff program; not part of libpcbdiff's API). */
#ifndef PCB_BATCH_H
#define PCB_BATCH_H

#include <stdio.h>
#include <glib.h>
#include <sqlite3.h>
#include "pcbdiff/pcbdiff.h"

/* ---- inputs (manifest.c) ---- */

/* One photo to inspect. */
typedef struct {
    char *path;    /* the photo's path, as found (relative to the working directory or absolute) */
    char *board;   /* board named by a manifest, or NULL: the --board */
    char *unit_id; /* unit id from a manifest, or NULL */
} BatchItem;

void batch_item_free(BatchItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BatchItem, batch_item_free)

/* The manifest formats. */
typedef enum {
    BATCH_MANIFEST_LIST,  /* one path per line; blank lines and lines starting '#' skipped */
    BATCH_MANIFEST_CSV,   /* RFC 4180; columns photo,board[,unit] or a header naming them */
    BATCH_MANIFEST_JSONL, /* one object per line: {"photo": P, "board": B, "unit": U} */
} BatchManifestFormat;

/* Appends the BatchItems of manifest @text (@len bytes) to @items; relative photo paths are
 * taken relative to @base_dir (NULL: as they are). @origin names the manifest in messages.
 * FALSE with PCB_ERROR_USAGE naming the origin, the line and the reason for the first
 * malformed line; @items then holds what came before it. */
gboolean batch_manifest_parse(const char *text, gsize len, BatchManifestFormat format,
                              const char *base_dir, const char *origin, GPtrArray *items,
                              GError **error);

/* Expands the command line's PATH arguments into @items (BatchItem, owned): files as they are,
 * folders recursively (.jpg, .jpeg, .png in any case, sorted, symlink loops not followed),
 * @FILE as a list of paths, FILE.csv and FILE.jsonl (or .ndjson) as manifests. FALSE with
 * PCB_ERROR_IO or PCB_ERROR_USAGE for a missing argument or a malformed manifest. */
gboolean batch_collect(char **args, GPtrArray *items, GError **error);

/* Parses "I/N" (1 <= I <= N <= 100000). */
gboolean batch_shard_parse(const char *text, int *index, int *count, GError **error);

/* Whether @path belongs to shard @index of @count: a stable hash (FNV-1a) of the path. */
gboolean batch_shard_has(const char *path, int index, int count);

/* ---- the results database (db.c) ---- */

typedef struct _BatchDb BatchDb;

/* Opens (creating when @create) the results database @path: WAL journal, schema checked or
 * made. NULL with PCB_ERROR_IO (cannot open or write) or PCB_ERROR_USAGE (not a pcbdiff results
 * database, or a newer schema). */
BatchDb *batch_db_open(const char *path, gboolean create, GError **error);
void batch_db_close(BatchDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BatchDb, batch_db_close)

/* One finding row. */
typedef struct {
    char *kind;
    int x, y, w, h;
    double area_mm2; /* < 0: unknown scale (NULL in the table) */
    char *zone;      /* or NULL */
    double score;
} BatchFinding;

/* One inspection row, as written and as read back. */
typedef struct {
    gint64 id;
    char *key; /* SHA-256 of photo hash, board and parameter hash */
    char *photo_path, *photo_sha256, *board, *reference_sha256, *params_sha256, *unit_id;
    char *verdict; /* pass, fail, error, unregistered */
    int n_findings, exit_code;
    char *reason, *report_json, *finished_at;
    GArray *findings; /* BatchFinding */
    char *prev_hash, *row_hash;
} BatchRow;

BatchRow *batch_row_new(void);
void batch_row_free(BatchRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BatchRow, batch_row_free)

/* key -> GINT_TO_POINTER(((n_findings << 3) | exit_code) + 1) of every row already in @db. */
GHashTable *batch_db_done(BatchDb *db, GError **error);

/* Appends @row in one transaction, chained to the last row (sets its id, prev_hash and
 * row_hash). *@inserted is FALSE when a row with the same key is already there (nothing
 * written). */
gboolean batch_db_append(BatchDb *db, BatchRow *row, gboolean *inserted, GError **error);

/* The rows of @db in chain order, one at a time: @fn returns FALSE to stop (with *@error set
 * for a failure). */
typedef gboolean (*BatchRowFunc)(const BatchRow *row, gpointer data, GError **error);
gboolean batch_db_foreach(BatchDb *db, const char *order_by, BatchRowFunc fn, gpointer data,
                          GError **error);

/* The hash of a row: its content and @row->prev_hash (hex SHA-256; g_free it). */
char *batch_row_hash(const BatchRow *row);

/* The chain's recorded head and length (meta table). */
gboolean batch_db_head(BatchDb *db, char **head, gint64 *length, GError **error);

/* Checks the hash chain. TRUE when every row verifies; FALSE with *@bad (g_free) naming the
 * first bad row and why (PCB_ERROR_VERIFY), or another error when @db cannot be read. */
gboolean batch_db_verify(BatchDb *db, gint64 *rows, char **head, GError **error);

/* Records a merged shard (its head hash, its row count, the rows taken). */
gboolean batch_db_note_merge(BatchDb *db, const char *source, const char *head, gint64 rows,
                             gint64 taken, GError **error);

/* The SQLite connection of @db (for read-only queries). */
sqlite3 *batch_db_handle(BatchDb *db);

/* ---- operators' decisions (db.c, decide.c) ---- */

/* One decision row: finding @idx of inspection @inspection_id takes @verification (an IPC-CFX
 * name, as pcbdiff decide writes), decided by @operator_name at @decided_at (the decisions
 * file's), recorded at @recorded_at. */
typedef struct {
    gint64 id, inspection_id;
    int idx;
    char *verification, *operator_name, *decided_at, *recorded_at;
    char *prev_hash, *row_hash;
} BatchDecision;

void batch_decision_clear(BatchDecision *d);

/* A GArray of BatchDecision that clears its elements. */
GArray *batch_decisions_new(void);

/* The hash of a decision row: its content and @d->prev_hash (hex SHA-256; g_free it). */
char *batch_decision_hash(const BatchDecision *d);

/* Appends @decisions (BatchDecision; sets their id, prev_hash, row_hash) in one transaction,
 * chained to the last decision row. With @skip_known, a decision already recorded (the same
 * inspection, finding, verification, operator, decided_at and recorded_at) is not added again
 * (merge).
 * *@added: the rows written. */
gboolean batch_db_add_decisions(BatchDb *db, GArray *decisions, gboolean skip_known, guint *added,
                                GError **error);

/* Every decision row of @db, in the order recorded, appended to @out (batch_decisions_new()). */
gboolean batch_db_decisions(BatchDb *db, GArray *out, GError **error);

/* Checks the decisions' hash chain (batch_db_verify() does too): FALSE with PCB_ERROR_VERIFY
 * naming the first bad decision row. */
gboolean batch_db_verify_decisions(BatchDb *db, gint64 *rows, GError **error);

typedef struct {
    gint64 inspection_id;
    char *photo_path, *board;           /* g_free them */
    guint recorded;                     /* decision rows added */
    int counts[PCB_VERIFICATION_COUNT]; /* what the file decides, per verification */
} BatchDecideSummary;

/* pcbdiff db decide: records the decisions file @decisions_json (the review page's export) for
 * the one inspection of its photo (on @board, when not NULL) in @db, validated against that
 * inspection's report as pcbdiff decide does. FALSE with PCB_ERROR_USAGE (no or several
 * inspections of the photo, invalid decisions) or PCB_ERROR_IO. */
gboolean batch_db_decide(BatchDb *db, const char *decisions_json, const char *board,
                         BatchDecideSummary *summary, GError **error);

/* ---- db commands (dbtools.c) ---- */

/* Appends the rows of each shard database (NULL-terminated @shards, in that order, each in
 * its chain order) that @out_path does not hold yet, each chained anew in @out_path; made when
 * missing. Every shard's chain is verified first: a shard that does not verify stops the merge
 * before anything is written (PCB_ERROR_VERIFY). Merging again adds nothing. One line per
 * shard to @report. */
gboolean batch_db_merge(const char *out_path, char **shards, FILE *report, GError **error);

/* Every row of @db to @f as CSV (a header, one line per row) or JSON lines (with the findings
 * and the report), sorted by photo path and board. */
gboolean batch_db_export(BatchDb *db, gboolean jsonl, FILE *f, GError **error);

/* Counts per board and verdict, the time span, the commonest failure reasons, merges, and the
 * audit chain's head, to @f. */
gboolean batch_db_summary(BatchDb *db, FILE *f, GError **error);

/* ---- the run (run.c) ---- */

typedef struct {
    const char *board_dir;  /* --board (a board folder or a golden image), or NULL */
    const char *boards_dir; /* --boards, or NULL */
    const char *db_path;
    const char *out_dir; /* or NULL */
    const char *sign_key;
    int jobs;     /* worker threads (>= 1) */
    int progress; /* 0 none (-q), 1 default, 2 verbose (-v: a line per photo) */
    /* builds the parameters for a board (the CLI's --set and shorthands over the board's
       overrides) */
    gboolean (*build_params)(gpointer data, const PcbBoard *board, PcbInspectParams *params,
                             GError **error);
    gpointer build_data;
    gboolean html; /* with out_dir: also each photo's review page (OUT/NAME.html + NAME.html.d/) */
} BatchOptions;

/* What a run found. */
typedef struct {
    int total;     /* photos given (this shard's) */
    int skipped;   /* in the database before this run (also counted by verdict) */
    int duplicate; /* the same bytes and board as a photo before them in this run */
    int pass, fail, error, unregistered; /* by verdict, this run's and earlier runs' */
    long findings;
    double seconds;
} BatchSummary;

/* Inspects @items (BatchItem) into the database. FALSE (exit 2) only for trouble that stops the
 * whole run: the database, the --board, the output folder; a photo's failure is recorded and
 * the run goes on. */
gboolean batch_run(const BatchOptions *opts, GPtrArray *items, BatchSummary *summary,
                   GError **error);

/* The exit status of a run (README, man page): 0 every photo passed, 1 findings (or a zone not
 * judged) on some, no trouble; 3 some photos could not be registered, none failed otherwise;
 * 2 some photos could not be inspected (unreadable, corrupt, board missing). */
int batch_exit_code(const BatchSummary *s);

/* The parameter hash of @params for a reference whose golden hashes to @golden_sha256. */
char *batch_params_hash(const PcbInspectParams *params, const char *golden_sha256);

/* ---- the batch index page (index.c) ---- */

/* The name --out gives a photo's files (NAME.json, NAME.overlay.jpg, NAME.html): the photo's
 * file name without its extension, the first 12 hex digits of its SHA-256 ("unread" when it
 * could not be read) and the board. g_free it. */
char *batch_out_name(const char *photo_path, const char *photo_sha256, const char *board);

typedef struct {
    int rows, pass, fail, unregistered, error;
    int linked; /* rows with a link to their review page */
    char *path; /* the page written (g_free it) */
} BatchReviewSummary;

/* Writes @out_dir/index.html (made if missing; replaced atomically): every row of @db (named
 * @db_path on the page) with its photo, board, unit, verdict, findings, their zones, the
 * highest score and when it finished, sortable and filterable, each linking (relative to
 * @out_dir) to its review page NAME.html in @pages_dir (NULL: @out_dir) when that file exists.
 * FALSE with PCB_ERROR_IO when the folder or the page cannot be written. */
gboolean batch_db_review(BatchDb *db, const char *db_path, const char *out_dir,
                         const char *pages_dir, BatchReviewSummary *summary, GError **error);

#endif
