/* pcbdiff inspection: the whole pipeline, load -> register -> difference -> findings. */
#ifndef PCBDIFF_INSPECT_H
#define PCBDIFF_INSPECT_H

#include <glib.h>
#include "pcbdiff/board.h"
#include "pcbdiff/diff.h"
#include "pcbdiff/findings.h"
#include "pcbdiff/register.h"

G_BEGIN_DECLS

typedef struct {
    PcbRegisterParams reg;
    PcbDiffParams diff;
    PcbFindingsParams find;
    double px_per_mm;       /* overrides the board's scale when > 0 */
    gboolean keep_images;   /* keep reference, warped photo and heat map for the overlay */
    gboolean scaled_decode; /* coarse copies from DCT-scaled JPEG decodes instead of the full
                               decode (default off: at 24 MP a 1/4 decode costs over half a
                               full one, which is decoded anyway) */
} PcbInspectParams;

void pcb_inspect_params_init(PcbInspectParams *params);

typedef struct {
    char stage[24];
    double ms;
} PcbTiming;

typedef struct {
    char *reference_path, *photo_path;
    char *reference_sha256, *photo_sha256; /* hex, or NULL if not read */
    int reference_width, reference_height, photo_width, photo_height;
    char *board_name;
    double px_per_mm; /* 0 when unknown */
    gboolean registered;
    PcbRegistration reg;
    GArray *findings; /* PcbFinding, sorted by score */
    GArray *timings;  /* PcbTiming, in pipeline order */
    double total_ms;
    double noise[3];
    /* kept when params->keep_images: */
    PcbImage *reference; /* RGB8, reference size */
    PcbImage *warped;    /* RGB8, reference size */
    PcbImage *heat;      /* GRAY8 difference map at the working resolution */
} PcbInspection;

PcbInspection *pcb_inspection_new(void);
void pcb_inspection_free(PcbInspection *insp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcbInspection, pcb_inspection_free)

/* Runs the pipeline (resolving @board against its golden image first). On FALSE, @insp holds
 * whatever was measured before the failure (inputs, hashes, timings, registration figures), so an
 * error report can still be written. */
gboolean pcb_inspect(PcbBoard *board, const char *photo_path, const PcbInspectParams *params,
                     PcbInspection *insp, GError **error);

/* Registration only (for `pcbdiff register`): loads, registers, warps. */
gboolean pcb_inspect_register_only(PcbBoard *board, const char *photo_path,
                                   const PcbInspectParams *params, PcbInspection *insp,
                                   GError **error);

G_END_DECLS

#endif
