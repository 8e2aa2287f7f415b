/* pcbdiff findings: connected regions of difference, classified and scored. */
#ifndef PCBDIFF_FINDINGS_H
#define PCBDIFF_FINDINGS_H

#include "pcbdiff/api.h"

#include <glib.h>
#include "pcbdiff/board.h"
#include "pcbdiff/diff.h"
#include "pcbdiff/register.h"

G_BEGIN_DECLS

typedef enum {
    PCB_KIND_ADDED,   /* something stands where the reference shows bare board */
    PCB_KIND_REMOVED, /* a part of the reference is gone */
    PCB_KIND_ALTERED, /* a part is in both but differs */
} PcbKind;

PCB_API const char *pcb_kind_name(PcbKind kind);

typedef struct {
    PcbKind kind;
    PcbRect bbox;    /* reference pixels */
    double area_px;  /* changed area, reference pixels */
    double area_mm2; /* changed area in mm^2, or a negative value when the scale is unknown */
    double score;    /* confidence in [0, 1] */
    double peak;     /* strongest difference, in noise sigmas */
    char *zone;      /* name of the board zone it falls in, or NULL */
} PcbFinding;

/* Frees what @finding owns (its zone string); the GArray of findings does it for each. */
PCB_API void pcb_finding_clear(PcbFinding *finding);

/* The findings stage's tunables; defaults and ranges in src/findings/params.c (pcbdiff params). */
typedef struct {
    double sensitivity;     /* divides high_sigma and low_sigma: higher finds fainter changes */
    double high_sigma;      /* a region must reach this (noise sigmas) somewhere */
    double low_sigma;       /* and grows over pixels above this */
    double min_area_mm2;    /* smallest finding when the scale is known */
    double min_area_px;     /* smallest finding otherwise (reference px) */
    double min_side_px;     /* a finding's box is at least this wide and tall (working px) */
    double bridge_px;       /* a region too small for a finding grows over gaps below this, px */
    double merge_mm;        /* fragments closer than this merge (mm; px/4 when no scale) */
    double min_unexplained; /* a finding must keep at least this share of its difference
                               after a local affine change of light is fitted (0 = off) */
    double max_shift_px;    /* a region that a local shift of the photo by up to this much
                               (reference px, tried in whole working px) explains is dropped,
                               one it explains in part is cut down to the rest (0 = off) */
    double light_changed;   /* the light differs when the map's light_change reaches this
                               (0 = never) ... */
    double min_material;    /* ... and then a finding needs this share of its changed pixels
                               bare board in one image only (a part put on or taken off) */
} PcbFindingsParams;

PCB_API void pcb_findings_params_init(PcbFindingsParams *params);

/* Whether the light on the parts differs between the golden and the photo (@map's
 * light_change reaches @params->light_changed): then findings judge only parts put on or taken
 * off the board. @params NULL means the defaults. */
PCB_API gboolean pcb_findings_light_differs(const PcbDiffMap *map, const PcbFindingsParams *params);

/* Returns a new GArray of PcbFinding (g_array_unref() it: its clear func frees each finding's
 * zone), sorted by score, highest first; NULL with PCB_ERROR_BACKEND or PCB_ERROR_LIMIT.
 * @board (optional) supplies zones and their sensitivity; @px_per_mm <= 0 means unknown;
 * @parallax (optional: NULL or not valid means a flat scene) is the registration's parallax
 * field: a region that the same structure displaced along it explains is no finding;
 * @params NULL means the defaults. @map is only read. */
PCB_API GArray *pcb_findings_extract(const PcbDiffMap *map, const PcbBoard *board, double px_per_mm,
                                     const PcbParallax *parallax, const PcbFindingsParams *params,
                                     GError **error);

G_END_DECLS

#endif
