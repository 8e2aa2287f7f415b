/* pcbdiff db decide: an operator's decisions (the review page's export) recorded in the results
 * database, validated against the inspection's stored report exactly as pcbdiff decide does
 * (pcb_report_apply_decisions()), appended to the decisions table in one transaction. */
#include <string.h>
#include <json-glib/json-glib.h>
#include "batch/batch.h"

static gboolean
bad(GError **error, const char *msg)
{
    g_set_error_literal(error, PCB_ERROR, PCB_ERROR_USAGE, msg);
    return FALSE;
}

/* The one inspection of photo @sha (on @board when not NULL): its id, path, board and report. */
static gboolean
find_inspection(BatchDb *db, const char *sha, const char *board, gint64 *id, char **path,
                char **board_out, char **report, GError **error)
{
    sqlite3 *h = batch_db_handle(db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h,
                           "SELECT id, photo_path, board, report_json, reason FROM inspections "
                           "WHERE photo_sha256 = ?1 AND (?2 IS NULL OR board = ?2) ORDER BY id",
                           -1, &st, NULL)
        != SQLITE_OK) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_IO, "cannot read: %s", sqlite3_errmsg(h));
        return FALSE;
    }
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    if (board != NULL)
        sqlite3_bind_text(st, 2, board, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    int n = 0;
    g_autoptr(GString) boards = g_string_new(NULL), ids = g_string_new(NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *reason = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *b = (const char *) sqlite3_column_text(st, 2);
        if (g_hash_table_add(seen, g_strdup(b)))
            g_string_append_printf(boards, "%s%s", boards->len > 0 ? ", " : "", b);
        g_string_append_printf(ids, "%s%" G_GINT64_FORMAT, n > 0 ? ", " : "",
                               (gint64) sqlite3_column_int64(st, 0));
        if (n++ == 0) {
            *id = sqlite3_column_int64(st, 0);
            *path = g_strdup((const char *) sqlite3_column_text(st, 1));
            *board_out = g_strdup(b);
            const char *r = (const char *) sqlite3_column_text(st, 3);
            *report = r != NULL ? g_strdup(r) : NULL;
            const char *why = (const char *) sqlite3_column_text(st, 4);
            reason = why != NULL ? g_strdup(why) : NULL;
        }
    }
    sqlite3_finalize(st);
    if (n == 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "no inspection of photo %s%s%s in %s", sha,
                    board != NULL ? " on board " : "", board != NULL ? board : "",
                    sqlite3_db_filename(h, "main"));
        return FALSE;
    }
    if (n > 1) {
        if (g_hash_table_size(seen) > 1)
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                        "photo %.12s... was inspected on several boards (%s): give --board NAME",
                        sha, boards->str);
        else
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                        "photo %.12s... was inspected %d times on board %s with different "
                        "parameters (inspections %s): cannot tell which the decisions are for",
                        sha, n, boards->str, ids->str);
        return FALSE;
    }
    if (*report == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "inspection %" G_GINT64_FORMAT " (%s) has no report to decide on (%s)", *id,
                    *path, reason != NULL ? reason : "not inspected");
        return FALSE;
    }
    return TRUE;
}

gboolean
batch_db_decide(BatchDb *db, const char *decisions_json, const char *board,
                BatchDecideSummary *summary, GError **error)
{
    memset(summary, 0, sizeof *summary);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) perr = NULL;
    if (!json_parser_load_from_data(parser, decisions_json, -1, &perr)) {
        g_autofree char *msg = g_utf8_make_valid(perr->message, -1);
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "decisions is not JSON: %s", msg);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
        return bad(error, "decisions is not a JSON object");
    JsonObject *d = json_node_get_object(root);
    JsonNode *rn = json_object_get_member(d, "report");
    if (rn == NULL || !JSON_NODE_HOLDS_VALUE(rn) || json_node_get_value_type(rn) != G_TYPE_STRING)
        return bad(error, "decisions: \"report\" (the photo's sha256) is missing");
    const char *sha = json_node_get_string(rn);

    g_autofree char *report = NULL;
    if (!find_inspection(db, sha, board, &summary->inspection_id, &summary->photo_path,
                         &summary->board, &report, error))
        return FALSE;
    /* the same checks as pcbdiff decide: version, operator, time, indexes, names */
    g_autofree char *decided = pcb_report_apply_decisions(report, decisions_json, NULL, error);
    if (decided == NULL)
        return FALSE;

    /* valid: every listed finding becomes one decision row */
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *recorded_at = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
    g_autofree char *who = g_strstrip(g_strdup(json_object_get_string_member(d, "operator")));
    const char *at = json_object_get_string_member(d, "decided_at");
    JsonArray *list = json_object_get_array_member(d, "findings");
    g_autoptr(GArray) rows = batch_decisions_new();
    for (guint k = 0; k < json_array_get_length(list); k++) {
        JsonObject *o = json_array_get_object_element(list, k);
        BatchDecision r = { 0 };
        r.inspection_id = summary->inspection_id;
        r.idx = (int) json_object_get_int_member(o, "index");
        r.verification = g_strdup(json_object_get_string_member(o, "verification"));
        r.operator_name = g_strdup(who);
        r.decided_at = g_strdup(at);
        r.recorded_at = g_strdup(recorded_at);
        for (int v = 0; v < PCB_VERIFICATION_COUNT; v++)
            summary->counts[v] += strcmp(r.verification, pcb_verification_names[v]) == 0;
        g_array_append_val(rows, r);
    }
    return batch_db_add_decisions(db, rows, FALSE, &summary->recorded, error);
}
