/* The pipeline: load -> register -> warp -> difference -> findings, timed stage by stage. */
#include <math.h>
#include <string.h>
#include <time.h>
#include "pcbdiff/error.h"
#include "pcbdiff/inspect.h"
#include "pcbdiff/pcbdiff.h"
#include "core/util.h"
#include "cv/pcbcv.h"

/* CPU time of the whole process (all threads), ms: beside the wall time in the log it shows
 * how well a stage uses the cores. */
static double
cpu_ms(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 ? ts.tv_sec * 1e3 + ts.tv_nsec / 1e6
                                                             : 0.0;
}

/* One run of the pipeline: what every stage needs, and the CPU time at the last stage's end
 * (beside the wall time in the log it shows how well a stage uses the cores). */
typedef struct {
    const PcbBoard *board;
    const PcbInspectParams *params;
    PcbInspection *insp;
    double cpu_mark;
    const PcbImage *ignore; /* the board's ignore mask when prepared (else made per run) */
    const PcbRegisterGolden *reg_golden; /* the golden's registration side when prepared */
} Run;

static void
stage_time(Run *run, const char *stage, double ms)
{
    double cpu = cpu_ms();
    PcbTiming t = { { 0 }, ms };
    g_strlcpy(t.stage, stage, sizeof t.stage);
    g_array_append_val(run->insp->timings, t);
    g_info("%-12s %8.1f ms  (cpu %.0f ms since the last stage)", stage, t.ms, cpu - run->cpu_mark);
    run->cpu_mark = cpu;
}

static void
stage_done(Run *run, const char *stage, double t0)
{
    stage_time(run, stage, pcb_now_ms() - t0);
}

/* One input: its bytes read once, hashed, decoded in full, and for JPEG also decoded at a
 * reduced DCT scale for the coarse registration stages (never through the full image). */
typedef struct {
    const char *path;
    int reduced_side; /* the reduced copy's longer side is at least this */
    char *sha256;
    PcbImage *full, *reduced; /* reduced: GRAY8, or NULL (none: made from the full image) */
    double reduced_scale;
    GError *error;
    gboolean borrowed;   /* full and reduced belong to someone else (a prepared reference, the
                            caller's pixels): dropped, never freed */
    const guint8 *bytes; /* encoded input held in memory (no path to read), @len bytes */
    gsize len;
} LoadJob;

/* Lets go of what @j holds at *@img: frees it unless it is borrowed. */
static void
load_job_drop(LoadJob *j, PcbImage **img)
{
    if (j->borrowed)
        *img = NULL;
    else
        g_clear_pointer(img, pcb_image_free);
}

/* What a run keeps of @j's image at *@img: the image itself, or a copy of a borrowed one. */
static PcbImage *
load_job_take(LoadJob *j, PcbImage **img)
{
    PcbImage *out = j->borrowed ? pcb_image_copy(*img, NULL) : g_steal_pointer(img);
    load_job_drop(j, img);
    return out;
}

static void
load_job_clear(LoadJob *j)
{
    g_clear_pointer(&j->sha256, g_free);
    load_job_drop(j, &j->full);
    load_job_drop(j, &j->reduced);
    g_clear_error(&j->error);
}

/* JPEG can decode at 1/2..1/8 scale without the full image (DCT scaling), but at 24 MP that
 * costs 55-60% of a full decode (entropy decoding dominates) and the full image is decoded
 * anyway, so the registration makes its reduced copy from that (5 ms) unless the job asks for
 * a scaled decode (reduced_side > 0). A failure here is left to the full decode to report. */
static void
load_job_scaled(LoadJob *j, const guint8 *bytes, gsize len)
{
    int w = 0, h = 0, denom = 8;
    gboolean scalable = FALSE;
    if (j->reduced_side <= 0 || !pcb_image_probe_memory(bytes, len, &w, &h, &scalable, NULL)
        || !scalable)
        return;
    while (denom > 1 && MAX(w, h) / denom < j->reduced_side)
        denom /= 2;
    if (denom == 1)
        return;
    PcbLoadOptions o;
    pcb_load_options_init(&o);
    o.format = PCB_FORMAT_GRAY8;
    o.scale_denom = denom;
    j->reduced = pcb_image_load_memory(bytes, len, &o, NULL);
    j->reduced_scale = 1.0 / denom;
}

/* An image smaller than this on either side holds no board to inspect (and the registration's
 * reduced copies and feature detectors need a few pixels); one longer than MAX_SIDE cannot be
 * warped (OpenCV's remap takes coordinates as 16-bit integers). */
#define MIN_SIDE 16
#define MAX_SIDE 32766

/* FALSE (PCB_ERROR_DECODE, naming @name) when @img is too small or too long to inspect. */
static gboolean
big_enough(const char *name, const PcbImage *img, GError **error)
{
    if (img->width > MAX_SIDE || img->height > MAX_SIDE) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE,
                    "%s: %d x %d px is too large to inspect (at most %d px a side)", name,
                    img->width, img->height, MAX_SIDE);
        return FALSE;
    }
    if (img->width >= MIN_SIDE && img->height >= MIN_SIDE)
        return TRUE;
    g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE,
                "%s: %d x %d px is too small to inspect (at least %d x %d px)", name, img->width,
                img->height, MIN_SIDE, MIN_SIDE);
    return FALSE;
}

static gpointer
load_job_run(gpointer data)
{
    LoadJob *j = data;
    double t0 = pcb_now_ms();
    gsize len = j->len;
    g_autofree guint8 *owned
        = j->bytes == NULL ? pcb_image_read_bytes(j->path, &len, &j->error) : NULL;
    const guint8 *bytes = j->bytes != NULL ? j->bytes : owned;
    if (bytes == NULL)
        return NULL;
    j->sha256 = pcb_sha256_data(bytes, len);
    load_job_scaled(j, bytes, len);
    double t_reduced = pcb_now_ms();
    g_autoptr(GError) local = NULL;
    if ((j->full = pcb_image_load_memory(bytes, len, NULL, &local)) == NULL)
        g_propagate_prefixed_error(&j->error, g_steal_pointer(&local), "%s: ", j->path);
    else if (!big_enough(j->path, j->full, &j->error))
        g_clear_pointer(&j->full, pcb_image_free);
    g_debug("load %s: read, hash and reduced decode %.0f ms, full decode %.0f ms", j->path,
            t_reduced - t0, pcb_now_ms() - t_reduced);
    return NULL;
}

/* The longer side a coarse copy decoded at a reduced scale must keep (0: none is decoded). */
static int
reduced_side(const PcbInspectParams *params)
{
    return params->scaled_decode ? 3 * params->reg.coarse_side / 2 : 0;
}

/* The parameters of a run: @params or the defaults (into @defaults), checked; NULL with the
 * reason. */
static const PcbInspectParams *
checked_params(const PcbInspectParams *params, PcbInspectParams *defaults, GError **error)
{
    if (params == NULL) {
        pcb_inspect_params_init(defaults);
        params = defaults;
    }
    return pcb_inspect_params_check(params, error) ? params : NULL;
}

/* Loads the golden and the photo (in parallel when more than one thread is allowed) with
 * their hashes; resolves the board against the golden. */
static gboolean
load_inputs(Run *run, PcbBoard *board, const char *photo_path, LoadJob *ref, LoadJob *photo,
            GError **error)
{
    double t0 = pcb_now_ms();
    PcbInspection *insp = run->insp;
    insp->reference_path = g_strdup(run->board->golden_path);
    insp->photo_path = g_strdup(photo_path);
    insp->board_name = g_strdup(run->board->name);
    const int side = reduced_side(run->params);
    *ref = (LoadJob){ .path = run->board->golden_path, .reduced_side = side };
    *photo = (LoadJob){ .path = photo_path, .reduced_side = side };
    GThread *thread = NULL;
    if (pcb_get_threads() > 1)
        thread = g_thread_try_new("pcbdiff-load", load_job_run, ref, NULL);
    load_job_run(photo);
    if (thread != NULL)
        g_thread_join(thread);
    else
        load_job_run(ref);
    stage_done(run, "decode", t0);
    insp->reference_sha256 = g_steal_pointer(&ref->sha256);
    insp->photo_sha256 = g_steal_pointer(&photo->sha256);
    LoadJob *jobs[] = { ref, photo };
    for (int i = 0; i < 2; i++)
        if (jobs[i]->error != NULL) {
            g_propagate_error(error, g_steal_pointer(&jobs[i]->error));
            return FALSE;
        }
    insp->reference_width = ref->full->width;
    insp->reference_height = ref->full->height;
    insp->photo_width = photo->full->width;
    insp->photo_height = photo->full->height;
    return pcb_board_resolve(board, ref->full->width, ref->full->height, error);
}

/* The board's ignore regions as a mask at reference size, or NULL when it has none. */
static gboolean
ignore_mask(const PcbBoard *board, int width, int height, PcbImage **out, GError **error)
{
    *out = NULL;
    gboolean rects = board->ignore != NULL && board->ignore->len > 0;
    if (!rects && board->ignore_mask_path == NULL)
        return TRUE;
    g_autoptr(PcbImage) mask = NULL;
    if (board->ignore_mask_path != NULL) {
        PcbLoadOptions o;
        pcb_load_options_init(&o);
        o.format = PCB_FORMAT_GRAY8;
        if ((mask = pcb_image_load(board->ignore_mask_path, &o, error)) == NULL)
            return FALSE;
        if (mask->width != width || mask->height != height) {
            g_set_error(error, PCB_ERROR, PCB_ERROR_PROFILE,
                        "%s: ignore mask is %d x %d, the golden image is %d x %d",
                        board->ignore_mask_path, mask->width, mask->height, width, height);
            return FALSE;
        }
    }
    else if ((mask = pcb_image_new(width, height, PCB_FORMAT_GRAY8, error)) == NULL)
        return FALSE;
    for (guint i = 0; rects && i < board->ignore->len; i++) {
        const PcbRect *r = &g_array_index(board->ignore, PcbRect, i);
        int x0 = CLAMP((int) floor(r->x), 0, width), x1 = CLAMP((int) ceil(r->x + r->w), 0, width);
        int y0 = CLAMP((int) floor(r->y), 0, height),
            y1 = CLAMP((int) ceil(r->y + r->h), 0, height);
        for (int y = y0; y < y1; y++)
            memset(pcb_image_row(mask, y) + x0, 255, (size_t) (x1 - x0));
    }
    *out = g_steal_pointer(&mask);
    return TRUE;
}

static gboolean
register_and_warp(Run *run, LoadJob *ref, LoadJob *photo, PcbImage **warped, PcbImage **valid,
                  GError **error)
{
    PcbInspection *insp = run->insp;
    double t0 = pcb_now_ms();
    PcbReduced rr = { ref->reduced, ref->reduced_scale },
               pr = { photo->reduced, photo->reduced_scale };
    PcbRegisterParams reg = run->params->reg;
    reg.px_per_mm = insp->px_per_mm; /* heights in mm for the parallax */
    gboolean ok
        = run->reg_golden != NULL
              ? pcb_register_golden(run->reg_golden, photo->full, &pr, &reg, &insp->reg, error)
              : pcb_register_reduced(ref->full, photo->full, &rr, &pr, &reg, &insp->reg, error);
    /* the coarse stage may have failed: its time still counts */
    stage_time(run, "coarse", insp->reg.coarse_ms);
    if (!ok)
        return FALSE;
    insp->registered = TRUE;
    stage_time(run, "refine", pcb_now_ms() - t0 - insp->reg.coarse_ms);
    load_job_drop(ref, &ref->reduced);
    load_job_drop(photo, &photo->reduced);
    t0 = pcb_now_ms();
    if (!pcb_warp(photo->full, &insp->reg, ref->full->width, ref->full->height, warped, valid,
                  error))
        return FALSE;
    stage_done(run, "warp", t0);
    return TRUE;
}

/* difference -> findings on the warped photo */
static gboolean
difference_and_findings(Run *run, const PcbImage *ref, PcbImage *warped, const PcbImage *valid,
                        const PcbImage *ignore, GError **error)
{
    PcbInspection *insp = run->insp;
    double t0 = pcb_now_ms();
    PcbDiffMap map;
    if (!pcb_difference(ref, warped, valid, ignore, &run->params->diff, &map, error))
        return FALSE;
    memcpy(insp->noise, map.noise, sizeof insp->noise);
    insp->light_change = map.light_change;
    insp->light_differs = pcb_findings_light_differs(&map, &run->params->find);
    stage_time(run, "normalise", map.normalise_ms);
    stage_time(run, "difference", pcb_now_ms() - t0 - map.normalise_ms);
    t0 = pcb_now_ms();
    GArray *found = pcb_findings_extract(&map, run->board, insp->px_per_mm, &insp->reg.parallax,
                                         &run->params->find, error);
    if (found != NULL) {
        g_array_unref(insp->findings);
        insp->findings = found;
        stage_done(run, "findings", t0);
        if (run->params->keep_images)
            insp->heat = g_steal_pointer(&map.score);
    }
    pcb_diff_map_clear(&map);
    return found != NULL;
}

/* register -> warp -> difference -> findings, on the loaded inputs (freed as they are done) */
static gboolean
after_load(Run *run, LoadJob *ref_job, LoadJob *photo_job, GError **error)
{
    g_autoptr(PcbImage) warped = NULL;
    g_autoptr(PcbImage) valid = NULL;
    g_autoptr(PcbImage) own_ignore = NULL;
    const PcbImage *ref = ref_job->full;
    const PcbInspectParams *params = run->params;
    run->insp->px_per_mm = params->px_per_mm > 0 ? params->px_per_mm : run->board->px_per_mm;
    if (run->ignore == NULL
        && !ignore_mask(run->board, ref->width, ref->height, &own_ignore, error))
        return FALSE;
    const PcbImage *ignore = run->ignore != NULL ? run->ignore : own_ignore;
    if (!register_and_warp(run, ref_job, photo_job, &warped, &valid, error))
        return FALSE;
    load_job_drop(photo_job, &photo_job->full); /* the warped copy is all we need now */
    if (params->stop_after == PCB_STOP_AFTER_FINDINGS
        && !difference_and_findings(run, ref, warped, valid, ignore, error))
        return FALSE;
    g_array_unref(run->insp->zones);
    run->insp->zones = pcb_zones_judge(run->board, &run->insp->reg, valid, run->insp->px_per_mm,
                                       run->insp->findings);
    pcb_pose_judge(run->insp, params->max_tilt_deg);
    pcb_light_judge(run->insp, params->judge_other_light);
    if (params->keep_images) {
        run->insp->reference = load_job_take(ref_job, &ref_job->full);
        run->insp->warped = g_steal_pointer(&warped);
    }
    return TRUE;
}

gboolean
pcb_inspect(PcbBoard *board, const char *photo_path, const PcbInspectParams *params,
            PcbInspection *insp, GError **error)
{
    PcbInspectParams defaults;
    if ((params = checked_params(params, &defaults, error)) == NULL)
        return FALSE;
    double t0 = pcb_now_ms();
    Run run = { board, params, insp, cpu_ms(), NULL, NULL };
    LoadJob ref_job, photo_job;
    gboolean ok = load_inputs(&run, board, photo_path, &ref_job, &photo_job, error)
                  && after_load(&run, &ref_job, &photo_job, error);
    load_job_clear(&ref_job);
    load_job_clear(&photo_job);
    insp->total_ms = pcb_now_ms() - t0;
    return ok;
}

/* ---- a prepared reference: the golden decoded, hashed and resolved once ---- */

struct _PcbReference {
    PcbBoard *board;
    LoadJob golden; /* full, reduced (when scaled decoding), sha256 */
    PcbImage *ignore;
    PcbRegisterGolden *reg_golden; /* grey and reduced copies, coarse features */
};

PcbReference *
pcb_reference_new(PcbBoard *board, const PcbInspectParams *params, GError **error)
{
    PcbInspectParams defaults;
    if (board == NULL) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "no board to prepare");
        return NULL;
    }
    if ((params = checked_params(params, &defaults, error)) == NULL) {
        pcb_board_free(board);
        return NULL;
    }
    PcbReference *r = g_new0(PcbReference, 1);
    r->board = board;
    r->golden = (LoadJob){ .path = board->golden_path, .reduced_side = reduced_side(params) };
    load_job_run(&r->golden);
    if (r->golden.error != NULL) {
        g_propagate_error(error, g_steal_pointer(&r->golden.error));
        pcb_reference_free(r);
        return NULL;
    }
    const int w = r->golden.full->width, h = r->golden.full->height;
    PcbReduced rr = { r->golden.reduced, r->golden.reduced_scale };
    if (!pcb_board_resolve(board, w, h, error) || !ignore_mask(board, w, h, &r->ignore, error)
        || (r->reg_golden = pcb_register_golden_new(r->golden.full, &rr, &params->reg, error))
               == NULL) {
        pcb_reference_free(r);
        return NULL;
    }
    return r;
}

void
pcb_reference_free(PcbReference *ref)
{
    if (ref == NULL)
        return;
    pcb_register_golden_free(ref->reg_golden);
    load_job_clear(&ref->golden);
    pcb_image_free(ref->ignore);
    pcb_board_free(ref->board);
    g_free(ref);
}

const PcbBoard *
pcb_reference_board(const PcbReference *ref)
{
    return ref->board;
}

/* The pipeline on a prepared reference and a photo job (@photo: to decode from its path or
 * bytes, or already decoded). Touches nothing of @ref but to read it. */
static gboolean
inspect_prepared(const PcbReference *ref, LoadJob *photo, const PcbInspectParams *params,
                 PcbInspection *insp, GError **error)
{
    double t0 = pcb_now_ms();
    Run run = { ref->board, params, insp, cpu_ms(), ref->ignore, ref->reg_golden };
    LoadJob golden = ref->golden; /* its images borrowed */
    golden.borrowed = TRUE;
    golden.sha256 = NULL;
    golden.error = NULL;
    insp->reference_path = g_strdup(ref->board->golden_path);
    insp->board_name = g_strdup(ref->board->name);
    insp->photo_path = g_strdup(photo->path);
    insp->reference_sha256 = g_strdup(ref->golden.sha256);
    insp->reference_width = golden.full->width;
    insp->reference_height = golden.full->height;
    if (photo->full == NULL) {
        load_job_run(photo);
        stage_done(&run, "decode", t0);
    }
    insp->photo_sha256 = g_steal_pointer(&photo->sha256);
    gboolean ok = photo->error == NULL;
    if (!ok)
        g_propagate_error(error, g_steal_pointer(&photo->error));
    else {
        insp->photo_width = photo->full->width;
        insp->photo_height = photo->full->height;
        ok = after_load(&run, &golden, photo, error);
    }
    load_job_clear(&golden);
    load_job_clear(photo);
    insp->total_ms = pcb_now_ms() - t0;
    return ok;
}

gboolean
pcb_inspect_file(const PcbReference *ref, const char *photo_path, const PcbInspectParams *params,
                 PcbInspection *insp, GError **error)
{
    PcbInspectParams defaults;
    if ((params = checked_params(params, &defaults, error)) == NULL)
        return FALSE;
    LoadJob photo = { .path = photo_path, .reduced_side = reduced_side(params) };
    return inspect_prepared(ref, &photo, params, insp, error);
}

gboolean
pcb_inspect_buffer(const PcbReference *ref, const char *name, const guint8 *data, gsize len,
                   const PcbInspectParams *params, PcbInspection *insp, GError **error)
{
    PcbInspectParams defaults;
    if ((params = checked_params(params, &defaults, error)) == NULL)
        return FALSE;
    if (data == NULL || len == 0) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_DECODE, "%s: empty image", name ? name : "photo");
        return FALSE;
    }
    LoadJob photo = { .path = name ? name : "photo",
                      .reduced_side = reduced_side(params),
                      .bytes = data,
                      .len = len };
    return inspect_prepared(ref, &photo, params, insp, error);
}

gboolean
pcb_inspect_pixels(const PcbReference *ref, const char *name, const PcbImage *photo,
                   const PcbInspectParams *params, PcbInspection *insp, GError **error)
{
    PcbInspectParams defaults;
    if ((params = checked_params(params, &defaults, error)) == NULL)
        return FALSE;
    if (photo == NULL || photo->format != PCB_FORMAT_RGB8) {
        g_set_error(error, PCB_ERROR, PCB_ERROR_USAGE, "%s: the photo must be an RGB8 image",
                    name ? name : "photo");
        return FALSE;
    }
    if (!big_enough(name ? name : "photo", photo, error))
        return FALSE;
    LoadJob job = { .path = name ? name : "photo", .full = (PcbImage *) photo, .borrowed = TRUE };
    return inspect_prepared(ref, &job, params, insp, error);
}
