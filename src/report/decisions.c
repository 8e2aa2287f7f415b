/* An operator's decisions (exported by the review page) applied to a report: each finding gets
 * its IPC-CFX verification, the report the reviewer and the time. Read and written with
 * json-glib; everything else in the report is kept as it was. */
#include <string.h>
#include <json-glib/json-glib.h>
#include "pcbdiff/pcbdiff.h"
#include "core/util.h"
#include "report/report_internal.h"

#define DECISIONS_VERSION 1

const char *const pcb_verification_names[PCB_VERIFICATION_COUNT]
    = { "DefectConfirmed", "DefectRejected", "DefectAccepted", "NotVerifiedYet" };

static gboolean bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean
bad(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, PCB_ERROR, PCB_ERROR_USAGE, msg);
    return FALSE;
}

static JsonNode *
parse(const char *text, const char *what, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;
    if (!json_parser_load_from_data(parser, text, -1, &perr)) {
        /* json-glib quotes the bad text, which may itself be invalid UTF-8 */
        g_autofree char *msg = g_utf8_make_valid(perr->message, -1);
        bad(error, "%s is not JSON: %s", what, msg);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        bad(error, "%s is not a JSON object", what);
        return NULL;
    }
    return json_node_copy(root);
}

/* The member @name of @o when it holds a value of @type, else NULL. */
static JsonNode *
value_member(JsonObject *o, const char *name, GType type)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != type)
        return NULL;
    return n;
}

static const char *
string_member(JsonObject *o, const char *name)
{
    JsonNode *n = value_member(o, name, G_TYPE_STRING);
    return n != NULL ? json_node_get_string(n) : NULL;
}

static JsonObject *
object_member(JsonObject *o, const char *name)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
array_member(JsonObject *o, const char *name)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static int
verification_index(const char *name)
{
    for (int i = 0; name != NULL && i < PCB_VERIFICATION_COUNT; i++)
        if (strcmp(name, pcb_verification_names[i]) == 0)
            return i;
    return -1;
}

/* Checks the decisions' header against the report's photo hash @report_id. */
static gboolean
check_header(JsonObject *d, const char *report_id, GError **error)
{
    JsonNode *version = value_member(d, "version", G_TYPE_INT64);
    if (version == NULL || json_node_get_int(version) != DECISIONS_VERSION)
        return bad(error, "decisions: \"version\" must be %d", DECISIONS_VERSION);
    const char *for_report = string_member(d, "report");
    if (for_report == NULL)
        return bad(error, "decisions: \"report\" (the photo's sha256) is missing");
    if (report_id == NULL)
        return bad(error, "report: no inputs.photo.sha256 to match the decisions against");
    if (strcmp(for_report, report_id) != 0)
        return bad(error, "decisions are for report %.12s..., not this one (photo sha256 %.12s...)",
                   for_report, report_id);
    const char *who = string_member(d, "operator");
    g_autofree char *trimmed = g_strstrip(g_strdup(who != NULL ? who : ""));
    if (*trimmed == '\0')
        return bad(error, "decisions: \"operator\" must be a non-empty name");
    const char *at = string_member(d, "decided_at");
    g_autoptr(GDateTime) when = at != NULL ? g_date_time_new_from_iso8601(at, NULL) : NULL;
    if (when == NULL)
        return bad(error, "decisions: \"decided_at\" must be an ISO 8601 time with a zone, got %s",
                   at != NULL ? at : "nothing");
    if (array_member(d, "findings") == NULL)
        return bad(error, "decisions: \"findings\" must be an array");
    return TRUE;
}

/* @chosen[i]: the verification index each finding takes (NotVerifiedYet when not listed). */
static gboolean
read_choices(JsonArray *list, guint n, int *chosen, GError **error)
{
    g_autofree gboolean *seen = g_new0(gboolean, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        chosen[i] = PCB_VERIFICATION_COUNT - 1;
    for (guint k = 0; k < json_array_get_length(list); k++) {
        JsonNode *e = json_array_get_element(list, k);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e) : NULL;
        if (o == NULL)
            return bad(error, "decisions: findings[%u] is not an object", k);
        JsonNode *idx = value_member(o, "index", G_TYPE_INT64);
        if (idx == NULL)
            return bad(error, "decisions: findings[%u] has no integer \"index\"", k);
        gint64 i = json_node_get_int(idx);
        if (i < 0 || i >= (gint64) n)
            return bad(error,
                       "decisions: finding index %" G_GINT64_FORMAT
                       " is out of range (the report has %u finding%s)",
                       i, n, n == 1 ? "" : "s");
        if (seen[i])
            return bad(error, "decisions: finding index %" G_GINT64_FORMAT " is decided twice", i);
        seen[i] = TRUE;
        const char *v = string_member(o, "verification");
        int vi = verification_index(v);
        if (vi < 0)
            return bad(error,
                       "decisions: finding %" G_GINT64_FORMAT
                       ": unknown verification \"%s\" (DefectConfirmed, DefectRejected, "
                       "DefectAccepted or NotVerifiedYet)",
                       i, v != NULL ? v : "");
        chosen[i] = vi;
    }
    return TRUE;
}

char *
pcb_report_apply_decisions(const char *report_json, const char *decisions_json, int *counts,
                           GError **error)
{
    g_return_val_if_fail(report_json != NULL && decisions_json != NULL, NULL);
    g_autoptr(JsonNode) report = parse(report_json, "report", error);
    if (report == NULL)
        return NULL;
    g_autoptr(JsonNode) decisions = parse(decisions_json, "decisions", error);
    if (decisions == NULL)
        return NULL;
    JsonObject *r = json_node_get_object(report), *d = json_node_get_object(decisions);
    JsonNode *version = value_member(r, "version", G_TYPE_INT64);
    if (version == NULL || json_node_get_int(version) != PCB_REPORT_VERSION) {
        bad(error, "report: \"version\" must be %d", PCB_REPORT_VERSION);
        return NULL;
    }
    JsonArray *findings = array_member(r, "findings");
    if (findings == NULL) {
        bad(error, "report: no \"findings\" array");
        return NULL;
    }
    const char *report_id
        = string_member(object_member(object_member(r, "inputs"), "photo"), "sha256");
    if (!check_header(d, report_id, error))
        return NULL;
    guint n = json_array_get_length(findings);
    g_autofree int *chosen = g_new(int, MAX(n, 1));
    if (!read_choices(array_member(d, "findings"), n, chosen, error))
        return NULL;
    for (guint i = 0; i < n; i++) {
        JsonNode *e = json_array_get_element(findings, i);
        if (!JSON_NODE_HOLDS_OBJECT(e)) {
            bad(error, "report: findings[%u] is not an object", i);
            return NULL;
        }
    }

    if (counts != NULL)
        memset(counts, 0, PCB_VERIFICATION_COUNT * sizeof *counts);
    for (guint i = 0; i < n; i++) {
        JsonObject *f = json_node_get_object(json_array_get_element(findings, i));
        json_object_set_string_member(f, "verification", pcb_verification_names[chosen[i]]);
        if (counts != NULL)
            counts[chosen[i]]++;
    }
    JsonObject *review = json_object_new();
    g_autofree char *who = g_strstrip(g_strdup(string_member(d, "operator")));
    json_object_set_string_member(review, "operator", who);
    json_object_set_string_member(review, "decided_at", string_member(d, "decided_at"));
    json_object_set_object_member(r, "review", review);

    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, report);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, 2);
    g_autofree char *raw = json_generator_to_data(gen, NULL);
    g_autofree char *tidy = pcb_report_json_tidy(raw);
    /* json-glib reads what it cannot write back: an unpaired \uD800-\uDFFF escape becomes
     * invalid UTF-8, a number out of range infinity (found by tests/fuzz/fuzz-decisions.c).
     * Such a report was not written by pcbdiff; refuse it rather than write one nobody can
     * read. */
    if (!g_utf8_validate(tidy, -1, NULL)) {
        bad(error, "report or decisions: a string is not valid Unicode (an unpaired "
                   "\\uD800-\\uDFFF escape)");
        return NULL;
    }
    g_autoptr(JsonParser) check = json_parser_new();
    if (!json_parser_load_from_data(check, tidy, -1, NULL)) {
        bad(error, "report: holds a value that cannot be written back as JSON (a number out of "
                   "range, such as 1e400)");
        return NULL;
    }
    return g_strconcat(tidy, "\n", NULL);
}

gboolean
pcb_report_decide(const char *report_path, const char *decisions_path, const char *out_path,
                  int *counts, GError **error)
{
    g_return_val_if_fail(report_path != NULL && decisions_path != NULL, FALSE);
    g_autofree char *report = NULL, *decisions = NULL;
    g_autoptr(GError) ioerr = NULL;
    if (!g_file_get_contents(report_path, &report, NULL, &ioerr)
        || !g_file_get_contents(decisions_path, &decisions, NULL, &ioerr)) {
        g_set_error_literal(error, PCB_ERROR, PCB_ERROR_IO, ioerr->message);
        return FALSE;
    }
    g_autofree char *decided = pcb_report_apply_decisions(report, decisions, counts, error);
    if (decided == NULL) {
        g_prefix_error(error, "%s: ", decisions_path);
        return FALSE;
    }
    return pcb_write_file_atomic(out_path != NULL ? out_path : report_path, decided,
                                 strlen(decided), error);
}
