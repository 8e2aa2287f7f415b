/* pcbdiff parameters: every tunable of every stage, declared once.
 *
 * Each stage declares its tunables in one table (src/register/params.c, src/diff/params.c,
 * src/findings/params.c, src/inspect/params.c): key, type, default, range and a one-line meaning.
 * That table is the only place a default or a range is written. It fills the stage's
 * *_params_init(), checks board.ini's [register], [diff] and [findings] groups and `--set
 * KEY=VALUE` on the command line, and prints `pcbdiff params` (text, Markdown for the README,
 * JSON).
 *
 *     PcbInspectParams p;
 *     pcb_inspect_params_init(&p);                         // the table's defaults
 *     if (!pcb_board_apply_params(board, &p, &error)      // board.ini overrides
 *         || !pcb_inspect_params_set(&p, "diff.tolerance-px", "1.5", &error))   // then --set
 *         ...                                              // PCB_ERROR_USAGE names key and range
 *
 * Keys are "GROUP.NAME": GROUP is register, diff, findings or inspect.
 * Thread safety: the tables are constant; every function here is reentrant.
 */
#ifndef PCBDIFF_PARAMS_H
#define PCBDIFF_PARAMS_H

#include "pcbdiff/api.h"

#include <stddef.h>
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    PCB_PARAM_BOOL,   /* gboolean; written true/false (also yes/no, on/off, 1/0) */
    PCB_PARAM_INT,    /* int */
    PCB_PARAM_UINT32, /* guint32 */
    PCB_PARAM_DOUBLE, /* double */
} PcbParamType;

typedef struct {
    const char *group;    /* "register", "diff", "findings", "inspect" */
    const char *name;     /* within the group, e.g. "tolerance-px" */
    PcbParamType type;    /* of the field */
    size_t offset;        /* of the field in the group's struct (PcbRegisterParams, ...) */
    double def, min, max; /* default and inclusive range (a bool: 0 .. 1) */
    const char *meaning;  /* one line */
} PcbParamSpec;

/* How many parameters there are, and the @i-th (grouped by stage in pipeline order; NULL when
 * @i >= pcb_param_count()). The specs are static: never freed. */
PCB_API guint pcb_param_count(void);
PCB_API const PcbParamSpec *pcb_param_nth(guint i);

/* The parameter called @key ("diff.tolerance-px"), or NULL. */
PCB_API const PcbParamSpec *pcb_param_lookup(const char *key);

/* "group.name" of @spec: a newly allocated string (g_free). */
PCB_API char *pcb_param_key(const PcbParamSpec *spec);

/* @value written as the table writes values ("true", "1024", "0.0833333"): g_free it. */
PCB_API char *pcb_param_format(const PcbParamSpec *spec, double value);

/* Parses @text as a value of @spec and checks its range. FALSE with PCB_ERROR_USAGE and a
 * message "KEY: REASON (TYPE, MIN .. MAX)" otherwise. */
PCB_API gboolean pcb_param_parse(const PcbParamSpec *spec, const char *text, double *value,
                                 GError **error);

/* Writes @value (already parsed and checked) into the group's struct at @group_struct. */
PCB_API void pcb_param_store(const PcbParamSpec *spec, void *group_struct, double value);

/* Reads the value of @spec from the group's struct at @group_struct. */
PCB_API double pcb_param_load(const PcbParamSpec *spec, const void *group_struct);

/* Sets every parameter of the @n specs (one group's table) to its default in @group_struct. */
PCB_API void pcb_param_defaults(const PcbParamSpec *specs, guint n, void *group_struct);

G_END_DECLS

#endif
