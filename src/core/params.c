/* Parameter values: parsing, range checks, reading and writing a field through its spec. The
 * tables themselves live with their stages; src/inspect/params.c lists them all. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/params.h"
#include "core/util.h"

/* as messages say it */
static const char *
type_name(PcbParamType type)
{
    switch (type) {
    case PCB_PARAM_BOOL:
        return "true or false";
    case PCB_PARAM_INT:
    case PCB_PARAM_UINT32:
        return "a whole number";
    case PCB_PARAM_DOUBLE:
        return "a number";
    }
    return "?";
}

char *
pcb_param_key(const PcbParamSpec *spec)
{
    return g_strdup_printf("%s.%s", spec->group, spec->name);
}

char *
pcb_param_format(const PcbParamSpec *spec, double value)
{
    if (spec->type == PCB_PARAM_BOOL)
        return g_strdup(value != 0 ? "true" : "false");
    if (spec->type != PCB_PARAM_DOUBLE)
        return g_strdup_printf("%.0f", value);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.6g", value));
}

static gboolean
parse_bool(const char *s, double *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1", NULL };
    static const char *const no[] = { "false", "no", "off", "0", NULL };
    for (int i = 0; yes[i] != NULL; i++) {
        if (g_ascii_strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return TRUE;
        }
        if (g_ascii_strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
pcb_parse_number(const char *s, gboolean whole, double *out)
{
    if (*s == '\0' || strspn(s, whole ? "0123456789+-" : "0123456789+-.eE") != strlen(s))
        return FALSE;
    char *end = NULL;
    double v = g_ascii_strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return FALSE;
    *out = v;
    return TRUE;
}

gboolean
pcb_param_parse(const PcbParamSpec *spec, const char *text, double *value, GError **error)
{
    g_autofree char *key = pcb_param_key(spec);
    g_autofree char *s = g_strstrip(g_strdup(text != NULL ? text : ""));
    g_autofree char *lo = pcb_param_format(spec, spec->min);
    g_autofree char *hi = pcb_param_format(spec, spec->max);
    double v = 0;
    gboolean ok = spec->type == PCB_PARAM_BOOL
                      ? parse_bool(s, &v)
                      : pcb_parse_number(s, spec->type != PCB_PARAM_DOUBLE, &v);
    if (!ok) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: \"%s\" is not %s (%s .. %s)", key, s,
                    type_name(spec->type), lo, hi);
        return FALSE;
    }
    if (v < spec->min || v > spec->max) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: %s is out of range (%s .. %s)", key, s,
                    lo, hi);
        return FALSE;
    }
    *value = v;
    return TRUE;
}

void
pcb_param_store(const PcbParamSpec *spec, void *group_struct, double value)
{
    char *field = (char *) group_struct + spec->offset;
    switch (spec->type) {
    case PCB_PARAM_BOOL: {
        gboolean b = value != 0;
        memcpy(field, &b, sizeof b);
        break;
    }
    case PCB_PARAM_INT: {
        int i = (int) value;
        memcpy(field, &i, sizeof i);
        break;
    }
    case PCB_PARAM_UINT32: {
        guint32 u = (guint32) value;
        memcpy(field, &u, sizeof u);
        break;
    }
    case PCB_PARAM_DOUBLE:
        memcpy(field, &value, sizeof value);
        break;
    }
}

double
pcb_param_load(const PcbParamSpec *spec, const void *group_struct)
{
    const char *field = (const char *) group_struct + spec->offset;
    switch (spec->type) {
    case PCB_PARAM_BOOL: {
        gboolean b;
        memcpy(&b, field, sizeof b);
        return b ? 1 : 0;
    }
    case PCB_PARAM_INT: {
        int i;
        memcpy(&i, field, sizeof i);
        return i;
    }
    case PCB_PARAM_UINT32: {
        guint32 u;
        memcpy(&u, field, sizeof u);
        return u;
    }
    case PCB_PARAM_DOUBLE: {
        double d;
        memcpy(&d, field, sizeof d);
        return d;
    }
    }
    return 0;
}

void
pcb_param_defaults(const PcbParamSpec *specs, guint n, void *group_struct)
{
    for (guint i = 0; i < n; i++)
        pcb_param_store(&specs[i], group_struct, specs[i].def);
}
