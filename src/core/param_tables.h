/* The stages' parameter tables (each defined in its stage folder), for src/inspect/params.c. */
#ifndef PCB_CORE_PARAM_TABLES_H
#define PCB_CORE_PARAM_TABLES_H

#include "pcbdiff/params.h"

/* One row of a stage's table: the field @field of the stage's struct @type, in group @group. */
#define PCB_PARAM_ROW(group, type, name, ptype, field, def, min, max, meaning)        \
    {                                                                                 \
        group, name, PCB_PARAM_##ptype, offsetof(type, field), def, min, max, meaning \
    }

extern const PcbParamSpec pcb_register_param_specs[];
extern const guint pcb_register_param_count;
extern const PcbParamSpec pcb_diff_param_specs[];
extern const guint pcb_diff_param_count;
extern const PcbParamSpec pcb_findings_param_specs[];
extern const guint pcb_findings_param_count;
extern const PcbParamSpec pcb_inspect_param_specs[];
extern const guint pcb_inspect_param_count;

#endif
