/* pcbdiff params: every tunable with its type, default, range and meaning, from the stages'
 * tables; as text, as the README's Markdown table, or as JSON. With --board or --set, also the
 * values an inspection would run with. */
#include <stdio.h>
#include <json-glib/json-glib.h>
#include "cli/cli.h"

typedef enum { OUT_TEXT, OUT_MARKDOWN, OUT_JSON } OutFormat;

static const char *
type_word(PcbParamType t)
{
    static const char *const words[] = { "bool", "int", "uint32", "number" };
    return words[t];
}

/* One parameter's row as text. */
typedef struct {
    char *key, *def, *range;
} Row;

static Row
row_of(const PcbParamSpec *s)
{
    g_autofree char *lo = pcb_param_format(s, s->min);
    g_autofree char *hi = pcb_param_format(s, s->max);
    return (Row){ pcb_param_key(s), pcb_param_format(s, s->def),
                  s->type == PCB_PARAM_BOOL ? g_strdup("false, true")
                                            : g_strdup_printf("%s .. %s", lo, hi) };
}

static void
row_clear(Row *r)
{
    g_free(r->key);
    g_free(r->def);
    g_free(r->range);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Row, row_clear)

static void
print_text(const PcbInspectParams *effective)
{
    printf("%-31s %-6s %-9s %-19s %s%s\n", "KEY", "TYPE", "DEFAULT", "RANGE",
           effective ? "VALUE     " : "", "MEANING");
    for (guint i = 0; i < pcb_param_count(); i++) {
        const PcbParamSpec *s = pcb_param_nth(i);
        g_auto(Row) r = row_of(s);
        printf("%-31s %-6s %-9s %-19s ", r.key, type_word(s->type), r.def, r.range);
        if (effective != NULL) {
            g_autofree char *value = pcb_param_format(s, pcb_inspect_params_get(effective, s));
            printf("%-10s", value);
        }
        printf("%s\n", s->meaning);
    }
}

static void
print_markdown(void)
{
    printf("| key | type | default | range | meaning |\n| --- | --- | --- | --- | --- |\n");
    for (guint i = 0; i < pcb_param_count(); i++) {
        const PcbParamSpec *s = pcb_param_nth(i);
        g_auto(Row) r = row_of(s);
        printf("| `%s` | %s | %s | %s | %s |\n", r.key, type_word(s->type), r.def, r.range,
               s->meaning);
    }
}

static void
add_value(JsonBuilder *b, const PcbParamSpec *s, const char *member, double v)
{
    json_builder_set_member_name(b, member);
    if (s->type == PCB_PARAM_BOOL)
        json_builder_add_boolean_value(b, v != 0);
    else if (s->type == PCB_PARAM_DOUBLE)
        json_builder_add_double_value(b, v);
    else
        json_builder_add_int_value(b, (gint64) v);
}

static void
print_json(const PcbInspectParams *effective)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "parameters");
    json_builder_begin_array(b);
    for (guint i = 0; i < pcb_param_count(); i++) {
        const PcbParamSpec *s = pcb_param_nth(i);
        g_autofree char *key = pcb_param_key(s);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "key");
        json_builder_add_string_value(b, key);
        json_builder_set_member_name(b, "type");
        json_builder_add_string_value(b, type_word(s->type));
        add_value(b, s, "default", s->def);
        add_value(b, s, "min", s->min);
        add_value(b, s, "max", s->max);
        if (effective != NULL)
            add_value(b, s, "value", pcb_inspect_params_get(effective, s));
        json_builder_set_member_name(b, "meaning");
        json_builder_add_string_value(b, s->meaning);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
}

int
cmd_params(int argc, char **argv)
{
    g_auto(CliParams) cp = { 0 };
    g_autofree char *board_dir = NULL;
    gboolean markdown = FALSE, json = FALSE;
    GOptionEntry entries[] = { { "board", 'b', 0, G_OPTION_ARG_FILENAME, &board_dir,
                                 "Also show the values with this board folder's overrides", "DIR" },
                               { "markdown", 0, 0, G_OPTION_ARG_NONE, &markdown,
                                 "The README's Markdown table (defaults and ranges)", NULL },
                               { "json", 0, 0, G_OPTION_ARG_NONE, &json, "JSON", NULL },
                               G_OPTION_ENTRY_NULL };
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_option_context_set_summary(ctx, "Lists every parameter: key, type, default, range and "
                                      "meaning. Set one with --set KEY=VALUE on inspect or in "
                                      "board.ini's [register], [diff] and [findings] groups.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, cli_params_group(&cp));
    g_autoptr(GError) error = NULL;
    if (!cli_parse(ctx, "params", &argc, &argv))
        return PCB_EXIT_TROUBLE;
    if (argc != 1 || (markdown && json)) {
        g_printerr("pcbdiff params: takes no arguments and at most one of --markdown, --json "
                   "(see pcbdiff params --help)\n");
        return PCB_EXIT_TROUBLE;
    }
    g_autoptr(PcbBoard) board = NULL;
    if (board_dir != NULL && (board = pcb_board_load(board_dir, &error)) == NULL)
        return cli_fail(error);
    gboolean with_values = board != NULL || cp.sets != NULL || cp.sensitivity != NULL
                           || cp.px_per_mm != NULL || cp.aligned;
    PcbInspectParams params;
    if (!cli_params_build(&cp, board, &params, &error))
        return cli_fail(error);
    if (markdown)
        print_markdown();
    else if (json)
        print_json(with_values ? &params : NULL);
    else
        print_text(with_values ? &params : NULL);
    return PCB_EXIT_PASS;
}
