/* The inspection's own tunables, and every stage's table listed in pipeline order: lookup,
 * setting from text, range checks. */
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/inspect.h"
#include "core/param_tables.h"

#define P(...) PCB_PARAM_ROW("inspect", PcbInspectParams, __VA_ARGS__)

const PcbParamSpec pcb_inspect_param_specs[] = {
    P("px-per-mm", DOUBLE, px_per_mm, 0, 0, 10000,
      "reference scale, px per mm, over the board profile's (0: the profile's, or unknown)"),
    P("scaled-decode", BOOL, scaled_decode, 0, 0, 1,
      "coarse copies from DCT-scaled JPEG decodes instead of reducing the full decode"),
    P("max-tilt-deg", DOUBLE, max_tilt_deg, 10, 0, 90,
      "a photo seen more than this from the golden's view is not judged whole: tall parts hide "
      "and show the board otherwise (0: never)"),
    P("judge-other-light", BOOL, judge_other_light, 0, 0, 1,
      "a photo under another light than the golden's is judged whole (its verdict can be pass); "
      "off: at best incomplete, since implants in its shade may be missed"),
};
const guint pcb_inspect_param_count = G_N_ELEMENTS(pcb_inspect_param_specs);

typedef struct {
    const PcbParamSpec *specs;
    const guint *count;
    size_t base; /* of the group's struct in PcbInspectParams */
} Group;

static const Group groups[] = {
    { pcb_register_param_specs, &pcb_register_param_count, offsetof(PcbInspectParams, reg) },
    { pcb_diff_param_specs, &pcb_diff_param_count, offsetof(PcbInspectParams, diff) },
    { pcb_findings_param_specs, &pcb_findings_param_count, offsetof(PcbInspectParams, find) },
    { pcb_inspect_param_specs, &pcb_inspect_param_count, 0 },
};

guint
pcb_param_count(void)
{
    guint n = 0;
    for (size_t g = 0; g < G_N_ELEMENTS(groups); g++)
        n += *groups[g].count;
    return n;
}

/* The @i-th spec and the offset of its group's struct, or NULL. */
static const PcbParamSpec *
nth(guint i, size_t *base)
{
    for (size_t g = 0; g < G_N_ELEMENTS(groups); g++) {
        if (i < *groups[g].count) {
            if (base != NULL)
                *base = groups[g].base;
            return &groups[g].specs[i];
        }
        i -= *groups[g].count;
    }
    return NULL;
}

const PcbParamSpec *
pcb_param_nth(guint i)
{
    return nth(i, NULL);
}

/* The spec of @key and its group's offset, or NULL. */
static const PcbParamSpec *
lookup(const char *key, size_t *base)
{
    const char *dot = key != NULL ? strchr(key, '.') : NULL;
    if (dot == NULL)
        return NULL;
    for (guint i = 0; i < pcb_param_count(); i++) {
        const PcbParamSpec *s = nth(i, base);
        if (strlen(s->group) == (size_t) (dot - key) && strncmp(s->group, key, dot - key) == 0
            && strcmp(s->name, dot + 1) == 0)
            return s;
    }
    return NULL;
}

const PcbParamSpec *
pcb_param_lookup(const char *key)
{
    return lookup(key, NULL);
}

void
pcb_inspect_params_init(PcbInspectParams *p)
{
    memset(p, 0, sizeof *p);
    pcb_register_params_init(&p->reg);
    pcb_diff_params_init(&p->diff);
    pcb_findings_params_init(&p->find);
    pcb_param_defaults(pcb_inspect_param_specs, pcb_inspect_param_count, p);
    p->keep_images = FALSE;
    p->stop_after = PCB_STOP_AFTER_FINDINGS;
}

gboolean
pcb_inspect_params_set(PcbInspectParams *params, const char *key, const char *value, GError **error)
{
    size_t base = 0;
    const PcbParamSpec *spec = lookup(key, &base);
    if (spec == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "unknown parameter \"%s\" (pcbdiff params lists them)", key ? key : "");
        return FALSE;
    }
    double v;
    if (!pcb_param_parse(spec, value, &v, error))
        return FALSE;
    pcb_param_store(spec, (char *) params + base, v);
    return TRUE;
}

/* The offset of @spec's group struct in PcbInspectParams, or -1 for a foreign spec. */
static gssize
base_of(const PcbParamSpec *spec)
{
    for (guint i = 0; i < pcb_param_count(); i++) {
        size_t base = 0;
        if (nth(i, &base) == spec)
            return (gssize) base;
    }
    return -1;
}

double
pcb_inspect_params_get(const PcbInspectParams *params, const PcbParamSpec *spec)
{
    gssize base = base_of(spec);
    g_return_val_if_fail(base >= 0, 0);
    return pcb_param_load(spec, (const char *) params + base);
}

void
pcb_inspect_params_put(PcbInspectParams *params, const PcbParamSpec *spec, double value)
{
    gssize base = base_of(spec);
    g_return_if_fail(base >= 0);
    pcb_param_store(spec, (char *) params + base, value);
}

gboolean
pcb_inspect_params_check(const PcbInspectParams *params, GError **error)
{
    for (guint i = 0; i < pcb_param_count(); i++) {
        size_t base = 0;
        const PcbParamSpec *s = nth(i, &base);
        double v = pcb_param_load(s, (const char *) params + base);
        if (v < s->min || v > s->max) {
            g_autofree char *key = pcb_param_key(s);
            g_autofree char *text = pcb_param_format(s, v);
            g_autofree char *lo = pcb_param_format(s, s->min);
            g_autofree char *hi = pcb_param_format(s, s->max);
            g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: %s is out of range (%s .. %s)", key,
                        text, lo, hi);
            return FALSE;
        }
    }
    if (params->find.low_sigma > params->find.high_sigma) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE,
                    "findings.low-sigma (%g) must not exceed findings.high-sigma (%g)",
                    params->find.low_sigma, params->find.high_sigma);
        return FALSE;
    }
    return TRUE;
}
