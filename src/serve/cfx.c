/* pcbdiff serve: IPC-CFX UnitsInspected envelopes (see cfx.h).
 *
 * Field names, enum values (TestResult Passed/Failed/Error, InspectionMethod AOI) and the
 * envelope were checked against the IPC-CFX SDK (CFX/CFXEnvelope.cs, CFX/Production/
 * TestAndInspection/UnitsInspected.cs, CFX/Structures/{InspectedUnit,Inspection,Defect,Region,
 * Segment,ComponentDesignator}.cs). The SDK serialises MessageBody, declared object, with
 * TypeNameHandling.Auto, so the body carries "$type": "<full class name>, CFX" first. */
#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include "serve/cfx.h"

const char *
serve_cfx_result(const PcbInspection *insp, const GError *failure)
{
    if (failure != NULL)
        return "Error";
    if (insp->findings != NULL && insp->findings->len > 0)
        return "Failed";
    if (strcmp(pcb_inspection_verdict(insp), "pass") == 0)
        return "Passed";
    return "Error"; /* incomplete: a zone, or the board, could not be judged */
}

static const char *
defect_code(PcbKind kind)
{
    switch (kind) {
    case PCB_KIND_ADDED:
        return "EXTRA";
    case PCB_KIND_REMOVED:
        return "MISSING";
    case PCB_KIND_ALTERED:
        return "ALTERED";
    }
    return "ALTERED";
}

/* DefectCategory: one of the SDK's suggested values (Defect.cs) */
static const char *
defect_category(PcbKind kind)
{
    switch (kind) {
    case PCB_KIND_ADDED:
        return "Miscellaneous";
    case PCB_KIND_REMOVED:
        return "ComponentMissing";
    case PCB_KIND_ALTERED:
        return "WrongComponent";
    }
    return "Miscellaneous";
}

static void
member_string(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value != NULL)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
member_null(JsonBuilder *b, const char *name)
{
    json_builder_set_member_name(b, name);
    json_builder_add_null_value(b);
}

static void
member_empty_array(JsonBuilder *b, const char *name)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    json_builder_end_array(b);
}

static double
mm(double px, double px_per_mm)
{
    return round(px / px_per_mm * 1000.0) / 1000.0; /* micrometre steps */
}

/* A defect's identifier: derived from the message's, so a re-sent message is the same message */
static char *
defect_id(const char *unique_id, guint index)
{
    g_autofree char *seed = g_strdup_printf("%s/defect/%u", unique_id, index);
    g_autofree char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, seed, -1);
    return g_strdup_printf("%.8s-%.4s-5%.3s-%c%.3s-%.12s", hex, hex + 8, hex + 13,
                           "89ab"[g_ascii_xdigit_value(hex[16]) & 3], hex + 17, hex + 20);
}

static void
add_defect(JsonBuilder *b, const PcbFinding *f, guint index, const ServeCfxInfo *info,
           double px_per_mm)
{
    json_builder_begin_object(b);
    g_autofree char *id = defect_id(info->unique_id, index);
    member_string(b, "UniqueIdentifier", id);
    member_string(b, "DefectCode", defect_code(f->kind));
    member_string(b, "DefectCategory", defect_category(f->kind));
    g_autofree char *where = NULL;
    if (px_per_mm > 0)
        where
            = g_strdup_printf("%.1f x %.1f mm at (%.1f, %.1f) mm", f->bbox.w / px_per_mm,
                              f->bbox.h / px_per_mm, f->bbox.x / px_per_mm, f->bbox.y / px_per_mm);
    else
        where = g_strdup_printf("%.0f x %.0f px at (%.0f, %.0f) reference px", f->bbox.w, f->bbox.h,
                                f->bbox.x, f->bbox.y);
    g_autofree char *desc
        = g_strdup_printf("%s: %s%s%s, %.1f sigma", pcb_kind_name(f->kind), where,
                          f->zone ? " in zone " : "", f->zone ? f->zone : "", f->peak);
    member_string(b, "Description", desc);
    member_null(b, "Comments");
    json_builder_set_member_name(b, "ComponentOfInterest");
    if (f->zone != NULL) {
        json_builder_begin_object(b);
        member_string(b, "ReferenceDesignator", f->zone);
        member_null(b, "UnitPosition");
        member_null(b, "PartNumber");
        json_builder_end_object(b);
    }
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "RegionOfInterest");
    if (px_per_mm > 0) {
        double x0 = mm(f->bbox.x, px_per_mm), y0 = mm(f->bbox.y, px_per_mm);
        double x1 = mm(f->bbox.x + f->bbox.w, px_per_mm), y1 = mm(f->bbox.y + f->bbox.h, px_per_mm);
        const double pts[4][2] = { { x1, y0 }, { x1, y1 }, { x0, y1 }, { x0, y0 } };
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "StartPointX");
        json_builder_add_double_value(b, x0);
        json_builder_set_member_name(b, "StartPointY");
        json_builder_add_double_value(b, y0);
        json_builder_set_member_name(b, "RegionSegments");
        json_builder_begin_array(b);
        for (int i = 0; i < 4; i++) {
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "X");
            json_builder_add_double_value(b, pts[i][0]);
            json_builder_set_member_name(b, "Y");
            json_builder_add_double_value(b, pts[i][1]);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
    else
        json_builder_add_null_value(b);
    member_empty_array(b, "DefectImages");
    json_builder_set_member_name(b, "Priority");
    json_builder_add_int_value(b, index + 1); /* findings come sorted by score, highest first */
    json_builder_set_member_name(b, "ConfidenceLevel");
    json_builder_add_double_value(b, CLAMP(round(f->score * 100.0), 1.0, 100.0));
    member_empty_array(b, "RelatedMeasurements");
    member_empty_array(b, "RelatedSymptoms");
    member_string(b, "Verification", "NotVerifiedYet");
    member_null(b, "VerificationDetail");
    json_builder_end_object(b);
}

static void
begin_inspection(JsonBuilder *b, const char *unique_id, const char *name, const char *result,
                 const char *error)
{
    json_builder_begin_object(b);
    g_autofree char *seed = g_strdup_printf("%s/%s", unique_id, name);
    g_autofree char *id = defect_id(seed, 0);
    member_string(b, "UniqueIdentifier", id);
    member_string(b, "InspectionName", name);
    member_null(b, "InspectionStartTime");
    member_null(b, "InspectionEndTime");
    member_string(b, "TestProcedure", "pcbdiff " PCBDIFF_VERSION);
    member_null(b, "Comments");
    member_string(b, "Result", result);
    member_string(b, "Verification", "NotVerifiedYet");
    member_null(b, "VerificationDetail");
    member_string(b, "Error", error);
}

static void
end_inspection(JsonBuilder *b)
{
    member_null(b, "Symptoms");
    member_empty_array(b, "Measurements");
    json_builder_end_object(b);
}

char *
serve_cfx_envelope(const PcbInspection *insp, const GError *failure, const ServeCfxInfo *info)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *stamp = g_date_time_format_iso8601(info->time);
    const char *result = serve_cfx_result(insp, failure);
    const char *unit = info->unit != NULL && *info->unit != '\0' ? info->unit : insp->photo_sha256;

    json_builder_begin_object(b);
    member_string(b, "MessageName", SERVE_CFX_MESSAGE);
    member_string(b, "Version", SERVE_CFX_VERSION);
    member_string(b, "TimeStamp", stamp);
    member_string(b, "UniqueID", info->unique_id);
    member_string(b, "Source", info->source);
    member_null(b, "Target");
    member_null(b, "RequestID");
    json_builder_set_member_name(b, "MessageBody");
    json_builder_begin_object(b);
    member_string(b, "$type", SERVE_CFX_MESSAGE ", CFX");
    member_string(b, "TransactionId", info->transaction_id);
    member_string(b, "InspectionMethod", "AOI");
    member_null(b, "SamplingInformation");
    member_null(b, "Inspector");
    member_string(b, "RecipeName", info->board);
    member_null(b, "RecipeRevision");
    json_builder_set_member_name(b, "InspectedUnits");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    member_string(b, "UnitIdentifier", unit);
    json_builder_set_member_name(b, "UnitPositionNumber");
    json_builder_add_int_value(b, 1);
    member_string(b, "OverallResult", result);
    json_builder_set_member_name(b, "Inspections");
    json_builder_begin_array(b);

    /* the whole board against its golden */
    const char *main_result = failure != NULL                                     ? "Error"
                              : insp->findings != NULL && insp->findings->len > 0 ? "Failed"
                                                                                  : "Passed";
    begin_inspection(b, info->unique_id, "pcbdiff.tamper", main_result,
                     failure != NULL ? failure->message : NULL);
    json_builder_set_member_name(b, "DefectsFound");
    json_builder_begin_array(b);
    if (failure == NULL && insp->findings != NULL)
        for (guint i = 0; i < insp->findings->len; i++)
            add_defect(b, &g_array_index(insp->findings, PcbFinding, i), i, info, insp->px_per_mm);
    json_builder_end_array(b);
    end_inspection(b);

    /* each zone that could not be judged from the photo */
    if (failure == NULL && insp->zones != NULL)
        for (guint i = 0; i < insp->zones->len; i++) {
            const PcbZoneJudgement *z = &g_array_index(insp->zones, PcbZoneJudgement, i);
            if (z->judged)
                continue;
            g_autofree char *name = g_strdup_printf("pcbdiff.zone.%s", z->name);
            g_autofree char *why
                = g_strdup_printf("zone %s not judged: %s", z->name, z->why ? z->why : "unknown");
            begin_inspection(b, info->unique_id, name, "Error", why);
            member_empty_array(b, "DefectsFound");
            end_inspection(b);
        }
    /* the board as a whole, when it could not be judged from this pose or under this light */
    const char *board_why[] = { insp->pose_why, insp->light_why };
    for (size_t i = 0; failure == NULL && i < G_N_ELEMENTS(board_why); i++)
        if (board_why[i] != NULL) {
            g_autofree char *why = g_strdup_printf("the board not judged: %s", board_why[i]);
            begin_inspection(b, info->unique_id, "pcbdiff.board", "Error", why);
            member_empty_array(b, "DefectsFound");
            end_inspection(b);
        }
    json_builder_end_array(b); /* Inspections */
    member_string(b, "Verification", "NotVerifiedYet");
    json_builder_set_member_name(b, "TotalInspectionCount");
    json_builder_add_null_value(b);
    json_builder_end_object(b);
    json_builder_end_array(b); /* InspectedUnits */
    member_null(b, "InspectedPanel");
    json_builder_end_object(b); /* MessageBody */
    json_builder_end_object(b);

    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}
