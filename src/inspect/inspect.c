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
    PcbBoard *board;
    const PcbInspectParams *params;
    PcbInspection *insp;
    double cpu_mark;
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
} LoadJob;

static void
load_job_clear(LoadJob *j)
{
    g_clear_pointer(&j->sha256, g_free);
    g_clear_pointer(&j->full, pcb_image_free);
    g_clear_pointer(&j->reduced, pcb_image_free);
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

static gpointer
load_job_run(gpointer data)
{
    LoadJob *j = data;
    double t0 = pcb_now_ms();
    gsize len = 0;
    g_autofree guint8 *bytes = pcb_image_read_bytes(j->path, &len, &j->error);
    if (bytes == NULL)
        return NULL;
    j->sha256 = pcb_sha256_data(bytes, len);
    load_job_scaled(j, bytes, len);
    double t_reduced = pcb_now_ms();
    g_autoptr(GError) local = NULL;
    if ((j->full = pcb_image_load_memory(bytes, len, NULL, &local)) == NULL)
        g_propagate_prefixed_error(&j->error, g_steal_pointer(&local), "%s: ", j->path);
    g_debug("load %s: read, hash and reduced decode %.0f ms, full decode %.0f ms", j->path,
            t_reduced - t0, pcb_now_ms() - t_reduced);
    return NULL;
}

/* Loads the golden and the photo (in parallel when more than one thread is allowed) with
 * their hashes; resolves the board against the golden. */
static gboolean
load_inputs(Run *run, const char *photo_path, LoadJob *ref, LoadJob *photo, GError **error)
{
    double t0 = pcb_now_ms();
    PcbInspection *insp = run->insp;
    insp->reference_path = g_strdup(run->board->golden_path);
    insp->photo_path = g_strdup(photo_path);
    insp->board_name = g_strdup(run->board->name);
    int side = run->params->scaled_decode ? 3 * run->params->reg.coarse_side / 2 : 0;
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
    return pcb_board_resolve(run->board, ref->full->width, ref->full->height, error);
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
    gboolean ok = pcb_register_reduced(ref->full, photo->full, &rr, &pr, &reg, &insp->reg, error);
    /* the coarse stage may have failed: its time still counts */
    stage_time(run, "coarse", insp->reg.coarse_ms);
    if (!ok)
        return FALSE;
    insp->registered = TRUE;
    stage_time(run, "refine", pcb_now_ms() - t0 - insp->reg.coarse_ms);
    g_clear_pointer(&ref->reduced, pcb_image_free);
    g_clear_pointer(&photo->reduced, pcb_image_free);
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
    g_autoptr(PcbImage) ignore = NULL;
    const PcbImage *ref = ref_job->full;
    const PcbInspectParams *params = run->params;
    run->insp->px_per_mm = params->px_per_mm > 0 ? params->px_per_mm : run->board->px_per_mm;
    if (!ignore_mask(run->board, ref->width, ref->height, &ignore, error)
        || !register_and_warp(run, ref_job, photo_job, &warped, &valid, error))
        return FALSE;
    g_clear_pointer(&photo_job->full, pcb_image_free); /* the warped copy is all we need now */
    if (params->stop_after == PCB_STOP_AFTER_FINDINGS
        && !difference_and_findings(run, ref, warped, valid, ignore, error))
        return FALSE;
    g_array_unref(run->insp->zones);
    run->insp->zones = pcb_zones_judge(run->board, &run->insp->reg, valid, run->insp->px_per_mm,
                                       run->insp->findings);
    if (params->keep_images) {
        run->insp->reference = g_steal_pointer(&ref_job->full);
        run->insp->warped = g_steal_pointer(&warped);
    }
    return TRUE;
}

gboolean
pcb_inspect(PcbBoard *board, const char *photo_path, const PcbInspectParams *params,
            PcbInspection *insp, GError **error)
{
    PcbInspectParams defaults;
    if (params == NULL) {
        pcb_inspect_params_init(&defaults);
        params = &defaults;
    }
    if (!pcb_inspect_params_check(params, error))
        return FALSE;
    double t0 = pcb_now_ms();
    Run run = { board, params, insp, cpu_ms() };
    LoadJob ref_job, photo_job;
    gboolean ok = load_inputs(&run, photo_path, &ref_job, &photo_job, error)
                  && after_load(&run, &ref_job, &photo_job, error);
    load_job_clear(&ref_job);
    load_job_clear(&photo_job);
    insp->total_ms = pcb_now_ms() - t0;
    return ok;
}
