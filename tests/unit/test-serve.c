/* pcbdiff serve's pure parts: the request check and the IPC-CFX envelope. The service itself,
 * with a real broker, is tested by tests/serve/test-serve.py. */
#include <string.h>
#include <json-glib/json-glib.h>
#include "testutil.h"
/* the front-end's sources, not part of libpcbdiff */
#include "serve/cfx.c"
#include "serve/request.c"

typedef struct {
    const char *method, *path, *query, *auth;
    gint64 length;
    guint status;
} RequestCase;

static void
test_request_statuses(void)
{
    static const RequestCase cases[] = {
        { "POST", "/v1/inspect", "board=demo&unit=SN-1", "Bearer 0123456789abcdef", 10, 0 },
        { "POST", "/v1/inspect", "board=demo", "bearer 0123456789abcdef", 10, 0 },
        { "POST", "/v1/inspect", "board=demo", NULL, 10, 401 },
        { "POST", "/v1/inspect", "board=demo", "Bearer 0123456789abcdeX", 10, 401 },
        { "POST", "/v1/inspect", "board=demo", "Bearer 0123456789abcdef0", 10, 401 },
        { "GET", "/healthz", NULL, NULL, 0, 0 },
        { "HEAD", "/healthz", NULL, NULL, 0, 0 },
        { "GET", "/metrics", NULL, NULL, 0, 401 },
        { "GET", "/v1/inspect", "board=demo", "Bearer 0123456789abcdef", 0, 405 },
        { "POST", "/v1/boards", NULL, "Bearer 0123456789abcdef", 0, 405 },
        { "GET", "/v2/inspect", NULL, NULL, 0, 404 },
        { "POST", "/v1/inspect", "board=demo", "Bearer 0123456789abcdef", -1, 411 },
        { "POST", "/v1/inspect", "board=demo", "Bearer 0123456789abcdef", 1001, 413 },
        { "POST", "/v1/inspect", "board=demo", "Bearer 0123456789abcdef", 0, 400 },
        { "POST", "/v1/inspect", NULL, "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "unit=x", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board=demo&board=demo", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board=demo&colour=red", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board=..%2Fetc", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board=.hidden", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board=demo&unit=a%20b", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board=demo&unit=a%00b", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board=demo&unit=%zz", "Bearer 0123456789abcdef", 10, 400 },
        { "POST", "/v1/inspect", "board", "Bearer 0123456789abcdef", 10, 400 },
        { "GET", "/v1/boards", "x=1", "Bearer 0123456789abcdef", 0, 400 },
    };
    ServeLimits limits = { .token = "0123456789abcdef", .max_body = 1000 };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const RequestCase *c = &cases[i];
        ServeRequest req;
        g_autofree char *why = NULL;
        guint status = serve_request_parse(c->method, c->path, c->query, c->auth, c->length,
                                           &limits, &req, &why);
        g_test_message("case %u: %s %s?%s -> %u (%s)", i, c->method, c->path,
                       c->query ? c->query : "", status, why ? why : "ok");
        g_assert_cmpuint(status, ==, c->status);
        g_assert_true((status == 0) == (why == NULL));
    }
    ServeRequest req;
    g_autofree char *why = NULL;
    g_assert_cmpuint(serve_request_parse("POST", "/v1/inspect", "unit=SN%2D7&board=demo",
                                         "Bearer 0123456789abcdef", 5, &limits, &req, &why),
                     ==, 0);
    g_assert_cmpint(req.route, ==, SERVE_ROUTE_INSPECT);
    g_assert_cmpstr(req.board, ==, "demo");
    g_assert_cmpstr(req.unit, ==, "SN-7");
}

static void
add_finding(PcbInspection *insp, PcbKind kind, double x, double y, double w, double h, double score,
            const char *zone)
{
    PcbFinding f = { .kind = kind,
                     .bbox = { x, y, w, h },
                     .area_px = w * h,
                     .area_mm2 = -1,
                     .score = score,
                     .peak = 9.5,
                     .zone = g_strdup(zone) };
    g_array_append_val(insp->findings, f);
}

static JsonObject *
parse(JsonParser *parser, const char *json)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(parser, json, -1, &error));
    g_assert_no_error(error);
    return json_node_get_object(json_parser_get_root(parser));
}

/* The first InspectedUnits entry of the envelope @json. */
static JsonObject *
unit_of(JsonParser *parser, const char *json)
{
    JsonObject *env = parse(parser, json);
    return json_array_get_object_element(
        json_object_get_array_member(json_object_get_object_member(env, "MessageBody"),
                                     "InspectedUnits"),
        0);
}

/* @unit's result is Error, it has @count inspections, and the last is named @name with an Error
 * that contains @needle (what was not judged and why). */
static void
assert_not_judged(JsonObject *unit, guint count, const char *name, const char *needle)
{
    g_assert_cmpstr(json_object_get_string_member(unit, "OverallResult"), ==, "Error");
    JsonArray *inspections = json_object_get_array_member(unit, "Inspections");
    g_assert_cmpuint(json_array_get_length(inspections), ==, count);
    JsonObject *last = json_array_get_object_element(inspections, count - 1);
    g_assert_cmpstr(json_object_get_string_member(last, "InspectionName"), ==, name);
    g_assert_cmpstr(json_object_get_string_member(last, "Result"), ==, "Error");
    g_assert_nonnull(strstr(json_object_get_string_member(last, "Error"), needle));
}

static char *
envelope(PcbInspection *insp, const GError *failure)
{
    g_autoptr(GDateTime) t = g_date_time_new_utc(2026, 12, 6, 3, 0, 0);
    ServeCfxInfo info = { .source = "pcbdiff.serve.test",
                          .unique_id = "3f0c8a52-8b1e-4f7e-9a51-0d9b2f4c6e11",
                          .transaction_id = "5b9e1c0d-2a4f-4c3b-8e6d-7f1a2b3c4d5e",
                          .board = "demo",
                          .unit = "SN-1",
                          .time = t };
    return serve_cfx_envelope(insp, failure, &info);
}

static void
test_cfx_failed_unit(void)
{
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    insp->px_per_mm = 8;
    add_finding(insp, PCB_KIND_ADDED, 400, 320, 16, 8, 0.934, "BMC");
    add_finding(insp, PCB_KIND_REMOVED, 80, 40, 24, 24, 0.002, NULL);
    g_autofree char *json = envelope(insp, NULL);
    /* the SDK's serialiser writes the body's type first */
    g_assert_nonnull(strstr(json, "\"MessageBody\":{\"$type\":\"CFX.Production.TestAndInspection."
                                  "UnitsInspected, CFX\""));
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *env = parse(parser, json);
    g_assert_cmpstr(json_object_get_string_member(env, "MessageName"), ==,
                    "CFX.Production.TestAndInspection.UnitsInspected");
    g_assert_cmpstr(json_object_get_string_member(env, "Version"), ==, SERVE_CFX_VERSION);
    g_assert_cmpstr(json_object_get_string_member(env, "TimeStamp"), ==, "2026-12-06T03:00:00Z");
    g_assert_cmpstr(json_object_get_string_member(env, "UniqueID"), ==,
                    "3f0c8a52-8b1e-4f7e-9a51-0d9b2f4c6e11");
    JsonObject *body = json_object_get_object_member(env, "MessageBody");
    g_assert_cmpstr(json_object_get_string_member(body, "InspectionMethod"), ==, "AOI");
    g_assert_cmpstr(json_object_get_string_member(body, "RecipeName"), ==, "demo");
    JsonObject *unit
        = json_array_get_object_element(json_object_get_array_member(body, "InspectedUnits"), 0);
    g_assert_cmpstr(json_object_get_string_member(unit, "UnitIdentifier"), ==, "SN-1");
    g_assert_cmpstr(json_object_get_string_member(unit, "OverallResult"), ==, "Failed");
    JsonArray *inspections = json_object_get_array_member(unit, "Inspections");
    g_assert_cmpuint(json_array_get_length(inspections), ==, 1);
    JsonObject *tamper = json_array_get_object_element(inspections, 0);
    g_assert_cmpstr(json_object_get_string_member(tamper, "Result"), ==, "Failed");
    JsonArray *defects = json_object_get_array_member(tamper, "DefectsFound");
    g_assert_cmpuint(json_array_get_length(defects), ==, 2);

    JsonObject *d0 = json_array_get_object_element(defects, 0);
    g_assert_cmpstr(json_object_get_string_member(d0, "DefectCode"), ==, "EXTRA");
    g_assert_cmpint(json_object_get_int_member(d0, "Priority"), ==, 1);
    g_assert_cmpfloat(json_object_get_double_member(d0, "ConfidenceLevel"), ==, 93.0);
    g_assert_cmpstr(
        json_object_get_string_member(json_object_get_object_member(d0, "ComponentOfInterest"),
                                      "ReferenceDesignator"),
        ==, "BMC");
    /* the box in board mm (8 px/mm): (50, 40) .. (52, 41), a closed polygon */
    JsonObject *roi = json_object_get_object_member(d0, "RegionOfInterest");
    g_assert_cmpfloat(json_object_get_double_member(roi, "StartPointX"), ==, 50.0);
    g_assert_cmpfloat(json_object_get_double_member(roi, "StartPointY"), ==, 40.0);
    JsonArray *seg = json_object_get_array_member(roi, "RegionSegments");
    g_assert_cmpuint(json_array_get_length(seg), ==, 4);
    JsonObject *far = json_array_get_object_element(seg, 1),
               *last = json_array_get_object_element(seg, 3);
    g_assert_cmpfloat(json_object_get_double_member(far, "X"), ==, 52.0);
    g_assert_cmpfloat(json_object_get_double_member(far, "Y"), ==, 41.0);
    g_assert_cmpfloat(json_object_get_double_member(last, "X"), ==, 50.0);
    g_assert_cmpfloat(json_object_get_double_member(last, "Y"), ==, 40.0);

    JsonObject *d1 = json_array_get_object_element(defects, 1);
    g_assert_cmpstr(json_object_get_string_member(d1, "DefectCode"), ==, "MISSING");
    g_assert_cmpint(json_object_get_int_member(d1, "Priority"), ==, 2);
    g_assert_cmpfloat(json_object_get_double_member(d1, "ConfidenceLevel"), ==, 1.0); /* 1-100 */
    g_assert_true(json_object_get_null_member(d1, "ComponentOfInterest"));
    g_assert_cmpstr(json_object_get_string_member(d0, "UniqueIdentifier"), !=,
                    json_object_get_string_member(d1, "UniqueIdentifier"));

    /* the same message made again is the same message (a re-sent one is a duplicate) */
    g_autofree char *again = envelope(insp, NULL);
    g_assert_cmpstr(json, ==, again);
}

static void
test_cfx_no_scale_incomplete(void)
{
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    PcbZoneJudgement z
        = { .name = g_strdup("SPI flash"), .judged = FALSE, .why = g_strdup("too foreshortened") };
    g_array_append_val(insp->zones, z);
    g_autofree char *json = envelope(insp, NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *unit = unit_of(parser, json);
    assert_not_judged(unit, 2, "pcbdiff.zone.SPI flash", "too foreshortened");

    /* the whole board not judged (under another light): one more, named pcbdiff.board */
    insp->light_change = 6.0;
    insp->light_differs = TRUE;
    pcb_light_judge(insp, FALSE);
    g_autofree char *json3 = envelope(insp, NULL);
    g_autoptr(JsonParser) parser3 = json_parser_new();
    assert_not_judged(unit_of(parser3, json3), 3, "pcbdiff.board",
                      "the board not judged: the light differs from the golden's (6.0x");
    insp->light_differs = FALSE;
    pcb_light_judge(insp, FALSE);

    /* without a scale a defect has no region in mm, and says where it is in pixels */
    g_array_set_size(insp->zones, 0);
    add_finding(insp, PCB_KIND_ALTERED, 10, 20, 30, 40, 0.5, NULL);
    g_autofree char *json2 = envelope(insp, NULL);
    g_autoptr(JsonParser) parser2 = json_parser_new();
    unit = unit_of(parser2, json2);
    JsonObject *d = json_array_get_object_element(
        json_object_get_array_member(
            json_array_get_object_element(json_object_get_array_member(unit, "Inspections"), 0),
            "DefectsFound"),
        0);
    g_assert_cmpstr(json_object_get_string_member(d, "DefectCode"), ==, "ALTERED");
    g_assert_true(json_object_get_null_member(d, "RegionOfInterest"));
    g_assert_nonnull(strstr(json_object_get_string_member(d, "Description"), "px"));
}

static void
test_cfx_not_registered(void)
{
    g_autoptr(PcbInspection) insp = pcb_inspection_new();
    insp->photo_sha256 = g_strdup("ab12");
    g_autoptr(GError) failure
        = g_error_new_literal(PCB_ERROR, PCB_ERROR_REGISTER, "registration too weak");
    g_autoptr(GDateTime) t = g_date_time_new_utc(2026, 12, 6, 3, 0, 0);
    ServeCfxInfo info = { .source = "pcbdiff.serve.test",
                          .unique_id = "u",
                          .transaction_id = "t",
                          .board = "demo",
                          .unit = NULL, /* the photo's hash stands in */
                          .time = t };
    g_autofree char *json = serve_cfx_envelope(insp, failure, &info);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *unit = unit_of(parser, json);
    g_assert_cmpstr(json_object_get_string_member(unit, "UnitIdentifier"), ==, "ab12");
    g_assert_cmpstr(json_object_get_string_member(unit, "OverallResult"), ==, "Error");
    JsonObject *tamper
        = json_array_get_object_element(json_object_get_array_member(unit, "Inspections"), 0);
    g_assert_cmpstr(json_object_get_string_member(tamper, "Error"), ==, "registration too weak");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(tamper, "DefectsFound")),
                     ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/serve/request/statuses", test_request_statuses);
    g_test_add_func("/serve/cfx/failed-unit", test_cfx_failed_unit);
    g_test_add_func("/serve/cfx/no-scale-incomplete", test_cfx_no_scale_incomplete);
    g_test_add_func("/serve/cfx/not-registered", test_cfx_not_registered);
    return g_test_run();
}
