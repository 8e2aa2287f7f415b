/* pcbdiff serve: the CFX spool and its AMQP 1.0 sender thread (see amqp.h for the design). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/delivery.h>
#include <proton/link.h>
#include <proton/message.h>
#include <proton/proactor.h>
#include <proton/sasl.h>
#include <proton/session.h>
#include <proton/transport.h>
#include "pcbdiff/error.h"
#include "serve/amqp.h"
#include "serve/cfx.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000

struct _ServeAmqp {
    char *host, *port, *user, *password, *address, *dir, *handle, *subject;
    guint max;
    GThread *thread;
    pn_proactor_t *proactor;

    GMutex lock;     /* guards the fields down to `grace_ms` */
    GQueue incoming; /* names spooled since the thread last looked */
    guint spooled;   /* files in the spool, counting reserved ones */
    guint64 seq;     /* the last sequence number given */
    guint64 delivered;
    gboolean connected, stopping;
    guint grace_ms;

    /* the sender thread's own */
    GQueue pending;       /* names to send, in sequence order */
    GHashTable *inflight; /* names sent, not yet settled */
    pn_connection_t *conn;
    pn_link_t *sender;
    pn_message_t *message;
    pn_rwbytes_t buf;
    int backoff_ms;
    gboolean down_logged, stop_seen, close_wanted;
};

static gint
name_cmp(gconstpointer a, gconstpointer b, gpointer user_data)
{
    (void) user_data;
    return strcmp(a, b); /* zero-padded sequence numbers: name order is spool order */
}

static void
connect_now(ServeAmqp *a)
{
    char addr[PN_MAX_ADDR];
    pn_proactor_addr(addr, sizeof addr, a->host, a->port);
    a->conn = pn_connection();
    pn_connection_set_container(a->conn, a->handle);
    pn_connection_set_hostname(a->conn, a->host);
    pn_transport_t *t = pn_transport();
    if (a->user != NULL) {
        pn_connection_set_user(a->conn, a->user);
        pn_connection_set_password(a->conn, a->password ? a->password : "");
        /* PLAIN over a plain connection: RabbitMQ's default; say so in the README */
        pn_sasl_set_allow_insecure_mechs(pn_sasl(t), true);
    }
    pn_proactor_connect2(a->proactor, a->conn, t, addr);
}

static char *
unique_id_of(const char *name)
{
    const char *dash = strchr(name, '-');
    const char *dot = g_strrstr(name, ".json");
    if (dash == NULL || dot == NULL || dot <= dash)
        return g_strdup(name);
    return g_strndup(dash + 1, (gsize) (dot - dash - 1));
}

static void
put_property(pn_data_t *props, const char *key, const char *value)
{
    pn_data_put_string(props, pn_bytes(strlen(key), key));
    pn_data_put_string(props, pn_bytes(strlen(value), value));
}

static void
forget(ServeAmqp *a, gboolean delivered)
{
    g_mutex_lock(&a->lock);
    a->spooled--;
    if (delivered)
        a->delivered++;
    g_mutex_unlock(&a->lock);
}

/* Sends spool files while the broker gives credit. */
static void
pump(ServeAmqp *a)
{
    while (a->sender != NULL && pn_link_credit(a->sender) > 0 && !g_queue_is_empty(&a->pending)) {
        char *name = g_queue_pop_head(&a->pending);
        g_autofree char *path = g_build_filename(a->dir, name, NULL);
        g_autofree char *json = NULL;
        gsize len = 0;
        g_autoptr(GError) error = NULL;
        if (!g_file_get_contents(path, &json, &len, &error)) {
            g_warning("AMQP spool: %s; dropped from the spool", error->message);
            forget(a, FALSE);
            g_free(name);
            continue;
        }
        g_autofree char *id = unique_id_of(name);
        pn_message_t *m = a->message;
        pn_message_clear(m);
        pn_message_set_id(
            m, (pn_msgid_t){ .type = PN_STRING, .u.as_bytes = pn_bytes(strlen(id), id) });
        pn_message_set_durable(m, true);
        pn_message_set_address(m, a->address);
        pn_message_set_subject(m, a->subject);
        pn_message_set_reply_to(m, a->handle);
        pn_message_set_content_type(m, "application/json; charset=\"utf-8\"");
        pn_message_set_creation_time(m, g_get_real_time() / 1000);
        pn_data_t *props = pn_message_properties(m);
        pn_data_put_map(props);
        pn_data_enter(props);
        put_property(props, "cfx-topic", SERVE_CFX_TOPIC);
        put_property(props, "cfx-message", SERVE_CFX_MESSAGE);
        put_property(props, "cfx-handle", a->handle);
        pn_data_exit(props);
        /* a Data section holding the UTF-8 JSON, as the SDK sends it */
        pn_message_set_inferred(m, true);
        pn_data_put_binary(pn_message_body(m), pn_bytes(len, json));
        pn_delivery(a->sender, pn_dtag(name, strlen(name)));
        if (pn_message_send(m, a->sender, &a->buf) < 0) {
            g_warning("AMQP: cannot encode %s: %s", name, pn_error_text(pn_message_error(m)));
            g_queue_insert_sorted(&a->pending, name, name_cmp, NULL);
            break;
        }
        g_hash_table_add(a->inflight, name);
    }
}

static void
requeue_inflight(ServeAmqp *a)
{
    GHashTableIter it;
    gpointer name;
    g_hash_table_iter_init(&it, a->inflight);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        g_hash_table_iter_steal(&it);
        g_queue_insert_sorted(&a->pending, name, name_cmp, NULL);
    }
}

static void
take_incoming(ServeAmqp *a)
{
    g_mutex_lock(&a->lock);
    char *name;
    while ((name = g_queue_pop_head(&a->incoming)) != NULL)
        g_queue_insert_sorted(&a->pending, name, name_cmp, NULL);
    g_mutex_unlock(&a->lock);
}

static gboolean
all_sent(ServeAmqp *a)
{
    return g_queue_is_empty(&a->pending) && g_hash_table_size(a->inflight) == 0;
}

static void
settled(ServeAmqp *a, pn_delivery_t *d)
{
    uint64_t state = pn_delivery_remote_state(d);
    if (state == 0 && !pn_delivery_settled(d))
        return;
    pn_delivery_tag_t tag = pn_delivery_tag(d);
    g_autofree char *name = g_strndup(tag.start, tag.size);
    char *owned = NULL;
    if (!g_hash_table_steal_extended(a->inflight, name, (gpointer *) &owned, NULL)) {
        pn_delivery_settle(d);
        return;
    }
    g_autofree char *path = g_build_filename(a->dir, owned, NULL);
    if (state == PN_ACCEPTED) {
        if (g_unlink(path) != 0)
            g_warning("AMQP spool: cannot delete %s: %s", path, g_strerror(errno));
        forget(a, TRUE);
        g_free(owned);
    }
    else if (state == PN_REJECTED) {
        g_autofree char *dir = g_build_filename(a->dir, "rejected", NULL);
        g_autofree char *to = g_build_filename(dir, owned, NULL);
        pn_condition_t *c = pn_disposition_condition(pn_delivery_remote(d));
        g_warning("AMQP: the broker rejected %s (%s); moved to %s", owned,
                  pn_condition_get_description(c) ? pn_condition_get_description(c) : "no reason",
                  dir);
        if (g_mkdir_with_parents(dir, 0755) != 0 || g_rename(path, to) != 0)
            g_warning("AMQP spool: cannot move %s: %s", path, g_strerror(errno));
        forget(a, FALSE);
        g_free(owned);
    }
    else /* released or modified: the broker did not take it, send it again */
        g_queue_insert_sorted(&a->pending, owned, name_cmp, NULL);
    pn_delivery_settle(d);
}

static void
log_condition(ServeAmqp *a, pn_condition_t *c)
{
    if (a->down_logged)
        return;
    a->down_logged = TRUE;
    guint n;
    g_mutex_lock(&a->lock);
    n = a->spooled;
    g_mutex_unlock(&a->lock);
    g_warning("AMQP: broker %s:%s unavailable (%s%s%s); %u results kept in %s, retrying", a->host,
              a->port, c && pn_condition_is_set(c) ? pn_condition_get_name(c) : "connection lost",
              c && pn_condition_is_set(c) ? ": " : "",
              c && pn_condition_is_set(c) ? pn_condition_get_description(c) : "", n, a->dir);
}

/* Closes the connection from its own batch (PN_CONNECTION_WAKE). */
static void
close_soon(ServeAmqp *a)
{
    a->close_wanted = TRUE;
    pn_connection_wake(a->conn);
}

/* A new connection: its session and the sender link to the address. */
static void
open_sender(ServeAmqp *a, pn_connection_t *c)
{
    pn_connection_open(c);
    pn_session_t *s = pn_session(c);
    pn_session_open(s);
    a->sender = pn_sender(s, "pcbdiff-cfx");
    pn_terminus_set_address(pn_link_target(a->sender), a->address);
    pn_link_set_snd_settle_mode(a->sender, PN_SND_UNSETTLED);
    pn_link_open(a->sender);
}

/* The connection is gone: what was in flight goes back to the spool's queue, and a new
 * connection is tried after the backoff. FALSE when the thread is done (stopping). */
static gboolean
transport_closed(ServeAmqp *a, pn_transport_t *t)
{
    if (!a->stop_seen)
        log_condition(a, pn_transport_condition(t));
    a->conn = NULL;
    a->sender = NULL;
    a->close_wanted = FALSE;
    g_mutex_lock(&a->lock);
    a->connected = FALSE;
    g_mutex_unlock(&a->lock);
    requeue_inflight(a);
    if (a->stop_seen)
        return FALSE;
    pn_proactor_set_timeout(a->proactor, a->backoff_ms);
    a->backoff_ms = MIN(a->backoff_ms * 2, BACKOFF_MAX_MS);
    return TRUE;
}

/* Woken by the service: new messages to take, or the stop (then what is sent is closed at
 * once, else after the grace period). FALSE when the thread is done. */
static gboolean
interrupted(ServeAmqp *a)
{
    take_incoming(a);
    g_mutex_lock(&a->lock);
    gboolean stopping = a->stopping;
    guint grace = a->grace_ms;
    g_mutex_unlock(&a->lock);
    if (stopping && !a->stop_seen) {
        a->stop_seen = TRUE;
        if (a->conn == NULL)
            return FALSE;
        if (a->sender == NULL || !(pn_link_state(a->sender) & PN_REMOTE_ACTIVE) || all_sent(a))
            close_soon(a);
        else
            pn_proactor_set_timeout(a->proactor, grace);
    }
    if (a->conn != NULL)
        pn_connection_wake(a->conn); /* pump in the connection's batch */
    return TRUE;
}

/* FALSE when the thread is done. */
static gboolean
handle(ServeAmqp *a, pn_event_t *e)
{
    switch (pn_event_type(e)) {
    case PN_CONNECTION_INIT:
        open_sender(a, pn_event_connection(e));
        break;
    case PN_CONNECTION_REMOTE_OPEN:
        g_mutex_lock(&a->lock);
        a->connected = TRUE;
        g_mutex_unlock(&a->lock);
        if (a->down_logged)
            g_message("AMQP: connected to %s:%s again; sending the spool", a->host, a->port);
        else
            g_info("AMQP: connected to %s:%s", a->host, a->port);
        a->down_logged = FALSE;
        a->backoff_ms = BACKOFF_MIN_MS;
        break;
    case PN_LINK_FLOW:
        pump(a);
        break;
    case PN_DELIVERY:
        settled(a, pn_event_delivery(e));
        if (a->stop_seen && all_sent(a) && a->conn != NULL)
            pn_connection_close(a->conn);
        else
            pump(a);
        break;
    case PN_CONNECTION_REMOTE_CLOSE:
        log_condition(a, pn_connection_remote_condition(pn_event_connection(e)));
        pn_connection_close(pn_event_connection(e));
        break;
    case PN_SESSION_REMOTE_CLOSE:
        log_condition(a, pn_session_remote_condition(pn_event_session(e)));
        pn_connection_close(pn_event_connection(e));
        break;
    case PN_LINK_REMOTE_CLOSE:
    case PN_LINK_REMOTE_DETACH:
        log_condition(a, pn_link_remote_condition(pn_event_link(e)));
        pn_connection_close(pn_event_connection(e));
        break;
    case PN_TRANSPORT_CLOSED:
        return transport_closed(a, pn_event_transport(e));
    case PN_PROACTOR_TIMEOUT:
        if (a->stop_seen) { /* the grace period is over */
            if (a->conn == NULL)
                return FALSE;
            close_soon(a);
        }
        else if (a->conn == NULL)
            connect_now(a);
        break;
    case PN_CONNECTION_WAKE:
        /* the connection's own batch: only here may it be changed so that the proactor
         * writes what changed (sends, the close) */
        if (a->close_wanted)
            pn_connection_close(pn_event_connection(e));
        else
            pump(a);
        break;
    case PN_PROACTOR_INTERRUPT:
        return interrupted(a);
    case PN_PROACTOR_INACTIVE:
        if (a->stop_seen)
            return FALSE;
        break;
    default:
        break;
    }
    return TRUE;
}

static gpointer
run(gpointer data)
{
    ServeAmqp *a = data;
    connect_now(a);
    for (gboolean go = TRUE; go;) {
        pn_event_batch_t *batch = pn_proactor_wait(a->proactor);
        for (pn_event_t *e; (e = pn_event_batch_next(batch)) != NULL;)
            if (!handle(a, e))
                go = FALSE;
        pn_proactor_done(a->proactor, batch);
    }
    return NULL;
}

static gboolean
parse_url(ServeAmqp *a, const char *url, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_HAS_PASSWORD, &local);
    if (uri == NULL || g_strcmp0(g_uri_get_scheme(uri), "amqp") != 0 || g_uri_get_host(uri) == NULL
        || *g_uri_get_host(uri) == '\0') {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "--amqp %s: expected amqp://[USER:PASSWORD@]HOST[:PORT]%s%s", url,
                    local ? ": " : "", local ? local->message : "");
        return FALSE;
    }
    a->host = g_strdup(g_uri_get_host(uri));
    a->port = g_strdup_printf("%d", g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 5672);
    a->user = g_strdup(g_uri_get_user(uri));
    a->password = g_strdup(g_uri_get_password(uri));
    return TRUE;
}

static void
amqp_free_fields(ServeAmqp *a)
{
    g_free(a->host);
    g_free(a->port);
    g_free(a->user);
    g_free(a->password);
    g_free(a->address);
    g_free(a->dir);
    g_free(a->handle);
    g_free(a->subject);
    g_queue_clear_full(&a->incoming, g_free);
    g_queue_clear_full(&a->pending, g_free);
    g_clear_pointer(&a->inflight, g_hash_table_unref);
    if (a->message != NULL)
        pn_message_free(a->message);
    free(a->buf.start);
    g_mutex_clear(&a->lock);
    g_free(a);
}

ServeAmqp *
serve_amqp_new(const char *url, const char *address, const char *spool_dir, guint max,
               const char *handle, GError **error)
{
    ServeAmqp *a = g_new0(ServeAmqp, 1);
    g_mutex_init(&a->lock);
    g_queue_init(&a->incoming);
    g_queue_init(&a->pending);
    a->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!parse_url(a, url, error)) {
        amqp_free_fields(a);
        return NULL;
    }
    a->address = g_strdup(address);
    a->dir = g_strdup(spool_dir);
    a->handle = g_strdup(handle);
    a->subject = g_strdup_printf("%s.%s", handle, SERVE_CFX_MESSAGE);
    a->max = max;
    a->backoff_ms = BACKOFF_MIN_MS;
    if (g_mkdir_with_parents(spool_dir, 0755) != 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "--amqp-spool %s: %s", spool_dir,
                    g_strerror(errno));
        amqp_free_fields(a);
        return NULL;
    }
    g_autoptr(GError) local = NULL;
    g_autoptr(GDir) dir = g_dir_open(spool_dir, 0, &local);
    if (dir == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "--amqp-spool: %s", local->message);
        amqp_free_fields(a);
        return NULL;
    }
    for (const char *n; (n = g_dir_read_name(dir)) != NULL;) {
        guint64 seq = 0;
        char *end = NULL;
        if (g_ascii_isdigit(n[0]) && (seq = g_ascii_strtoull(n, &end, 10), *end == '-')
            && g_str_has_suffix(n, ".json")) {
            g_queue_insert_sorted(&a->pending, g_strdup(n), name_cmp, NULL);
            a->seq = MAX(a->seq, seq);
        }
        else if (g_ascii_isdigit(n[0]) && strstr(n, ".json.") != NULL) {
            /* a temporary file of a write the last run did not finish: never published */
            g_autofree char *p = g_build_filename(spool_dir, n, NULL);
            (void) g_unlink(p);
        }
    }
    a->spooled = g_queue_get_length(&a->pending);
    if (a->spooled > 0)
        g_message("AMQP: %u results left in %s from an earlier run; sending them first", a->spooled,
                  spool_dir);
    a->message = pn_message();
    a->proactor = pn_proactor();
    a->thread = g_thread_new("pcbdiff-amqp", run, a);
    return a;
}

gboolean
serve_amqp_publish(ServeAmqp *a, const char *unique_id, const char *json, GError **error)
{
    g_mutex_lock(&a->lock);
    if (a->spooled >= a->max) {
        g_mutex_unlock(&a->lock);
        g_set_error(error, PCB_ERROR, PCB_ERROR_LIMIT,
                    "the CFX spool is full (%u messages waiting for the broker)", a->max);
        return FALSE;
    }
    a->spooled++;
    guint64 seq = ++a->seq;
    g_mutex_unlock(&a->lock);

    char *name = g_strdup_printf("%020" G_GUINT64_FORMAT "-%s.json", seq, unique_id);
    g_autofree char *path = g_build_filename(a->dir, name, NULL);
    g_autoptr(GError) local = NULL;
    if (!g_file_set_contents_full(path, json, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, &local)) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "CFX spool: %s", local->message);
        g_free(name);
        forget(a, FALSE);
        return FALSE;
    }
    g_mutex_lock(&a->lock);
    g_queue_push_tail(&a->incoming, name);
    g_mutex_unlock(&a->lock);
    pn_proactor_interrupt(a->proactor);
    return TRUE;
}

gboolean
serve_amqp_full(ServeAmqp *a)
{
    g_mutex_lock(&a->lock);
    gboolean full = a->spooled >= a->max;
    g_mutex_unlock(&a->lock);
    return full;
}

void
serve_amqp_stats(ServeAmqp *a, guint *spooled, guint64 *delivered, gboolean *connected)
{
    g_mutex_lock(&a->lock);
    *spooled = a->spooled;
    *delivered = a->delivered;
    *connected = a->connected;
    g_mutex_unlock(&a->lock);
}

void
serve_amqp_free(ServeAmqp *a, guint grace_ms)
{
    if (a == NULL)
        return;
    g_mutex_lock(&a->lock);
    a->stopping = TRUE;
    a->grace_ms = grace_ms;
    g_mutex_unlock(&a->lock);
    pn_proactor_interrupt(a->proactor);
    g_thread_join(a->thread);
    pn_proactor_free(a->proactor);
    guint left = a->spooled;
    if (left > 0)
        g_message("AMQP: %u results stay in %s until the next start", left, a->dir);
    amqp_free_fields(a);
}
