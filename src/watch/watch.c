/* pcbdiff watch: the bench session. The main loop's thread notices photos (a GFileMonitor on
 * the folder where there is one, and a listing every second in any case: events only wake it
 * up, they decide nothing), tracks each until it is complete (settle.h) and hands them, in
 * arrival order, to one inspection thread; that thread writes each photo's report and review
 * page and passes a summary back to the main loop, which keeps the history for the page. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include "watch/watch_internal.h"

typedef enum {
    ENTRY_WAITING, /* being written, or waiting for its turn to be checked */
    ENTRY_QUEUED,  /* complete, handed to the inspection thread */
    ENTRY_DONE,    /* inspected */
    ENTRY_SKIPPED, /* was there when the session started */
} EntryState;

typedef struct {
    char *name;
    SettleFile *file;
    EntryState state;
    gint64 arrived_at; /* wall clock µs */
    gboolean warned;   /* "changed after it was inspected" said */
} Entry;

typedef struct {
    WatchSession *s;
    int seq; /* < 0: the thread's stop sign */
    char *name, *path;
    GBytes *bytes; /* what was checked complete; NULL: read the file */
    char *note;    /* why it was taken unfinished, or NULL */
    gint64 arrived_at;
    JsonNode *result; /* the summary, made by the inspection thread */
    char *line;       /* the progress line */
} Job;

struct _WatchSession {
    char *folder, *out, *sign_key, *board_name;
    gboolean existing;
    PcbReference *ref;
    PcbInspectParams params;
    SettleRules rules;
    GHashTable *entries; /* name -> Entry */
    GQueue waiting;      /* Entry, arrival order, ENTRY_WAITING */
    GQueue queued;       /* names handed to the thread, not back yet (the first is in work) */
    GPtrArray *results;  /* JsonNode, oldest first */
    int next_seq;
    int counts[4]; /* pass, fail, incomplete, error */
    gint64 rev;    /* bumped on every change the page shows */
    char *started_at, *session_file;
    GAsyncQueue *jobs;
    GThread *worker;
    gint stopping;
    GMainLoop *loop;
    GFileMonitor *monitor;
    int exit_code;
};

static const char *const verdicts[4] = { "pass", "fail", "incomplete", "error" };

static char *
iso_time(gint64 real_us)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(real_us / G_USEC_PER_SEC);
    return g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
}

char *
watch_default_out(const char *folder)
{
    g_autofree char *abs = g_canonicalize_filename(folder, NULL);
    while (strlen(abs) > 1 && g_str_has_suffix(abs, G_DIR_SEPARATOR_S))
        abs[strlen(abs) - 1] = '\0';
    return g_strconcat(abs, ".pcbdiff", NULL);
}

const char *
watch_session_out(WatchSession *s)
{
    return s->out;
}

static void
entry_free(gpointer p)
{
    Entry *e = p;
    settle_file_free(e->file);
    g_free(e->name);
    g_free(e);
}

static void
job_free(Job *job)
{
    g_free(job->name);
    g_free(job->path);
    g_free(job->note);
    g_free(job->line);
    if (job->bytes != NULL)
        g_bytes_unref(job->bytes);
    if (job->result != NULL)
        json_node_unref(job->result);
    g_free(job);
}

/* A photo the camera may drop: a JPEG or PNG name, not hidden. Temporary names (*.part, *.tmp,
 * *.crdownload, *~) end otherwise and are left alone until renamed. */
static gboolean
eligible(const char *name)
{
    if (name[0] == '.')
        return FALSE;
    g_autofree char *low = g_ascii_strdown(name, -1);
    return g_str_has_suffix(low, ".jpg") || g_str_has_suffix(low, ".jpeg")
           || g_str_has_suffix(low, ".png");
}

/* ---- the inspection thread ---- */

static void
add_findings(JsonObject *o, const PcbInspection *insp)
{
    JsonArray *list = json_array_new();
    for (guint i = 0; insp->findings != NULL && i < insp->findings->len; i++) {
        const PcbFinding *f = &g_array_index(insp->findings, PcbFinding, i);
        JsonObject *fo = json_object_new();
        json_object_set_int_member(fo, "index", i);
        json_object_set_string_member(fo, "kind", pcb_kind_name(f->kind));
        json_object_set_double_member(fo, "score", round(f->score * 1e4) / 1e4);
        if (f->area_mm2 >= 0)
            json_object_set_double_member(fo, "area_mm2", round(f->area_mm2 * 1e3) / 1e3);
        if (f->zone != NULL)
            json_object_set_string_member(fo, "zone", f->zone);
        JsonArray *box = json_array_new();
        json_array_add_double_element(box, f->bbox.x);
        json_array_add_double_element(box, f->bbox.y);
        json_array_add_double_element(box, f->bbox.w);
        json_array_add_double_element(box, f->bbox.h);
        json_object_set_array_member(fo, "bbox", box);
        json_array_add_object_element(list, fo);
    }
    json_object_set_array_member(o, "findings", list);
}

/* "2 findings: added 3.1 mm² (BMC), removed 0.8 mm²" */
static void
describe_findings(GString *line, const PcbInspection *insp)
{
    guint n = insp->findings != NULL ? insp->findings->len : 0;
    if (n == 0)
        return;
    g_string_append_printf(line, ", %u finding%s:", n, n == 1 ? "" : "s");
    for (guint i = 0; i < n && i < 3; i++) {
        const PcbFinding *f = &g_array_index(insp->findings, PcbFinding, i);
        g_string_append_printf(line, "%s %s", i ? "," : "", pcb_kind_name(f->kind));
        if (f->area_mm2 >= 0)
            g_string_append_printf(line, " %.1f mm²", f->area_mm2);
        if (f->zone != NULL)
            g_string_append_printf(line, " (%s)", f->zone);
    }
    if (n > 3)
        g_string_append(line, ", ...");
}

/* The result of @job as the page and the session file show it: @error NULL when the inspection
 * succeeded; @report NULL when its outputs were not written (@werr says why). */
static JsonNode *
job_result(const Job *job, const PcbInspection *insp, const GError *error, double ms,
           const char *report, const char *review, const char *review_path, const GError *werr)
{
    const gboolean ok = error == NULL;
    const char *verdict = ok ? pcb_inspection_verdict(insp) : "error";
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "seq", job->seq);
    json_object_set_string_member(o, "photo", job->name);
    g_autofree char *arrived = iso_time(job->arrived_at);
    g_autofree char *done = iso_time(g_get_real_time());
    json_object_set_string_member(o, "arrived_at", arrived);
    json_object_set_string_member(o, "inspected_at", done);
    json_object_set_double_member(o, "seconds", round(ms) / 1e3);
    json_object_set_string_member(o, "verdict", verdict);
    json_object_set_int_member(o, "exit",
                               ok ? (strcmp(verdict, "pass") != 0) : pcb_error_exit_code(error));
    if (insp->photo_sha256 != NULL)
        json_object_set_string_member(o, "sha256", insp->photo_sha256);
    if (insp->reference_width > 0) {
        JsonArray *size = json_array_new();
        json_array_add_int_element(size, insp->reference_width);
        json_array_add_int_element(size, insp->reference_height);
        json_object_set_array_member(o, "reference_size", size);
    }
    if (insp->registered)
        json_object_set_double_member(o, "rms_px", insp->reg.rms_px);
    add_findings(o, insp);
    if (!ok) {
        JsonObject *eo = json_object_new();
        json_object_set_string_member(eo, "code", pcb_error_code_name(error));
        json_object_set_string_member(eo, "message", error->message);
        json_object_set_object_member(o, "error", eo);
    }
    if (job->note != NULL)
        json_object_set_string_member(o, "note", job->note);
    if (report != NULL) {
        json_object_set_string_member(o, "report", report);
        json_object_set_string_member(o, "review", review);
        g_autofree char *ov = g_strconcat(review_path, ".d/overview.jpg", NULL);
        if (g_file_test(ov, G_FILE_TEST_IS_REGULAR)) {
            g_autofree char *rel = g_strconcat(review, ".d/overview.jpg", NULL);
            json_object_set_string_member(o, "overview", rel);
        }
    }
    else
        json_object_set_string_member(o, "output_error", werr->message);
    JsonNode *node = json_node_init_object(json_node_alloc(), o);
    json_object_unref(o);
    return node;
}

/* The progress line of @job (@error and @werr as for job_result). */
static char *
job_line(const Job *job, const PcbInspection *insp, const GError *error, double ms,
         const GError *werr)
{
    const gboolean ok = error == NULL, wrote = werr == NULL;
    const char *verdict = ok ? pcb_inspection_verdict(insp) : "error";
    GString *line = g_string_new(NULL);
    g_string_append_printf(line, "[%04d] %s: %s", job->seq, job->name, verdict);
    if (ok)
        describe_findings(line, insp);
    else if (error->domain == PCB_ERROR && error->code == PCB_ERROR_REGISTER)
        g_string_append_printf(line, " (not registered): %s", error->message);
    else
        g_string_append_printf(line, " (%s): %s", pcb_error_code_name(error), error->message);
    g_string_append_printf(line, " [%.1f s]", ms / 1e3);
    if (!wrote)
        g_string_append_printf(line, "; OUTPUTS NOT WRITTEN: %s", werr->message);
    return g_string_free(line, FALSE);
}

static void
run_job(WatchSession *s, Job *job)
{
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    g_autoptr(GError) error = NULL;
    PcbInspectParams params = s->params;
    params.keep_images = TRUE;
    gint64 t0 = g_get_monotonic_time();
    gboolean ok;
    if (job->bytes != NULL) {
        gsize len = 0;
        const guint8 *data = g_bytes_get_data(job->bytes, &len);
        ok = pcb_inspect_buffer(s->ref, job->path, data, len, &params, insp, &error);
    }
    else
        ok = pcb_inspect_file(s->ref, job->path, &params, insp, &error);
    if (!ok && job->note != NULL) {
        char *msg = g_strdup_printf("%s (%s)", error->message, job->note);
        g_free(error->message);
        error->message = msg;
    }
    if (insp->photo_path == NULL)
        insp->photo_path = g_strdup(job->path);

    g_autofree char *base = g_strdup_printf("%04d-%s", job->seq, job->name);
    g_autofree char *report = g_strconcat(base, ".json", NULL);
    g_autofree char *review = g_strconcat(base, ".html", NULL);
    g_autofree char *report_path = g_build_filename(s->out, report, NULL);
    g_autofree char *review_path = g_build_filename(s->out, review, NULL);
    const GError *failure = ok ? NULL : error;
    g_autoptr(GError) werr = NULL;
    gboolean wrote
        = pcb_report_write_review(insp, pcb_reference_board(s->ref), failure, review_path, &werr)
          && (s->sign_key != NULL
                  ? pcb_report_write_json_signed(insp, failure, report_path, s->sign_key, &werr)
                  : pcb_report_write_json(insp, failure, report_path, &werr));
    double ms = (g_get_monotonic_time() - t0) / 1e3;

    /* what the page and the session file show of it, and its progress line */
    job->result
        = job_result(job, insp, failure, ms, wrote ? report : NULL, review, review_path, werr);
    job->line = job_line(job, insp, failure, ms, werr);
}

static gboolean job_done(gpointer data);

static gpointer
worker_main(gpointer data)
{
    WatchSession *s = data;
    for (;;) {
        Job *job = g_async_queue_pop(s->jobs);
        if (job->seq < 0) {
            job_free(job);
            return NULL;
        }
        if (!g_atomic_int_get(&s->stopping))
            run_job(s, job);
        g_main_context_invoke(NULL, job_done, job);
    }
}

/* ---- the main loop's side ---- */

static void
write_session_file(WatchSession *s)
{
    g_autoptr(JsonNode) root = watch_session_json(s);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_file_set_contents(s->session_file, text, -1, &error))
        g_warning("cannot write %s: %s", s->session_file, error->message);
}

static void tick(WatchSession *s);

static gboolean
job_done(gpointer data)
{
    Job *job = data;
    WatchSession *s = job->s;
    g_free(g_queue_pop_head(&s->queued));
    Entry *e = g_hash_table_lookup(s->entries, job->name);
    if (e != NULL && e->state == ENTRY_QUEUED)
        e->state = ENTRY_DONE;
    s->rev++;
    if (job->result == NULL) { /* stopping: not inspected */
        g_message("%s: not inspected (stopping)", job->name);
        job_free(job);
        return G_SOURCE_REMOVE;
    }
    JsonObject *o = json_node_get_object(job->result);
    const char *verdict = json_object_get_string_member(o, "verdict");
    for (int i = 0; i < 4; i++)
        if (strcmp(verdict, verdicts[i]) == 0)
            s->counts[i]++;
    g_ptr_array_add(s->results, json_node_ref(job->result));
    g_message("%s", job->line);
    /* one JSON line per photo on stdout, for scripts */
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, job->result);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
    (void) fflush(stdout);
    write_session_file(s);
    job_free(job);
    tick(s); /* room for the next photo */
    return G_SOURCE_REMOVE;
}

static Entry *
arrive(WatchSession *s, const char *name, gint64 now)
{
    Entry *e = g_new0(Entry, 1);
    e->name = g_strdup(name);
    g_autofree char *path = g_build_filename(s->folder, name, NULL);
    e->file = settle_file_new(path, now);
    e->arrived_at = g_get_real_time();
    e->state = ENTRY_WAITING;
    g_hash_table_replace(s->entries, e->name, e);
    g_queue_push_tail(&s->waiting, e);
    s->rev++;
    g_info("%s arrived", name);
    return e;
}

static gboolean
same_file(const SettleFile *f, const struct stat *st)
{
    gint64 mtime_ns
        = (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_mtim.tv_nsec;
    return f->seen && f->inode == (guint64) st->st_ino && f->size == (guint64) st->st_size
           && f->mtime_ns == mtime_ns;
}

/* Something may have happened to @name in the folder (an event, or the listing has it). */
static void
look_at(WatchSession *s, const char *name, gboolean changed, gint64 now)
{
    if (!eligible(name))
        return;
    g_autofree char *path = g_build_filename(s->folder, name, NULL);
    Entry *e = g_hash_table_lookup(s->entries, name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* gone: a new file under this name later is a new photo (a waiting one is dropped by
         * the tick, which holds it in its queue) */
        if (e != NULL && e->state != ENTRY_WAITING)
            g_hash_table_remove(s->entries, name);
        return;
    }
    if (e == NULL) {
        arrive(s, name, now);
        return;
    }
    switch (e->state) {
    case ENTRY_WAITING:
        if (changed)
            settle_file_touched(e->file, now);
        break;
    case ENTRY_SKIPPED: /* it was being written when the session started */
        if (!same_file(e->file, &st))
            arrive(s, name, now);
        break;
    case ENTRY_QUEUED:
    case ENTRY_DONE:
        if (e->file->inode != (guint64) st.st_ino)
            arrive(s, name, now); /* replaced: a new photo under the same name */
        else if (!same_file(e->file, &st) && !e->warned) {
            e->warned = TRUE;
            g_warning("%s changed after it was inspected: not inspected again (copy it in under "
                      "a new name)",
                      name);
        }
        break;
    }
}

static void
dispatch(WatchSession *s, Entry *e, GBytes *bytes, gboolean stale)
{
    Job *job = g_new0(Job, 1);
    job->s = s;
    job->seq = s->next_seq++;
    job->name = g_strdup(e->name);
    job->path = g_strdup(e->file->path);
    job->bytes = bytes;
    job->arrived_at = e->arrived_at;
    if (stale)
        job->note
            = g_strdup_printf("the file was still %s after %g s unchanged and was taken as it was",
                              e->file->checked ? "unfinished" : "unreadable",
                              (double) s->rules.give_up_us / G_USEC_PER_SEC);
    e->state = ENTRY_QUEUED;
    g_queue_push_tail(&s->queued, g_strdup(e->name));
    s->rev++;
    g_async_queue_push(s->jobs, job);
}

/* Photos handed to the inspection thread and not back yet: one in work, one ready. More would
 * only hold their bytes in memory (a folder of 500 photos with --existing). */
#define MAX_QUEUED 2

/* Hands the complete photos at the head of the queue to the inspection thread, in arrival
 * order: one still being written holds back those behind it. */
static void
tick(WatchSession *s)
{
    if (g_atomic_int_get(&s->stopping))
        return;
    gint64 now = g_get_monotonic_time();
    gboolean head = s->queued.length < MAX_QUEUED;
    for (GList *l = s->waiting.head; l != NULL;) {
        GList *next = l->next;
        Entry *e = l->data;
        SettleState state = SETTLE_WAITING;
        GBytes *bytes = NULL;
        if (head)
            state = settle_file_poll(e->file, &s->rules, now, &bytes);
        else if (!settle_file_observe(e->file, now))
            state = SETTLE_GONE;
        if (state == SETTLE_GONE) {
            g_info("%s went away before it was complete", e->name);
            g_queue_delete_link(&s->waiting, l);
            g_hash_table_remove(s->entries, e->name);
            s->rev++;
        }
        else if (state == SETTLE_READY || state == SETTLE_STALE) {
            g_queue_delete_link(&s->waiting, l);
            dispatch(s, e, bytes, state == SETTLE_STALE);
            head = s->queued.length < MAX_QUEUED;
        }
        else
            head = FALSE;
        l = next;
    }
}

static gboolean
on_tick(gpointer data)
{
    tick(data);
    return G_SOURCE_CONTINUE;
}

typedef struct {
    char *name;
    gint64 mtime_ns;
} Listed;

static int
by_time(gconstpointer a, gconstpointer b)
{
    const Listed *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void
listed_clear(gpointer p)
{
    g_free(((Listed *) p)->name);
}

/* The folder's photos, oldest first (ties by name). */
static GArray *
list_folder(WatchSession *s, GError **error)
{
    g_autoptr(GDir) dir = g_dir_open(s->folder, 0, error);
    if (dir == NULL)
        return NULL;
    GArray *list = g_array_new(FALSE, FALSE, sizeof(Listed));
    g_array_set_clear_func(list, listed_clear);
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
        if (!eligible(name))
            continue;
        g_autofree char *path = g_build_filename(s->folder, name, NULL);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        Listed l = { g_strdup(name), (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000)
                                         + st.st_mtim.tv_nsec };
        g_array_append_val(list, l);
    }
    g_array_sort(list, by_time);
    return list;
}

/* The listing: catches what events missed (a file system without them, an overflowed event
 * queue), and forgets photos that were removed. */
static gboolean
on_rescan(gpointer data)
{
    WatchSession *s = data;
    if (g_atomic_int_get(&s->stopping))
        return G_SOURCE_CONTINUE;
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) list = list_folder(s, &error);
    if (list == NULL) {
        if (!g_file_test(s->folder, G_FILE_TEST_IS_DIR))
            g_printerr("pcbdiff: watch: the folder %s went away\n", s->folder);
        else
            g_printerr("pcbdiff: watch: cannot list the folder %s any more: %s\n", s->folder,
                       error->message);
        s->exit_code = PCB_EXIT_TROUBLE;
        g_atomic_int_set(&s->stopping, 1);
        g_main_loop_quit(s->loop);
        return G_SOURCE_CONTINUE; /* removed with the others when the loop has stopped */
    }
    gint64 now = g_get_monotonic_time();
    g_autoptr(GHashTable) present = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < list->len; i++) {
        const char *name = g_array_index(list, Listed, i).name;
        g_hash_table_add(present, (gpointer) name);
        look_at(s, name, FALSE, now);
    }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->entries);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        Entry *e = value;
        if (e->state != ENTRY_WAITING && !g_hash_table_contains(present, key))
            g_hash_table_iter_remove(&it);
    }
    tick(s);
    return G_SOURCE_CONTINUE;
}

static void
on_event(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer data)
{
    (void) monitor;
    WatchSession *s = data;
    if (g_atomic_int_get(&s->stopping))
        return;
    gint64 now = g_get_monotonic_time();
    g_autofree char *name = g_file_get_basename(file);
    gboolean changed
        = event == G_FILE_MONITOR_EVENT_CHANGED || event == G_FILE_MONITOR_EVENT_CREATED;
    look_at(s, name, changed, now);
    if (event == G_FILE_MONITOR_EVENT_RENAMED && other != NULL) {
        g_autofree char *to = g_file_get_basename(other);
        look_at(s, to, TRUE, now);
    }
    tick(s);
}

static gboolean
on_signal(gpointer data)
{
    WatchSession *s = data;
    if (!g_atomic_int_get(&s->stopping)) {
        g_atomic_int_set(&s->stopping, 1);
        g_main_loop_quit(s->loop);
    }
    return G_SOURCE_CONTINUE;
}

JsonNode *
watch_session_json(WatchSession *s)
{
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "version", 1);
    json_object_set_string_member(o, "board", s->board_name);
    json_object_set_string_member(o, "folder", s->folder);
    json_object_set_string_member(o, "out", s->out);
    json_object_set_string_member(o, "started_at", s->started_at);
    json_object_set_int_member(o, "rev", s->rev);
    json_object_set_boolean_member(o, "running", !g_atomic_int_get(&s->stopping));
    JsonObject *settle = json_object_new();
    json_object_set_double_member(settle, "quiet_s", (double) s->rules.quiet_us / G_USEC_PER_SEC);
    json_object_set_double_member(settle, "give_up_s",
                                  (double) s->rules.give_up_us / G_USEC_PER_SEC);
    json_object_set_object_member(o, "settle", settle);
    JsonObject *counts = json_object_new();
    for (int i = 0; i < 4; i++)
        json_object_set_int_member(counts, verdicts[i], s->counts[i]);
    json_object_set_object_member(o, "counts", counts);
    JsonArray *waiting = json_array_new();
    int k = 0;
    for (GList *l = s->queued.head; l != NULL; l = l->next, k++) {
        JsonObject *w = json_object_new();
        json_object_set_string_member(w, "photo", l->data);
        json_object_set_string_member(w, "state", k == 0 ? "inspecting" : "queued");
        json_array_add_object_element(waiting, w);
    }
    gint64 now = g_get_monotonic_time();
    for (GList *l = s->waiting.head; l != NULL; l = l->next) {
        const Entry *e = l->data;
        JsonObject *w = json_object_new();
        json_object_set_string_member(w, "photo", e->name);
        gint64 unchanged = now - e->file->changed_at;
        gboolean writing = unchanged < s->rules.quiet_us
                           || (e->file->checked && e->file->shape == SETTLE_SHAPE_PARTIAL);
        json_object_set_string_member(w, "state", writing ? "writing" : "queued");
        json_object_set_double_member(w, "unchanged_s", round(unchanged / 1e5) / 10);
        json_object_set_int_member(w, "bytes", (gint64) e->file->size);
        if (e->file->checked)
            json_object_set_string_member(w, "looks", settle_shape_name(e->file->shape));
        json_array_add_object_element(waiting, w);
    }
    json_object_set_array_member(o, "waiting", waiting);
    JsonArray *results = json_array_new();
    for (guint i = 0; i < s->results->len; i++)
        json_array_add_element(results, json_node_copy(g_ptr_array_index(s->results, i)));
    json_object_set_array_member(o, "results", results);
    JsonNode *root = json_node_init_object(json_node_alloc(), o);
    json_object_unref(o);
    return root;
}

/* The first free number in @out: after the highest NNNN- prefix there (a new session does not
 * overwrite an earlier one's reports). */
static int
first_free_seq(const char *out)
{
    g_autoptr(GDir) dir = g_dir_open(out, 0, NULL);
    int max = 0;
    const char *name;
    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        char *end = NULL;
        long n = strtol(name, &end, 10);
        if (end != name && *end == '-' && n > max && n < G_MAXINT / 2)
            max = (int) n;
    }
    return max + 1;
}

static gboolean
make_out(const char *out, GError **error)
{
    if (g_mkdir(out, 0755) != 0 && errno != EEXIST) {
        int e = errno;
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot create the output folder %s: %s", out,
                    g_strerror(e));
        return FALSE;
    }
    if (!g_file_test(out, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "output folder %s: not a directory", out);
        return FALSE;
    }
    if (access(out, W_OK | X_OK) != 0) {
        int e = errno;
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot write in the output folder %s: %s", out,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

static void
session_free(WatchSession *s)
{
    g_clear_object(&s->monitor);
    g_hash_table_destroy(s->entries);
    g_queue_clear(&s->waiting); /* the entries belong to the table */
    g_queue_clear_full(&s->queued, g_free);
    g_ptr_array_unref(s->results);
    if (s->jobs != NULL)
        g_async_queue_unref(s->jobs);
    if (s->loop != NULL)
        g_main_loop_unref(s->loop);
    pcb_reference_free(s->ref);
    g_free(s->folder);
    g_free(s->out);
    g_free(s->sign_key);
    g_free(s->board_name);
    g_free(s->started_at);
    g_free(s->session_file);
    g_free(s);
}

/* The photos there at the start: left alone (or, with --existing, inspected oldest first). */
static gboolean
first_listing(WatchSession *s, GError **error)
{
    g_autoptr(GArray) list = list_folder(s, error);
    if (list == NULL)
        return FALSE;
    gint64 now = g_get_monotonic_time();
    for (guint i = 0; i < list->len; i++) {
        Entry *e = arrive(s, g_array_index(list, Listed, i).name, now);
        if (!s->existing) {
            g_queue_remove(&s->waiting, e);
            e->state = ENTRY_SKIPPED;
        }
    }
    if (list->len > 0 && !s->existing)
        g_message("%u photo%s already in %s left alone (--existing inspects them)", list->len,
                  list->len == 1 ? "" : "s", s->folder);
    return TRUE;
}

int
watch_run(PcbReference *ref, const PcbInspectParams *params, const WatchOptions *opts)
{
    WatchSession *s = g_new0(WatchSession, 1);
    s->ref = ref;
    s->params = *params;
    s->folder = g_canonicalize_filename(opts->folder, NULL);
    s->out = opts->out != NULL ? g_canonicalize_filename(opts->out, NULL)
                               : watch_default_out(opts->folder);
    s->sign_key = g_strdup(opts->sign_key);
    s->existing = opts->existing;
    const PcbBoard *board = pcb_reference_board(ref);
    s->board_name = g_strdup(board->name != NULL ? board->name : "");
    s->rules.quiet_us = (gint64) (opts->quiet_s * G_USEC_PER_SEC);
    s->rules.give_up_us = (gint64) (opts->give_up_s * G_USEC_PER_SEC);
    s->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
    s->results = g_ptr_array_new_with_free_func((GDestroyNotify) json_node_unref);
    gint64 start = g_get_real_time();
    s->started_at = iso_time(start);
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(start / G_USEC_PER_SEC);
    g_autofree char *stamp = g_date_time_format(t, "%Y%m%dT%H%M%SZ");
    g_autofree char *sname = g_strdup_printf("session-%s.json", stamp);
    s->session_file = g_build_filename(s->out, sname, NULL);

    g_autoptr(GError) error = NULL;
    g_autofree char *url = NULL;
    g_autoptr(SoupServer) server = NULL;
    if (!make_out(s->out, &error)
        || (server = watch_server_new(s, opts->listen, &url, &error)) == NULL
        || !first_listing(s, &error)) {
        g_printerr("pcbdiff: watch: %s\n", error->message);
        session_free(s);
        return PCB_EXIT_TROUBLE;
    }
    s->next_seq = first_free_seq(s->out);

    g_autoptr(GFile) dir = g_file_new_for_path(s->folder);
    g_autoptr(GError) merr = NULL;
    s->monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &merr);
    if (s->monitor != NULL)
        g_signal_connect(s->monitor, "changed", G_CALLBACK(on_event), s);
    else
        g_info("no change events for %s (%s): listing it every second", s->folder, merr->message);

    s->jobs = g_async_queue_new();
    s->worker = g_thread_new("inspect", worker_main, s);
    s->loop = g_main_loop_new(NULL, FALSE);
    guint tick_ms = (guint) CLAMP(opts->quiet_s * 1000 / 4, 20, 250);
    guint sources[4]
        = { g_timeout_add(tick_ms, on_tick, s), g_timeout_add(1000, on_rescan, s),
            g_unix_signal_add(SIGINT, on_signal, s), g_unix_signal_add(SIGTERM, on_signal, s) };
    g_message("watching %s for photos (JPEG, PNG) against board %s; page %s; reports in %s",
              s->folder, s->board_name, url, s->out);
    write_session_file(s);

    g_main_loop_run(s->loop);

    for (int i = 0; i < 4; i++)
        g_source_remove(sources[i]);
    if (s->queued.length > 0)
        g_message("stopping: finishing the inspection of %s", (char *) s->queued.head->data);
    Job *stop = g_new0(Job, 1);
    stop->seq = -1;
    g_async_queue_push(s->jobs, stop);
    g_thread_join(s->worker);
    while (g_main_context_iteration(NULL, FALSE)) /* the results the thread passed back */
        ;
    if (s->waiting.length > 0)
        g_message("%u photo%s still being written not inspected", s->waiting.length,
                  s->waiting.length == 1 ? "" : "s");
    write_session_file(s);
    soup_server_disconnect(server);
    int code = s->exit_code;
    if (code == 0)
        g_message(
            "stopped: %d inspected (%d pass, %d fail, %d incomplete, %d error); session in %s",
            s->counts[0] + s->counts[1] + s->counts[2] + s->counts[3], s->counts[0], s->counts[1],
            s->counts[2], s->counts[3], s->session_file);
    session_free(s);
    return code;
}
