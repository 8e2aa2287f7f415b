/* pcbdiff inspection: the whole pipeline, load -> register -> difference -> findings. */
#ifndef PCBDIFF_INSPECT_H
#define PCBDIFF_INSPECT_H

#include "pcbdiff/api.h"

#include <glib.h>
#include "pcbdiff/board.h"
#include "pcbdiff/diff.h"
#include "pcbdiff/findings.h"
#include "pcbdiff/params.h"
#include "pcbdiff/register.h"

G_BEGIN_DECLS

/* Where the pipeline stops. */
typedef enum {
    PCB_STOP_AFTER_FINDINGS = 0, /* the whole pipeline (default) */
    PCB_STOP_AFTER_WARP,         /* load, register and warp only (`pcbdiff register`) */
} PcbStopAfter;

/* Everything an inspection is run with. The tunables (every field but keep_images and
 * stop_after) are listed with their defaults and ranges by `pcbdiff params`; their tables are in
 * the stages' params.c files. */
typedef struct {
    PcbRegisterParams reg;
    PcbDiffParams diff;
    PcbFindingsParams find;
    double px_per_mm;       /* overrides the board's scale when > 0 */
    gboolean scaled_decode; /* coarse copies from DCT-scaled JPEG decodes instead of the full
                               decode (default off: at 24 MP a 1/4 decode costs over half a
                               full one, which is decoded anyway) */
    gboolean keep_images;   /* keep reference, warped photo and heat map for the overlay */
    PcbStopAfter stop_after;
    double max_tilt_deg;        /* capture guidance: a photo seen more than this from the golden's
                                   view (the registration's pose) cannot be judged whole; 0: never */
    gboolean judge_other_light; /* a photo under another light than the golden's
                                   (light_differs) is judged whole all the same (default off:
                                   its verdict is at best "incomplete") */
} PcbInspectParams;

/* Every tunable at its default, keep_images off, the whole pipeline. */
PCB_API void pcb_inspect_params_init(PcbInspectParams *params);

/* Sets the parameter @key ("diff.tolerance-px", see pcbdiff/params.h) from its text @value.
 * FALSE with PCB_ERROR_USAGE naming the key and its range for an unknown key, a malformed
 * value or one out of range; @params is then unchanged. */
PCB_API gboolean pcb_inspect_params_set(PcbInspectParams *params, const char *key,
                                        const char *value, GError **error);

/* The value of parameter @spec in @params, and setting it to a value pcb_param_parse() gave. */
PCB_API double pcb_inspect_params_get(const PcbInspectParams *params, const PcbParamSpec *spec);
PCB_API void pcb_inspect_params_put(PcbInspectParams *params, const PcbParamSpec *spec,
                                    double value);

/* Checks every tunable against its range, and those that must agree with each other (the low
 * threshold not above the high one). FALSE with PCB_ERROR_USAGE naming the first bad key. */
PCB_API gboolean pcb_inspect_params_check(const PcbInspectParams *params, GError **error);

/* Applies @board's [register], [diff] and [findings] overrides (checked when the board was
 * loaded) to @params. Front-ends call it between pcb_inspect_params_init() and their own
 * overrides (`--set`), so the command line wins over the board, the board over the defaults. */
PCB_API void pcb_board_apply_params(const PcbBoard *board, PcbInspectParams *params);

typedef struct {
    char stage[24];
    double ms;
} PcbTiming;

/* Capture guidance: whether a zone of the board could be judged from the photo. */
typedef struct {
    char *name;
    gboolean judged;
    double covered;         /* share of the zone the photo covers */
    double photo_px_per_mm; /* photo px per mm there, in the most foreshortened direction (0:
                               the scale is unknown) */
    double foreshortening;  /* the smallest over the largest photo scale there (1: square on) */
    double parallax_px;     /* the tallest part's parallax there, reference px (0: none seen) */
    char *why;              /* why it is not judged, or NULL */
    int withheld;           /* findings in it that were not reported */
} PcbZoneJudgement;

/* Frees what @z owns (name, why); the GArray of judgements does it for each. */
PCB_API void pcb_zone_judgement_clear(PcbZoneJudgement *z);

/* Judges each zone of @board from registration @reg (@valid: GRAY8 reference-size coverage of
 * the photo, or NULL), removing from @findings (may be NULL) those whose centre lies in a zone
 * that cannot be judged. Returns a new GArray of PcbZoneJudgement, in the board's order
 * (g_array_unref() it). */
PCB_API GArray *pcb_zones_judge(const PcbBoard *board, const PcbRegistration *reg,
                                const PcbImage *valid, double px_per_mm, GArray *findings);

typedef struct {
    char *reference_path, *photo_path;
    char *reference_sha256, *photo_sha256; /* hex, or NULL if not read */
    int reference_width, reference_height, photo_width, photo_height;
    char *board_name;
    double px_per_mm; /* 0 when unknown */
    gboolean registered;
    PcbRegistration reg;
    GArray *findings; /* PcbFinding, sorted by score */
    GArray *zones;    /* PcbZoneJudgement, one per board zone (empty when it has none) */
    GArray *timings;  /* PcbTiming, in pipeline order */
    double total_ms;
    double noise[3];
    double light_change;    /* the difference's noise over the images' own (PcbDiffMap) */
    gboolean light_differs; /* it reached findings.light-changed: only parts put on or taken
                               off the board were judged, not changes on a part's surface */
    gboolean light_judged;  /* FALSE: under that light the board is not judged whole */
    char *light_why;        /* why not, or NULL */
    /* capture guidance for the whole board: the photo's tilt from the golden's view (the
     * registration's pose; NaN when it is not known) against inspect.max-tilt-deg */
    double tilt_deg, max_tilt_deg;
    gboolean pose_judged; /* FALSE: seen too obliquely to judge the board whole */
    char *pose_why;       /* why not, or NULL */
    /* kept when params->keep_images: */
    PcbImage *reference; /* RGB8, reference size */
    PcbImage *warped;    /* RGB8, reference size */
    PcbImage *heat;      /* GRAY8 difference map at the working resolution */
} PcbInspection;

/* The verdict of a finished inspection: "fail" (findings), "incomplete" (no findings, but a
 * zone, or the board from this pose or under this light, could not be judged from the photo)
 * or "pass". A static string. */
PCB_API const char *pcb_inspection_verdict(const PcbInspection *insp);

/* Judges the board as a whole from the pose of @insp's registration: when the photo is seen
 * more than @max_tilt_deg (> 0) from the golden's view, pose_judged is FALSE, pose_why says
 * why and the verdict is at best "incomplete". Sets tilt_deg (NaN: no pose was estimated) and
 * max_tilt_deg; pcb_inspect() calls it. */
PCB_API void pcb_pose_judge(PcbInspection *insp, double max_tilt_deg);

/* Judges the board as a whole from the light: when it differs from the golden's
 * (light_differs) and @judge_other_light is FALSE, light_judged is FALSE, light_why says why
 * and the verdict is at best "incomplete" (implants in the photo's shade or beside tall parts
 * are missed under another light; README, "Real capture geometry"). pcb_inspect() calls it. */
PCB_API void pcb_light_judge(PcbInspection *insp, gboolean judge_other_light);

/* An empty result (no findings, no timings) for pcb_inspect() to fill; pcb_inspection_free()
 * frees it and everything it holds. */
PCB_API PcbInspection *pcb_inspection_new(void);
PCB_API void pcb_inspection_free(PcbInspection *insp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcbInspection, pcb_inspection_free)

/* Runs the pipeline on the photo at @photo_path (resolving @board against its golden image first)
 * up to @params->stop_after, filling @insp (a fresh one from pcb_inspection_new()). @params NULL
 * means the defaults; out-of-range parameters fail with PCB_ERROR_USAGE before any file is read.
 * On FALSE, @insp holds whatever was measured before the failure (inputs, hashes, timings,
 * registration figures), so an error report can still be written. Reentrant on distinct boards
 * and inspections (pcbdiff.h). */
PCB_API gboolean pcb_inspect(PcbBoard *board, const char *photo_path,
                             const PcbInspectParams *params, PcbInspection *insp, GError **error);

/* ---- for lines and services: the reference prepared once ---- */

/* A board's golden decoded, hashed and resolved once, with its ignore mask: immutable, shared
 * read-only by any number of threads inspecting against it at once. */
typedef struct _PcbReference PcbReference;

/* Prepares @board (from pcb_board_load() or pcb_board_new_from_image(); the reference owns it
 * from then on, also on failure) with @params (NULL: the defaults; what preparing uses of them:
 * whether the coarse copies come from scaled decodes). NULL with the golden's or the profile's
 * error. pcb_reference_free() it once no inspection runs against it. */
PCB_API PcbReference *pcb_reference_new(PcbBoard *board, const PcbInspectParams *params,
                                        GError **error);
PCB_API void pcb_reference_free(PcbReference *ref); /* NULL-safe */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcbReference, pcb_reference_free)

/* The resolved board of @ref (zones in golden pixels); it belongs to @ref. */
PCB_API const PcbBoard *pcb_reference_board(const PcbReference *ref);

/* pcb_inspect() against a prepared reference, with the photo read from @photo_path, held in
 * memory encoded (@data, @len bytes of JPEG or PNG; @name, optional, is what the report calls
 * it) or already decoded (@photo, RGB8, still the caller's). Thread-safe: any number of threads
 * may run these at once on one @ref, each with its own @insp (from pcb_inspection_new()). The
 * report's photo_sha256 is that of the bytes, NULL for decoded pixels. */
PCB_API gboolean pcb_inspect_file(const PcbReference *ref, const char *photo_path,
                                  const PcbInspectParams *params, PcbInspection *insp,
                                  GError **error);
PCB_API gboolean pcb_inspect_buffer(const PcbReference *ref, const char *name, const guint8 *data,
                                    gsize len, const PcbInspectParams *params, PcbInspection *insp,
                                    GError **error);
PCB_API gboolean pcb_inspect_pixels(const PcbReference *ref, const char *name,
                                    const PcbImage *photo, const PcbInspectParams *params,
                                    PcbInspection *insp, GError **error);

G_END_DECLS

#endif
