/* libFuzzer harness: the decisions reader (`pcbdiff decide`, pcb_report_apply_decisions) on
 * arbitrary text. An input without a NUL byte is a decisions file applied to a fixed report
 * with three findings; an input with one is REPORT NUL DECISIONS, so the report side is fuzzed
 * too. Any input must give a decided report or a one-line GError, never a crash, a leak or
 * undefined behaviour; a decided report must parse, count every finding once, and take the same
 * decisions again to the same text (applying is idempotent). */
#include <stdint.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include "pcbdiff/pcbdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SHA "4b7e5ef3c1a0d2e9f8b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4"

static const char fixed_report[]
    = "{\"version\": 1, \"verdict\": \"fail\",\n"
      " \"inputs\": {\"reference\": {\"path\": \"golden.png\"},\n"
      "            \"photo\": {\"path\": \"photo.jpg\", \"sha256\": \"" SHA "\"}},\n"
      " \"findings\": [{\"kind\": \"added\", \"score\": 0.9},\n"
      "              {\"kind\": \"removed\", \"score\": 0.5},\n"
      "              {\"kind\": \"altered\", \"score\": 0.2}]}\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) /* the reader's cost grows with the text; big inputs add nothing */
        return 0;
    const uint8_t *nul = memchr(data, '\0', size);
    g_autofree char *report = NULL, *decisions = NULL;
    if (nul == NULL) {
        report = g_strdup(fixed_report);
        decisions = g_strndup((const char *) data, size);
    }
    else {
        report = g_strndup((const char *) data, (gsize) (nul - data));
        decisions = g_strndup((const char *) nul + 1, size - (gsize) (nul - data) - 1);
    }
    int counts[PCB_VERIFICATION_COUNT];
    GError *error = NULL;
    char *decided = pcb_report_apply_decisions(report, decisions, counts, &error);
    if (decided == NULL) {
        g_assert(error != NULL && error->domain == PCB_ERROR && error->code == PCB_ERROR_USAGE);
        g_assert(error->message != NULL && *error->message != '\0');
        g_clear_error(&error);
        return 0;
    }
    g_assert(error == NULL);

    /* the decided report parses and every finding took exactly one verification */
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert(json_parser_load_from_data(parser, decided, -1, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonArray *findings = json_object_get_array_member(root, "findings");
    int total = 0;
    for (int i = 0; i < PCB_VERIFICATION_COUNT; i++) {
        g_assert(counts[i] >= 0);
        total += counts[i];
    }
    g_assert(total == (int) json_array_get_length(findings));
    g_assert(json_object_has_member(root, "review"));

    /* the same decisions on the decided report: the same text */
    char *again = pcb_report_apply_decisions(decided, decisions, NULL, &error);
    g_assert(again != NULL && error == NULL);
    g_assert(strcmp(again, decided) == 0);
    g_free(again);
    g_free(decided);
    return 0;
}
