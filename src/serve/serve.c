/* pcbdiff serve: the inspection service (see serve.h).
 *
 * Threads. The main thread runs the GLib main loop: libsoup's server, the hot-folder scan, the
 * signal handlers and every touch of a SoupServerMessage. An inspection request is checked
 * there (request.c), then its message is paused and the job pushed to a GThreadPool of
 * --workers threads; the queue is bounded by counting jobs (waiting + running) against
 * --workers + --queue, so a full queue is a 503 at once, never an unbounded backlog. A worker
 * runs the inspection against the board's prepared reference (shared, read-only), writes the
 * CFX message to the spool (amqp.c) and hands the answer back to the main thread with
 * g_main_context_invoke(), which sets the response and unpauses the message. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "serve/amqp.h"
#include "serve/cfx.h"
#include "serve/request.h"
#include "serve/serve.h"
#include "watch/settle.h"

#define N_BUCKETS 11
static const double latency_buckets[N_BUCKETS]
    = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120 };
static const char *const verdict_names[] = { "pass", "fail", "incomplete", "error" };
#define N_VERDICTS G_N_ELEMENTS(verdict_names)

typedef struct {
    GMutex lock;
    GHashTable *requests; /* "endpoint\tcode" -> count (guint64 in a pointer-sized slot) */
    guint64 buckets[N_BUCKETS + 1];
    double latency_sum;
    guint64 latency_count;
    guint64 verdicts[N_VERDICTS];
} Metrics;

/* A photo of the hot folder: whether it is complete is settle.h's (shared with pcbdiff watch). */
typedef struct {
    SettleFile *file;
    gboolean busy, seen;
} WatchFile;

#define HOT_QUIET_US   G_USEC_PER_SEC        /* a photo is checked once unchanged this long */
#define HOT_GIVE_UP_US (30 * G_USEC_PER_SEC) /* ... and taken as it is after this long */

static void
watch_file_free(gpointer data)
{
    WatchFile *wf = data;
    settle_file_free(wf->file);
    g_free(wf);
}

typedef struct {
    const ServeConfig *cfg;
    GHashTable *boards; /* name -> ServeBoard* (the config's) */
    SoupServer *server;
    GMainLoop *loop;
    GThreadPool *pool;
    ServeAmqp *amqp;
    ServeLimits limits;
    char *host;
    gint jobs;    /* waiting + running (atomic) */
    guint active; /* main thread: accepted work not yet answered */
    gboolean draining;
    guint watch_source;
    GHashTable *watch_files;  /* path -> WatchFile* */
    GHashTable *watch_warned; /* folder names already warned about */
    int watch_fd;             /* inotify, or -1 */
    GHashTable *watch_wds;    /* inotify watch -> its board folder */
    Metrics m;
} Serve;

typedef struct {
    Serve *s;
    SoupServerMessage *msg; /* NULL for a hot-folder file */
    ServeBoard *board;
    char *unit;
    GBytes *body;
    char *watch_path;
    gint64 t0;
    guint status;
    char *json;
    const char *verdict;
} Job;

/* ---- metrics ---- */

static void
count_request(Serve *s, const char *endpoint, guint status)
{
    g_autofree char *key = g_strdup_printf("%s\t%u", endpoint, status);
    g_mutex_lock(&s->m.lock);
    guint64 *n = g_hash_table_lookup(s->m.requests, key);
    if (n == NULL) {
        n = g_new0(guint64, 1);
        g_hash_table_insert(s->m.requests, g_steal_pointer(&key), n);
    }
    (*n)++;
    g_mutex_unlock(&s->m.lock);
}

static void
count_inspection(Serve *s, double seconds, const char *verdict)
{
    g_mutex_lock(&s->m.lock);
    int b = 0;
    while (b < N_BUCKETS && seconds > latency_buckets[b])
        b++;
    s->m.buckets[b]++;
    s->m.latency_sum += seconds;
    s->m.latency_count++;
    for (guint i = 0; i < N_VERDICTS; i++)
        if (strcmp(verdict, verdict_names[i]) == 0)
            s->m.verdicts[i]++;
    g_mutex_unlock(&s->m.lock);
}

static char *
metrics_text(Serve *s)
{
    GString *t = g_string_new(NULL);
    g_mutex_lock(&s->m.lock);
    g_string_append(t, "# HELP pcbdiff_requests_total HTTP requests by endpoint and status.\n"
                       "# TYPE pcbdiff_requests_total counter\n");
    g_autoptr(GList) keys
        = g_list_sort(g_hash_table_get_keys(s->m.requests), (GCompareFunc) strcmp);
    for (GList *l = keys; l != NULL; l = l->next) {
        const char *key = l->data;
        const char *tab = strchr(key, '\t');
        g_string_append_printf(
            t, "pcbdiff_requests_total{endpoint=\"%.*s\",code=\"%s\"} %" G_GUINT64_FORMAT "\n",
            (int) (tab - key), key, tab + 1, *(guint64 *) g_hash_table_lookup(s->m.requests, key));
    }
    g_string_append(t, "# HELP pcbdiff_inspection_seconds Time from accepting a photo to its "
                       "report (queue wait included).\n"
                       "# TYPE pcbdiff_inspection_seconds histogram\n");
    guint64 cum = 0;
    for (int b = 0; b <= N_BUCKETS; b++) {
        cum += s->m.buckets[b];
        if (b < N_BUCKETS)
            g_string_append_printf(
                t, "pcbdiff_inspection_seconds_bucket{le=\"%g\"} %" G_GUINT64_FORMAT "\n",
                latency_buckets[b], cum);
        else
            g_string_append_printf(
                t, "pcbdiff_inspection_seconds_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n", cum);
    }
    g_string_append_printf(t, "pcbdiff_inspection_seconds_sum %.6f\n", s->m.latency_sum);
    g_string_append_printf(t, "pcbdiff_inspection_seconds_count %" G_GUINT64_FORMAT "\n",
                           s->m.latency_count);
    g_string_append(t, "# HELP pcbdiff_verdicts_total Inspections by verdict.\n"
                       "# TYPE pcbdiff_verdicts_total counter\n");
    for (guint i = 0; i < N_VERDICTS; i++)
        g_string_append_printf(t, "pcbdiff_verdicts_total{verdict=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               verdict_names[i], s->m.verdicts[i]);
    g_mutex_unlock(&s->m.lock);
    int jobs = g_atomic_int_get(&s->jobs);
    int running = MIN(jobs, s->cfg->workers);
    g_string_append_printf(t,
                           "# HELP pcbdiff_queue_depth Inspections waiting for a worker.\n"
                           "# TYPE pcbdiff_queue_depth gauge\npcbdiff_queue_depth %d\n"
                           "# HELP pcbdiff_queue_capacity Inspections that may wait.\n"
                           "# TYPE pcbdiff_queue_capacity gauge\npcbdiff_queue_capacity %d\n"
                           "# HELP pcbdiff_inspections_running Inspections running now.\n"
                           "# TYPE pcbdiff_inspections_running gauge\n"
                           "pcbdiff_inspections_running %d\n"
                           "# HELP pcbdiff_workers Worker threads.\n"
                           "# TYPE pcbdiff_workers gauge\npcbdiff_workers %d\n",
                           jobs - running, s->cfg->queue, running, s->cfg->workers);
    if (s->amqp != NULL) {
        guint spooled;
        guint64 delivered;
        gboolean connected;
        serve_amqp_stats(s->amqp, &spooled, &delivered, &connected);
        g_string_append_printf(t,
                               "# HELP pcbdiff_cfx_spooled CFX messages on disk, not yet taken by "
                               "the broker.\n# TYPE pcbdiff_cfx_spooled gauge\n"
                               "pcbdiff_cfx_spooled %u\n"
                               "# HELP pcbdiff_cfx_delivered_total CFX messages the broker "
                               "accepted.\n# TYPE pcbdiff_cfx_delivered_total counter\n"
                               "pcbdiff_cfx_delivered_total %" G_GUINT64_FORMAT "\n"
                               "# HELP pcbdiff_cfx_connected Whether the AMQP connection is up.\n"
                               "# TYPE pcbdiff_cfx_connected gauge\npcbdiff_cfx_connected %d\n",
                               spooled, delivered, connected ? 1 : 0);
    }
    return g_string_free(t, FALSE);
}

/* ---- answers ---- */

static const char *
endpoint_name(ServeRoute route)
{
    switch (route) {
    case SERVE_ROUTE_INSPECT:
        return "/v1/inspect";
    case SERVE_ROUTE_BOARDS:
        return "/v1/boards";
    case SERVE_ROUTE_HEALTHZ:
        return "/healthz";
    case SERVE_ROUTE_METRICS:
        return "/metrics";
    case SERVE_ROUTE_NONE:
        break;
    }
    return "other";
}

/* The route @path names (for the metrics of a request that was refused) */
static ServeRoute
route_of(const char *path)
{
    static const ServeRoute routes[]
        = { SERVE_ROUTE_INSPECT, SERVE_ROUTE_BOARDS, SERVE_ROUTE_HEALTHZ, SERVE_ROUTE_METRICS };
    for (guint i = 0; i < G_N_ELEMENTS(routes); i++)
        if (strcmp(path, endpoint_name(routes[i])) == 0)
            return routes[i];
    return SERVE_ROUTE_NONE;
}

static char *
error_json(guint status, const char *message)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_int_value(b, status);
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, message);
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static void
respond(SoupServerMessage *msg, guint status, const char *type, char *body /* taken */)
{
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, body, strlen(body));
}

/* Retry-After for a 503: the time the work ahead should take, from the measured mean */
static int
retry_after(Serve *s)
{
    g_mutex_lock(&s->m.lock);
    double mean = s->m.latency_count ? s->m.latency_sum / (double) s->m.latency_count : 1.0;
    g_mutex_unlock(&s->m.lock);
    double ahead = (double) g_atomic_int_get(&s->jobs) / MAX(1, s->cfg->workers);
    return (int) CLAMP(ceil(ahead * mean), 1, 300);
}

static void
respond_error(Serve *s, SoupServerMessage *msg, ServeRoute route, guint status, const char *message)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    if (status == 503) {
        g_autofree char *after = g_strdup_printf("%d", s->draining ? 5 : retry_after(s));
        soup_message_headers_replace(h, "Retry-After", after);
    }
    if (status == 401)
        soup_message_headers_replace(h, "WWW-Authenticate", "Bearer realm=\"pcbdiff\"");
    if (status == 405)
        soup_message_headers_replace(h, "Allow",
                                     route == SERVE_ROUTE_INSPECT ? "POST" : "GET, HEAD");
    if (status == 413 || status == 411 || s->draining)
        soup_message_headers_replace(h, "Connection", "close");
    respond(msg, status, "application/json", error_json(status, message));
    count_request(s, endpoint_name(route), status);
}

static void
maybe_quit(Serve *s)
{
    if (s->draining && s->active == 0 && g_atomic_int_get(&s->jobs) == 0)
        g_main_loop_quit(s->loop);
}

/* ---- inspection jobs ---- */

static void
job_free(Job *j)
{
    g_clear_object(&j->msg);
    g_free(j->unit);
    g_bytes_unref(j->body);
    g_free(j->watch_path);
    g_free(j->json);
    g_free(j);
}

static guint
status_of(const GError *error)
{
    if (error == NULL)
        return 200;
    if (error->domain == PCB_ERROR)
        switch ((PcbError) error->code) {
        case PCB_ERROR_DECODE:
            return 400;
        case PCB_ERROR_LIMIT:
            return 413;
        case PCB_ERROR_REGISTER:
            return 422;
        default:
            break;
        }
    return 500;
}

static gboolean job_done(gpointer data);

static void
job_run(gpointer data, gpointer user_data)
{
    Job *j = data;
    Serve *s = user_data;
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    g_autoptr(GError) error = NULL;
    gsize len = 0;
    const guint8 *bytes = g_bytes_get_data(j->body, &len);
    g_autofree char *base = j->watch_path ? g_path_get_basename(j->watch_path) : NULL;
    const char *name = base ? base : j->unit ? j->unit : "upload";
    gboolean ok
        = pcb_inspect_buffer(j->board->ref, name, bytes, len, &j->board->params, insp, &error);
    j->status = status_of(ok ? NULL : error);
    j->verdict = ok ? pcb_inspection_verdict(insp) : "error";
    j->json = pcb_report_to_json(insp, ok ? NULL : error);
    if (!ok)
        g_info("%s %s: %s", j->board->name, name, error->message);

    if (s->cfg->sign_key != NULL && (j->status == 200 || j->status == 422)) {
        g_autoptr(GError) serr = NULL;
        char *signed_json = pcb_report_sign(j->json, s->cfg->sign_key, &serr);
        g_free(j->json);
        if (signed_json != NULL)
            j->json = signed_json;
        else {
            g_warning("signing: %s", serr->message);
            j->json = error_json(500, serr->message);
            j->status = 500; /* and no CFX message: the line hears of what the caller gets */
            j->verdict = "error";
        }
    }
    /* a result the line should hear of: every finished inspection, and a photo that could not
     * be registered (a unit that was there but not judged) */
    if (s->amqp != NULL && (j->status == 200 || j->status == 422)) {
        g_autofree char *unique_id = g_uuid_string_random();
        g_autofree char *transaction = g_uuid_string_random();
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        ServeCfxInfo info = { .source = s->cfg->cfx_handle,
                              .unique_id = unique_id,
                              .transaction_id = transaction,
                              .board = j->board->name,
                              .unit = j->unit,
                              .time = now };
        g_autofree char *envelope = serve_cfx_envelope(insp, ok ? NULL : error, &info);
        g_autoptr(GError) perr = NULL;
        if (!serve_amqp_publish(s->amqp, unique_id, envelope, &perr)) {
            g_warning("%s %s: result not kept for the line: %s", j->board->name, name,
                      perr->message);
            g_free(j->json);
            j->json = error_json(503, perr->message);
            j->status = 503;
            j->verdict = "error";
        }
    }
    g_main_context_invoke(NULL, job_done, j);
}

static void watch_finish(Serve *s, Job *j);

/* Main thread: the answer of a finished job. */
static gboolean
job_done(gpointer data)
{
    Job *j = data;
    Serve *s = j->s;
    double seconds = (g_get_monotonic_time() - j->t0) / 1e6;
    if (j->status != 503)
        count_inspection(s, seconds, j->verdict);
    if (j->msg != NULL) {
        SoupMessageHeaders *h = soup_server_message_get_response_headers(j->msg);
        soup_message_headers_replace(h, "X-Pcbdiff-Verdict", j->verdict);
        if (j->status == 503)
            soup_message_headers_replace(h, "Retry-After", "30");
        respond(j->msg, j->status, "application/json", g_steal_pointer(&j->json));
        count_request(s, "/v1/inspect", j->status);
        soup_server_message_unpause(j->msg);
    }
    else
        watch_finish(s, j);
    g_atomic_int_add(&s->jobs, -1);
    job_free(j);
    maybe_quit(s);
    return G_SOURCE_REMOVE;
}

static void
on_finished(SoupServerMessage *msg, gpointer data)
{
    Serve *s = data;
    g_signal_handlers_disconnect_by_func(msg, on_finished, data);
    s->active--;
    maybe_quit(s);
}

/* Reserves a place in the queue; FALSE when it is full. */
static gboolean
reserve(Serve *s)
{
    if (g_atomic_int_add(&s->jobs, 1) >= s->cfg->workers + s->cfg->queue) {
        g_atomic_int_add(&s->jobs, -1);
        return FALSE;
    }
    return TRUE;
}

static void
push(Serve *s, Job *j)
{
    j->s = s;
    j->t0 = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    if (!g_thread_pool_push(s->pool, j, &error)) /* only fails when threads cannot start */
        g_error("cannot start a worker thread: %s", error->message);
}

/* ---- HTTP ---- */

static void
boards_json(Serve *s, SoupServerMessage *msg)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "boards");
    json_builder_begin_array(b);
    for (guint i = 0; i < s->cfg->boards->len; i++) {
        const ServeBoard *sb = g_ptr_array_index(s->cfg->boards, i);
        const PcbBoard *board = pcb_reference_board(sb->ref);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, sb->name);
        json_builder_set_member_name(b, "board_name");
        json_builder_add_string_value(b, board->name ? board->name : sb->name);
        json_builder_set_member_name(b, "px_per_mm");
        json_builder_add_double_value(b, board->px_per_mm);
        json_builder_set_member_name(b, "zones");
        json_builder_begin_array(b);
        for (guint z = 0; board->zones != NULL && z < board->zones->len; z++)
            json_builder_add_string_value(b, g_array_index(board->zones, PcbZone, z).name);
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    respond(msg, 200, "application/json", json_generator_to_data(gen, NULL));
}

static gint64
request_length(SoupMessageHeaders *h)
{
    switch (soup_message_headers_get_encoding(h)) {
    case SOUP_ENCODING_CONTENT_LENGTH:
        return soup_message_headers_get_content_length(h);
    case SOUP_ENCODING_NONE:
        return 0;
    default:
        return -1;
    }
}

/* Before the body is read: a photo over the cap, or of unknown length, is refused without
 * reading it. */
static void
early_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer data)
{
    (void) server;
    (void) path;
    (void) query;
    Serve *s = data;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    gint64 len = request_length(h);
    if (len > s->limits.max_body || len < 0) {
        ServeRequest req;
        g_autofree char *why = NULL;
        guint status = serve_request_parse(
            soup_server_message_get_method(msg), g_uri_get_path(soup_server_message_get_uri(msg)),
            g_uri_get_query(soup_server_message_get_uri(msg)),
            soup_message_headers_get_one(h, "Authorization"), len, &s->limits, &req, &why);
        if (status != 0)
            respond_error(s, msg, SERVE_ROUTE_INSPECT, status, why);
    }
}

static void
handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
    (void) server;
    (void) query;
    Serve *s = data;
    if (soup_server_message_get_status(msg) != 0) /* answered by the early handler */
        return;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    ServeRequest req;
    g_autofree char *why = NULL;
    guint status = serve_request_parse(soup_server_message_get_method(msg), path,
                                       g_uri_get_query(soup_server_message_get_uri(msg)),
                                       soup_message_headers_get_one(h, "Authorization"),
                                       request_length(h), &s->limits, &req, &why);
    if (status != 0) {
        respond_error(s, msg, route_of(path), status, why);
        return;
    }
    if (s->draining) {
        respond_error(s, msg, req.route, 503, "shutting down: not taking new work");
        return;
    }
    switch (req.route) {
    case SERVE_ROUTE_HEALTHZ:
        respond(msg, 200, "application/json",
                g_strdup_printf("{\"status\":\"ok\",\"boards\":%u,\"workers\":%d}",
                                s->cfg->boards->len, s->cfg->workers));
        count_request(s, "/healthz", 200);
        return;
    case SERVE_ROUTE_METRICS:
        respond(msg, 200, "text/plain; version=0.0.4; charset=utf-8", metrics_text(s));
        count_request(s, "/metrics", 200);
        return;
    case SERVE_ROUTE_BOARDS:
        boards_json(s, msg);
        count_request(s, "/v1/boards", 200);
        return;
    case SERVE_ROUTE_INSPECT:
        break;
    case SERVE_ROUTE_NONE:
        g_assert_not_reached();
    }
    ServeBoard *board = g_hash_table_lookup(s->boards, req.board);
    if (board == NULL) {
        g_autofree char *m
            = g_strdup_printf("unknown board '%s' (GET /v1/boards lists them)", req.board);
        respond_error(s, msg, req.route, 404, m);
        return;
    }
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    if (body->length > s->limits.max_body) {
        respond_error(s, msg, req.route, 413, "photo over the size cap (--max-body-mb)");
        return;
    }
    if (s->amqp != NULL && serve_amqp_full(s->amqp)) {
        respond_error(s, msg, req.route, 503,
                      "the CFX spool is full: the broker has not taken the results for a while");
        return;
    }
    if (!reserve(s)) {
        respond_error(s, msg, req.route, 503, "the inspection queue is full");
        return;
    }
    Job *j = g_new0(Job, 1);
    j->msg = g_object_ref(msg);
    j->board = board;
    j->unit = req.unit[0] ? g_strdup(req.unit) : NULL;
    j->body = soup_message_body_flatten(body);
    s->active++;
    g_signal_connect(msg, "finished", G_CALLBACK(on_finished), s);
    soup_server_message_pause(msg);
    push(s, j);
}

/* ---- hot folder: DIR/BOARD/PHOTO, taken once complete (settle.h) ---- */

static gboolean
is_photo(const char *name)
{
    g_autofree char *lower = g_ascii_strdown(name, -1);
    return name[0] != '.'
           && (g_str_has_suffix(lower, ".jpg") || g_str_has_suffix(lower, ".jpeg")
               || g_str_has_suffix(lower, ".png"));
}

static gboolean
move_into(const char *path, const char *sub, const char *report, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *to_dir = g_build_filename(dir, sub, NULL);
    g_autofree char *json_name = g_strconcat(base, ".json", NULL);
    g_autofree char *json_path = g_build_filename(to_dir, json_name, NULL);
    g_autofree char *photo_path = g_build_filename(to_dir, base, NULL);
    if (g_mkdir_with_parents(to_dir, 0755) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s: %s", to_dir, g_strerror(errno));
        return FALSE;
    }
    /* the report first (atomically), then the photo: a photo in done/ always has its report */
    if (!g_file_set_contents_full(json_path, report, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                  error))
        return FALSE;
    if (g_rename(path, photo_path) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "%s -> %s: %s", path, photo_path,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

static void
watch_finish(Serve *s, Job *j)
{
    g_autoptr(GError) error = NULL;
    const char *sub = j->status == 200 ? "done" : "failed";
    s->active--;
    if (j->status == 503) { /* not kept for the line: leave it to be taken again */
        WatchFile *wf = g_hash_table_lookup(s->watch_files, j->watch_path);
        if (wf != NULL)
            wf->busy = FALSE;
        return;
    }
    if (!move_into(j->watch_path, sub, j->json, &error)) {
        g_warning("hot folder: %s (the photo stays where it is)", error->message);
        return; /* stays busy: not inspected again every second */
    }
    g_message("hot folder: %s -> %s (%s)", j->watch_path, sub, j->verdict);
    g_hash_table_remove(s->watch_files, j->watch_path);
}

/* Takes the complete photo at @path (@bytes: its content, taken over; NULL when it is over the
 * size cap or cannot be read). */
static void
watch_take(Serve *s, ServeBoard *board, const char *path, WatchFile *wf, GBytes *bytes)
{
    if ((s->amqp != NULL && serve_amqp_full(s->amqp)) || !reserve(s)) {
        if (bytes != NULL) /* the queue or the spool is full: next scan */
            g_bytes_unref(bytes);
        return;
    }
    g_autoptr(GError) error = NULL;
    Job *j = g_new0(Job, 1);
    j->board = board;
    j->watch_path = g_strdup(path);
    g_autofree char *base = g_path_get_basename(path);
    char *dot = strrchr(base, '.');
    if (dot != NULL)
        *dot = '\0';
    j->unit = g_strdup(base);
    wf->busy = TRUE;
    s->active++;
    if (bytes == NULL && (gint64) wf->file->size <= s->limits.max_body)
        g_set_error(&error, PCB_ERROR, PCB_ERROR_IO, "%s: cannot be read", path);
    if (bytes == NULL) {
        j->status = 413;
        j->verdict = "error";
        j->json = error_json(413, error ? error->message : "photo over the size cap");
        j->body = g_bytes_new(NULL, 0);
        j->s = s;
        j->t0 = g_get_monotonic_time();
        g_main_context_invoke(NULL, job_done, j);
        return;
    }
    j->body = bytes;
    push(s, j);
}

static WatchFile *
watch_file(Serve *s, const char *path, gint64 now)
{
    WatchFile *wf = g_hash_table_lookup(s->watch_files, path);
    if (wf == NULL) {
        wf = g_new0(WatchFile, 1);
        wf->file = settle_file_new(path, now);
        g_hash_table_insert(s->watch_files, g_strdup(path), wf);
    }
    return wf;
}

/* Any event in a photo starts its quiet period again (settle_file_touched): also where
 * modification times are coarse. */
static gboolean
on_inotify(gint fd, GIOCondition condition, gpointer data)
{
    (void) condition;
    Serve *s = data;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *) (void *) p;
            p += sizeof *ev + ev->len;
            const char *bdir = g_hash_table_lookup(s->watch_wds, GINT_TO_POINTER(ev->wd));
            if (bdir == NULL || ev->len == 0 || !is_photo(ev->name))
                continue;
            g_autofree char *path = g_build_filename(bdir, ev->name, NULL);
            const gint64 now = g_get_monotonic_time();
            settle_file_touched(watch_file(s, path, now)->file, now);
        }
    return G_SOURCE_CONTINUE;
}

static void
watch_monitor(Serve *s, const char *bdir)
{
    if (s->watch_fd < 0)
        return;
    int wd = inotify_add_watch(s->watch_fd, bdir,
                               IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY);
    if (wd < 0) {
        g_warning("hot folder %s: %s (its files are taken once their size and time settle)", bdir,
                  g_strerror(errno));
        return;
    }
    if (!g_hash_table_contains(s->watch_wds, GINT_TO_POINTER(wd)))
        g_hash_table_insert(s->watch_wds, GINT_TO_POINTER(wd), g_strdup(bdir));
}

static const SettleRules hot_rules = { HOT_QUIET_US, HOT_GIVE_UP_US };

/* One scan's look at the photo at @path: taken once complete; one over the size cap is refused
 * once quiet, without being read. */
static void
watch_poll(Serve *s, ServeBoard *board, const char *path)
{
    const gint64 now = g_get_monotonic_time();
    WatchFile *wf = watch_file(s, path, now);
    wf->seen = TRUE;
    if (wf->busy || !settle_file_observe(wf->file, now))
        return;
    if ((gint64) wf->file->size > s->limits.max_body) {
        if (now - wf->file->changed_at >= hot_rules.quiet_us)
            watch_take(s, board, path, wf, NULL);
        return;
    }
    GBytes *bytes = NULL;
    SettleState state = settle_file_poll(wf->file, &hot_rules, now, &bytes);
    if (state == SETTLE_READY || state == SETTLE_STALE)
        watch_take(s, board, path, wf, bytes);
}

static gboolean
watch_scan(gpointer data)
{
    Serve *s = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) top = g_dir_open(s->cfg->watch_dir, 0, &error);
    if (top == NULL) {
        g_warning("hot folder: %s", error->message);
        return G_SOURCE_CONTINUE;
    }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->watch_files);
    while (g_hash_table_iter_next(&it, &key, &value))
        ((WatchFile *) value)->seen = FALSE;
    for (const char *bname; (bname = g_dir_read_name(top)) != NULL;) {
        g_autofree char *bdir = g_build_filename(s->cfg->watch_dir, bname, NULL);
        if (!g_file_test(bdir, G_FILE_TEST_IS_DIR))
            continue;
        ServeBoard *board = g_hash_table_lookup(s->boards, bname);
        if (board == NULL) {
            if (!g_hash_table_contains(s->watch_warned, bname)) {
                g_warning("hot folder: %s is no board of --boards (ignored)", bdir);
                g_hash_table_add(s->watch_warned, g_strdup(bname));
            }
            continue;
        }
        watch_monitor(s, bdir);
        g_autoptr(GDir) d = g_dir_open(bdir, 0, NULL);
        for (const char *n; d != NULL && (n = g_dir_read_name(d)) != NULL;) {
            if (!is_photo(n))
                continue;
            g_autofree char *path = g_build_filename(bdir, n, NULL);
            if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
                continue;
            watch_poll(s, board, path);
        }
    }
    g_hash_table_iter_init(&it, s->watch_files);
    while (g_hash_table_iter_next(&it, &key, &value))
        if (!((WatchFile *) value)->seen && !((WatchFile *) value)->busy)
            g_hash_table_iter_remove(&it);
    return G_SOURCE_CONTINUE;
}

/* ---- start and stop ---- */

static gboolean
on_signal(gpointer data)
{
    Serve *s = data;
    if (!s->draining)
        g_message("stopping: not taking new work; finishing %d inspections",
                  g_atomic_int_get(&s->jobs));
    s->draining = TRUE;
    if (s->watch_source != 0) {
        g_source_remove(s->watch_source);
        s->watch_source = 0;
    }
    maybe_quit(s);
    return G_SOURCE_CONTINUE;
}

static gboolean
listen_on(Serve *s, GError **error)
{
    const char *listen = s->cfg->listen;
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen || colon[1] == '\0') {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "--listen %s: expected HOST:PORT", listen);
        return FALSE;
    }
    g_autofree char *host = g_strndup(listen, (gsize) (colon - listen));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    char *end = NULL;
    guint64 port = g_ascii_strtoull(colon + 1, &end, 10);
    if (*end != '\0' || port > 65535) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "--listen %s: bad port", listen);
        return FALSE;
    }
    g_autoptr(GInetAddress) addr = strcmp(host, "localhost") == 0
                                       ? g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4)
                                       : g_inet_address_new_from_string(host);
    if (addr == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--listen %s: HOST must be an IP address (or localhost)", listen);
        return FALSE;
    }
    if (!g_inet_address_get_is_loopback(addr) && !s->cfg->allow_remote) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--listen %s is not a loopback address: add --allow-remote to serve the "
                    "network (with --token-file)",
                    listen);
        return FALSE;
    }
    g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(addr, (guint16) port);
    return soup_server_listen(s->server, sa, 0, error);
}

static void
announce(Serve *s)
{
    GSList *uris = soup_server_get_uris(s->server);
    g_autofree char *uri = uris ? g_uri_to_string(uris->data) : g_strdup(s->cfg->listen);
    g_slist_free_full(uris, (GDestroyNotify) g_uri_unref);
    /* always printed: scripts and tests read the port from it */
    g_printerr("pcbdiff serve: listening on %s (%u boards, %d workers, queue %d%s%s)\n", uri,
               s->cfg->boards->len, s->cfg->workers, s->cfg->queue,
               s->cfg->amqp_url ? ", CFX to " : "", s->cfg->amqp_url ? s->cfg->amqp_address : "");
}

int
serve_run(const ServeConfig *cfg)
{
    Serve s = { .cfg = cfg };
    g_autoptr(GError) error = NULL;
    g_mutex_init(&s.m.lock);
    s.m.requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    s.boards = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < cfg->boards->len; i++) {
        ServeBoard *b = g_ptr_array_index(cfg->boards, i);
        g_hash_table_insert(s.boards, b->name, b);
    }
    s.limits.token = cfg->token;
    s.limits.max_body = cfg->max_body;
    s.watch_files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, watch_file_free);
    s.watch_warned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s.watch_wds = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    s.watch_fd = -1;
    int code = PCB_EXIT_TROUBLE;
    guint sigterm = 0, sigint = 0, inotify_source = 0;

    s.server = soup_server_new("server-header", "pcbdiff/" PCBDIFF_VERSION " ", NULL);
    /* libsoup keeps one handler entry per path: the early handler's path needs the normal one */
    soup_server_add_early_handler(s.server, "/v1/inspect", early_handler, &s, NULL);
    soup_server_add_handler(s.server, "/v1/inspect", handler, &s, NULL);
    soup_server_add_handler(s.server, NULL, handler, &s, NULL);
    if (!listen_on(&s, &error))
        goto out;
    if (cfg->amqp_url != NULL) {
        s.amqp = serve_amqp_new(cfg->amqp_url, cfg->amqp_address, cfg->amqp_spool,
                                cfg->amqp_spool_max, cfg->cfx_handle, &error);
        if (s.amqp == NULL)
            goto out;
    }
    s.pool = g_thread_pool_new(job_run, &s, cfg->workers, TRUE, &error);
    if (s.pool == NULL)
        goto out;
    s.loop = g_main_loop_new(NULL, FALSE);
    sigterm = g_unix_signal_add(SIGTERM, on_signal, &s);
    sigint = g_unix_signal_add(SIGINT, on_signal, &s);
    if (cfg->watch_dir != NULL) {
        s.watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s.watch_fd < 0)
            g_warning("hot folder: inotify: %s (files are taken once unchanged for a while)",
                      g_strerror(errno));
        else
            inotify_source = g_unix_fd_add(s.watch_fd, G_IO_IN, on_inotify, &s);
        watch_scan(&s); /* now: the monitors start before the first photo arrives */
        s.watch_source = g_timeout_add(500, watch_scan, &s);
    }
    announce(&s);
    g_main_loop_run(s.loop);
    g_source_remove(sigterm);
    g_source_remove(sigint);
    if (s.watch_source != 0)
        g_source_remove(s.watch_source);
    if (inotify_source != 0)
        g_source_remove(inotify_source);
    code = PCB_EXIT_PASS;
out:
    if (error != NULL)
        g_printerr("pcbdiff: %s\n", error->message);
    if (s.pool != NULL)
        g_thread_pool_free(s.pool, FALSE, TRUE);
    if (s.server != NULL) {
        soup_server_disconnect(s.server);
        g_object_unref(s.server);
    }
    serve_amqp_free(s.amqp, cfg->drain_grace_ms);
    /* queued main-loop work (answers of jobs) is done: the loop ran until none was left */
    g_clear_pointer(&s.loop, g_main_loop_unref);
    g_hash_table_unref(s.boards);
    g_hash_table_unref(s.watch_files);
    g_hash_table_unref(s.watch_warned);
    g_hash_table_unref(s.watch_wds);
    if (s.watch_fd >= 0)
        close(s.watch_fd);
    g_hash_table_unref(s.m.requests);
    g_mutex_clear(&s.m.lock);
    if (code == PCB_EXIT_PASS)
        g_message("stopped");
    return code;
}
