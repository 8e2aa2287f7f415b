/* pcbdiff batch: the run. One reader thread reads and hashes the photos ahead (at most --jobs
 * waiting), skips those the database already holds, and hands the rest to --jobs workers; each
 * worker inspects one photo at a time against its board's prepared reference (decoded and
 * prepared once, shared read-only) and the main thread writes each finished photo to the
 * database in one transaction, and draws the progress. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include "batch/batch.h"

/* a photo file larger than this is refused without reading it */
#define MAX_FILE_BYTES ((goffset) 2 << 30)

typedef struct {
    char *name;        /* as rows name it */
    PcbReference *ref; /* NULL when it could not be prepared */
    char *error;       /* why not */
    PcbInspectParams params;
    char *params_hash;
} Board;

typedef struct {
    const BatchItem *item;
    Board *board;
    char *bytes;
    gsize len;
    char *read_error;
    char *sha256;
    char *key;
    int done_code; /* > 0: in the database already: (findings << 3 | exit code) + 1 */
    gboolean duplicate;
    BatchRow *row;
} Job;

typedef struct {
    const BatchOptions *opts;
    GPtrArray *items;
    GHashTable *boards; /* name -> Board */
    Board *default_board;
    GHashTable *done; /* key -> exit code + 1 */
    GAsyncQueue *work, *results;
    GMutex lock;
    GCond room;
    int waiting;   /* jobs read and not yet taken by a worker */
    gint stopping; /* the database failed: read and inspect nothing more, drain */
} Run;

static void
board_free(gpointer p)
{
    Board *b = p;
    pcb_reference_free(b->ref);
    g_free(b->name);
    g_free(b->error);
    g_free(b->params_hash);
    g_free(b);
}

static void
job_free(Job *j)
{
    g_free(j->bytes);
    g_free(j->read_error);
    g_free(j->sha256);
    g_free(j->key);
    batch_row_free(j->row);
    g_free(j);
}

/* libcrypto's SHA-256 (the CPU's SHA instructions: several times GLib's portable code on
 * multi-megabyte photos) */
static char *
sha256_hex(const void *data, gsize len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
        return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
    char *hex = g_malloc(2 * n + 1);
    for (unsigned int i = 0; i < n; i++)
        g_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

char *
batch_params_hash(const PcbInspectParams *params, const char *golden_sha256)
{
    GString *s = g_string_new("pcbdiff-params-1\n");
    g_string_append_printf(s, "golden=%s\n", golden_sha256 ? golden_sha256 : "-");
    for (guint i = 0; i < pcb_param_count(); i++) {
        const PcbParamSpec *spec = pcb_param_nth(i);
        g_autofree char *key = pcb_param_key(spec);
        g_autofree char *value = pcb_param_format(spec, pcb_inspect_params_get(params, spec));
        g_string_append_printf(s, "%s=%s\n", key, value);
    }
    char *hex = sha256_hex(s->str, s->len);
    g_string_free(s, TRUE);
    return hex;
}

/* Loads and prepares the board at @path for rows named @name; NULL with @error. */
static Board *
prepare_board(const BatchOptions *opts, const char *name, const char *path, GError **error)
{
    PcbInspectParams params;
    if (!opts->build_params(opts->build_data, NULL, &params, error))
        return NULL;
    PcbBoard *pb = pcb_board_open(path, params.px_per_mm, error);
    if (pb == NULL)
        return NULL;
    if (!opts->build_params(opts->build_data, pb, &params, error)) {
        pcb_board_free(pb);
        return NULL;
    }
    g_autofree char *golden = NULL;
    gsize len = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(pb->golden_path, &golden, &len, &gerr)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s", gerr->message);
        pcb_board_free(pb);
        return NULL;
    }
    g_autofree char *golden_sha = sha256_hex(golden, len);
    g_clear_pointer(&golden, g_free);
    Board *b = g_new0(Board, 1);
    /* rows name a board by its folder (as manifests and --boards do), a golden by its stem */
    b->name = name != NULL                            ? g_strdup(name)
              : g_file_test(path, G_FILE_TEST_IS_DIR) ? g_path_get_basename(path)
                                                      : g_strdup(pb->name);
    params.keep_images = opts->out_dir != NULL;
    b->ref = pcb_reference_new(pb, &params, error);
    if (b->ref == NULL) {
        board_free(b);
        return NULL;
    }
    b->params = params;
    b->params_hash = batch_params_hash(&params, golden_sha);
    return b;
}

/* The boards the items name, each prepared once. */
static gboolean
prepare_boards(Run *run, GError **error)
{
    const BatchOptions *opts = run->opts;
    run->boards = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, board_free);
    if (opts->board_dir != NULL) {
        Board *b = prepare_board(opts, NULL, opts->board_dir, error);
        if (b == NULL) {
            g_prefix_error(error, "--board %s: ", opts->board_dir);
            return FALSE;
        }
        run->default_board = b;
        g_hash_table_insert(run->boards, b->name, b);
    }
    g_autofree char *dir_name
        = opts->board_dir != NULL ? g_path_get_basename(opts->board_dir) : NULL;
    for (guint i = 0; i < run->items->len; i++) {
        const BatchItem *it = g_ptr_array_index(run->items, i);
        if (it->board == NULL) {
            if (run->default_board == NULL) {
                g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                            "%s: no board named for this photo: give --board", it->path);
                return FALSE;
            }
            continue;
        }
        if (g_hash_table_contains(run->boards, it->board))
            continue;
        if (run->default_board != NULL && g_strcmp0(it->board, dir_name) == 0) {
            g_hash_table_insert(run->boards, it->board, run->default_board);
            continue;
        }
        if (opts->boards_dir == NULL) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                        "%s: board %s is named, but no --boards DIR to find it in", it->path,
                        it->board);
            return FALSE;
        }
        g_autofree char *path = g_build_filename(opts->boards_dir, it->board, NULL);
        g_autoptr(GError) berr = NULL;
        Board *b = prepare_board(opts, it->board, path, &berr);
        if (b == NULL) {
            if (berr->domain == PCB_ERROR && berr->code == PCB_ERROR_USAGE) {
                g_propagate_error(error, g_steal_pointer(&berr));
                return FALSE;
            }
            /* its photos are recorded as errors, the others go on */
            g_warning("board %s: %s", it->board, berr->message);
            b = g_new0(Board, 1);
            b->name = g_strdup(it->board);
            b->error = g_strdup_printf("board %s: %s", it->board, berr->message);
            b->params_hash = sha256_hex(b->error, strlen(b->error));
        }
        g_hash_table_insert(run->boards, b->name, b);
    }
    /* (the --board may sit in the table twice, under its name and its folder's: batch_run frees
       each board once) */
    return TRUE;
}

/* ---- the reader ---- */

static char *
make_key(const char *photo_sha256, const char *path, const char *board, const char *params_hash)
{
    g_autofree char *s = g_strdup_printf("%s%s\n%s\n%s", photo_sha256 ? "" : "path:",
                                         photo_sha256 ? photo_sha256 : path, board, params_hash);
    return sha256_hex(s, strlen(s));
}

static void
read_photo(Job *j)
{
    GStatBuf st;
    if (g_stat(j->item->path, &st) != 0) {
        int e = errno;
        j->read_error = g_strdup_printf("%s: %s", j->item->path, g_strerror(e));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        j->read_error = g_strdup_printf("%s: not a regular file", j->item->path);
        return;
    }
    if (st.st_size > MAX_FILE_BYTES) {
        j->read_error = g_strdup_printf("%s: a %.1f GB file: too large for a photo", j->item->path,
                                        st.st_size / 1e9);
        return;
    }
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(j->item->path, &j->bytes, &j->len, &error)) {
        j->read_error = g_strdup(error->message);
        return;
    }
    j->sha256 = sha256_hex(j->bytes, j->len);
}

static gpointer
reader_main(gpointer data)
{
    Run *run = data;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < run->items->len; i++) {
        Job *j = g_new0(Job, 1);
        j->item = g_ptr_array_index(run->items, i);
        j->board = j->item->board != NULL ? g_hash_table_lookup(run->boards, j->item->board)
                                          : run->default_board;
        if (g_atomic_int_get(&run->stopping)) {
            j->duplicate = TRUE; /* not written */
            g_async_queue_push(run->results, j);
            continue;
        }
        read_photo(j);
        j->key = make_key(j->sha256, j->item->path, j->board->name, j->board->params_hash);
        j->done_code = GPOINTER_TO_INT(g_hash_table_lookup(run->done, j->key));
        if (j->done_code == 0 && !g_hash_table_add(seen, g_strdup(j->key)))
            j->duplicate = TRUE;
        if (j->done_code > 0 || j->duplicate) {
            g_clear_pointer(&j->bytes, g_free);
            g_async_queue_push(run->results, j);
            continue;
        }
        g_mutex_lock(&run->lock);
        while (run->waiting >= run->opts->jobs)
            g_cond_wait(&run->room, &run->lock);
        run->waiting++;
        g_mutex_unlock(&run->lock);
        g_async_queue_push(run->work, j);
    }
    for (int i = 0; i < run->opts->jobs; i++)
        g_async_queue_push(run->work, g_new0(Job, 1)); /* the end, one per worker */
    return NULL;
}

/* ---- the workers ---- */

static char *
now_iso(void)
{
    g_autoptr(GDateTime) t = g_date_time_new_now_utc();
    return g_date_time_format(t, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static void
fill_findings(BatchRow *row, const PcbInspection *insp)
{
    for (guint i = 0; insp->findings != NULL && i < insp->findings->len; i++) {
        const PcbFinding *f = &g_array_index(insp->findings, PcbFinding, i);
        BatchFinding bf = { .kind = g_strdup(pcb_kind_name(f->kind)),
                            .x = (int) lround(f->bbox.x),
                            .y = (int) lround(f->bbox.y),
                            .w = (int) lround(f->bbox.w),
                            .h = (int) lround(f->bbox.h),
                            .area_mm2 = f->area_mm2 < 0 ? -1 : f->area_mm2,
                            .zone = g_strdup(f->zone),
                            .score = f->score };
        g_array_append_val(row->findings, bf);
    }
    row->n_findings = (int) row->findings->len;
}

/* why an incomplete inspection is not a pass: the zones, the pose, the light */
static char *
not_judged(const PcbInspection *insp)
{
    g_autofree char *why = pcb_report_not_judged(insp);
    return g_strconcat("incomplete: ", why != NULL ? why : "not judged from the photo", NULL);
}

static char *
out_stem(const Run *run, const Job *j)
{
    g_autofree char *name = batch_out_name(j->item->path, j->sha256, j->board->name);
    return g_build_filename(run->opts->out_dir, name, NULL);
}

static void
inspect_job(Run *run, Job *j)
{
    BatchRow *row = j->row = batch_row_new();
    row->key = g_strdup(j->key);
    row->photo_path = g_strdup(j->item->path);
    row->photo_sha256 = g_strdup(j->sha256);
    row->board = g_strdup(j->board->name);
    row->params_sha256 = g_strdup(j->board->params_hash);
    row->unit_id = g_strdup(j->item->unit_id);
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    g_autoptr(GError) error = NULL;
    if (j->read_error != NULL)
        g_set_error(&error, PCB_ERROR, PCB_ERROR_IO, "%s", j->read_error);
    else if (j->board->ref == NULL)
        g_set_error(&error, PCB_ERROR, PCB_ERROR_IO, "%s", j->board->error);
    else
        pcb_inspect_buffer(j->board->ref, j->item->path, (const guint8 *) j->bytes, j->len,
                           &j->board->params, insp, &error);
    g_clear_pointer(&j->bytes, g_free);
    if (insp->photo_path == NULL)
        insp->photo_path = g_strdup(j->item->path);
    if (insp->photo_sha256 == NULL)
        insp->photo_sha256 = g_strdup(j->sha256);
    if (error == NULL) {
        const char *v = pcb_inspection_verdict(insp);
        fill_findings(row, insp);
        row->verdict = g_strdup(strcmp(v, "pass") == 0 ? "pass" : "fail");
        row->exit_code = strcmp(v, "pass") == 0 ? PCB_EXIT_PASS : PCB_EXIT_FINDINGS;
        if (strcmp(v, "incomplete") == 0)
            row->reason = not_judged(insp);
    }
    else {
        row->exit_code = pcb_error_exit_code(error);
        row->verdict = g_strdup(row->exit_code == PCB_EXIT_UNREGISTERED ? "unregistered" : "error");
        row->reason = g_strdup(error->message);
    }
    if (j->board->ref != NULL)
        row->reference_sha256 = g_strdup(insp->reference_sha256);
    row->report_json = pcb_report_to_json(insp, error);
    if (run->opts->sign_key != NULL) {
        g_autoptr(GError) serr = NULL;
        char *signed_json = pcb_report_sign(row->report_json, run->opts->sign_key, &serr);
        if (signed_json == NULL)
            g_warning("%s: cannot sign the report: %s", j->item->path, serr->message);
        else {
            g_free(row->report_json);
            row->report_json = signed_json;
        }
    }
    if (run->opts->out_dir != NULL) {
        g_autofree char *stem = out_stem(run, j);
        g_autofree char *json = g_strconcat(stem, ".json", NULL);
        g_autoptr(GError) werr = NULL;
        if (!g_file_set_contents(json, row->report_json, -1, &werr))
            g_warning("%s", werr->message);
        g_clear_error(&werr);
        if (error == NULL && insp->reference != NULL) {
            g_autofree char *overlay = g_strconcat(stem, ".overlay.jpg", NULL);
            if (!pcb_report_write_overlay(insp, overlay, &werr))
                g_warning("%s", werr->message);
        }
        g_clear_error(&werr);
        /* --html: its review page (written atomically, like the JSON, before the row: a run
           killed in between inspects the photo again and replaces the page) */
        if (run->opts->html) {
            g_autofree char *page = g_strconcat(stem, ".html", NULL);
            const PcbBoard *pb = j->board->ref ? pcb_reference_board(j->board->ref) : NULL;
            if (!pcb_report_write_review(insp, pb, error, page, &werr))
                g_warning("%s", werr->message);
        }
    }
    row->finished_at = now_iso();
}

static gpointer
worker_main(gpointer data)
{
    Run *run = data;
    for (;;) {
        Job *j = g_async_queue_pop(run->work);
        if (j->item == NULL) { /* the end */
            g_free(j);
            return NULL;
        }
        g_mutex_lock(&run->lock);
        run->waiting--;
        g_cond_signal(&run->room);
        g_mutex_unlock(&run->lock);
        if (g_atomic_int_get(&run->stopping))
            j->duplicate = TRUE; /* not written */
        else
            inspect_job(run, j);
        g_async_queue_push(run->results, j);
    }
}

/* ---- progress ---- */

typedef struct {
    gboolean tty;
    gint64 start, last;
    int inspected; /* in this run */
} Progress;

static void
format_eta(char *buf, gsize n, double s)
{
    if (!isfinite(s) || s < 0)
        g_snprintf(buf, n, "--");
    else if (s < 3600)
        g_snprintf(buf, n, "%dm%02ds", (int) s / 60, (int) s % 60);
    else
        g_snprintf(buf, n, "%dh%02dm", (int) s / 3600, ((int) s % 3600) / 60);
}

static void
progress_draw(Progress *p, const BatchSummary *s, gboolean final)
{
    gint64 now = g_get_monotonic_time();
    if (!final && now - p->last < (p->tty ? 200000 : 10000000))
        return;
    p->last = now;
    double el = (now - p->start) / 1e6;
    double rate = el > 0 ? p->inspected / el : 0;
    int finished = s->pass + s->fail + s->error + s->unregistered + s->duplicate;
    double eta = rate > 0 ? (s->total - finished) / rate : NAN;
    char etab[32];
    format_eta(etab, sizeof etab, eta);
    g_autofree char *skipped
        = s->skipped ? g_strdup_printf("  skipped %d (done before)", s->skipped) : g_strdup("");
    g_autofree char *line = g_strdup_printf(
        "%d/%d photos (%.1f%%)  %.2f photos/s  ETA %s  findings %ld in %d photos  errors %d  "
        "unregistered %d%s",
        finished, s->total, s->total ? 100.0 * finished / s->total : 100.0, rate, etab, s->findings,
        s->fail, s->error, s->unregistered, skipped);
    if (p->tty)
        fprintf(stderr, "\r\033[Kpcbdiff: %s%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "pcbdiff: %s\n", line);
    fflush(stderr);
}

static void
count(BatchSummary *s, int code, int n_findings)
{
    switch (code) {
    case PCB_EXIT_PASS:
        s->pass++;
        break;
    case PCB_EXIT_FINDINGS:
        s->fail++;
        s->findings += n_findings;
        break;
    case PCB_EXIT_UNREGISTERED:
        s->unregistered++;
        break;
    default:
        s->error++;
    }
}

int
batch_exit_code(const BatchSummary *s)
{
    if (s->error > 0)
        return PCB_EXIT_TROUBLE;
    if (s->unregistered > 0)
        return PCB_EXIT_UNREGISTERED;
    return s->fail > 0 ? PCB_EXIT_FINDINGS : PCB_EXIT_PASS;
}

/* One finished job, in order: counted, its row appended (a database that cannot be written
 * stops the run: *@ok FALSE, @error set; what is written stays valid). Frees @j. */
static void
take_result(Run *run, BatchDb *db, Job *j, BatchSummary *summary, Progress *prog, gboolean *ok,
            GError **error)
{
    const BatchOptions *opts = run->opts;
    if (j->duplicate) {
        summary->duplicate++;
        if (opts->progress >= 2)
            g_message("%s: the same photo as one before it (same bytes, same board)",
                      j->item->path);
    }
    else if (j->done_code > 0) {
        summary->skipped++;
        count(summary, (j->done_code - 1) & 7, (j->done_code - 1) >> 3);
    }
    else {
        gboolean inserted = FALSE;
        g_autoptr(GError) werr = NULL;
        if (*ok && !batch_db_append(db, j->row, &inserted, &werr)) {
            g_propagate_error(error, g_steal_pointer(&werr));
            *ok = FALSE;
            g_atomic_int_set(&run->stopping, 1);
        }
        prog->inspected++;
        count(summary, j->row->exit_code, j->row->n_findings);
        if (opts->progress >= 2)
            g_message("%s: %s%s%s", j->item->path, j->row->verdict, j->row->reason ? ": " : "",
                      j->row->reason ? j->row->reason : "");
    }
    job_free(j);
}

/* Frees what @run holds once its threads are joined. */
static void
run_clear(Run *run)
{
    if (run->work)
        g_async_queue_unref(run->work);
    if (run->results)
        g_async_queue_unref(run->results);
    if (run->boards != NULL) {
        /* boards named twice (the --board under its folder name) are freed once */
        GHashTableIter it;
        gpointer k, v;
        g_autoptr(GHashTable) uniq = g_hash_table_new(NULL, NULL);
        g_hash_table_iter_init(&it, run->boards);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_add(uniq, v);
        g_hash_table_steal_all(run->boards);
        g_hash_table_unref(run->boards);
        g_hash_table_iter_init(&it, uniq);
        while (g_hash_table_iter_next(&it, &k, &v))
            board_free(k);
    }
    if (run->done)
        g_hash_table_unref(run->done);
    g_mutex_clear(&run->lock);
    g_cond_clear(&run->room);
}

gboolean
batch_run(const BatchOptions *opts, GPtrArray *items, BatchSummary *summary, GError **error)
{
    memset(summary, 0, sizeof *summary);
    summary->total = (int) items->len;
    gint64 t0 = g_get_monotonic_time();
    if (opts->out_dir != NULL && g_mkdir_with_parents(opts->out_dir, 0777) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot make the output folder %s: %s",
                    opts->out_dir, g_strerror(errno));
        return FALSE;
    }
    g_autoptr(BatchDb) db = batch_db_open(opts->db_path, TRUE, error);
    if (db == NULL)
        return FALSE;
    Run run = { .opts = opts, .items = items };
    g_mutex_init(&run.lock);
    g_cond_init(&run.room);
    gboolean ok = FALSE;
    GThread *reader = NULL;
    GPtrArray *workers = g_ptr_array_new();
    Progress prog = { 0 };
    run.done = batch_db_done(db, error);
    if (run.done == NULL || !prepare_boards(&run, error))
        goto out;
    run.work = g_async_queue_new();
    run.results = g_async_queue_new();
    reader = g_thread_new("batch-read", reader_main, &run);
    for (int i = 0; i < opts->jobs; i++)
        g_ptr_array_add(workers, g_thread_new("batch-work", worker_main, &run));
    prog.tty = isatty(STDERR_FILENO);
    prog.start = t0;
    ok = TRUE;
    for (int n = 0; n < summary->total; n++) {
        take_result(&run, db, g_async_queue_pop(run.results), summary, &prog, &ok, error);
        if (ok && opts->progress >= 1)
            progress_draw(&prog, summary, FALSE);
    }
    if (ok && opts->progress >= 1)
        progress_draw(&prog, summary, TRUE);
    g_thread_join(reader);
    for (guint i = 0; i < workers->len; i++)
        g_thread_join(g_ptr_array_index(workers, i));
out:
    g_ptr_array_unref(workers);
    run_clear(&run);
    summary->seconds = (g_get_monotonic_time() - t0) / 1e6;
    return ok;
}
