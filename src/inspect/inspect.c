/* The pipeline: load -> register -> warp -> difference -> findings, timed stage by stage. */
#include <math.h>
#include <string.h>
#include "pcbdiff/error.h"
#include "pcbdiff/inspect.h"
#include "core/util.h"

void
pcb_inspect_params_init(PcbInspectParams *p)
{
    memset(p, 0, sizeof *p);
    pcb_register_params_init(&p->reg);
    pcb_diff_params_init(&p->diff);
    pcb_findings_params_init(&p->find);
    p->px_per_mm = 0;
    p->keep_images = FALSE;
}

static void
stage_done(PcbInspection *insp, const char *stage, double t0)
{
    PcbTiming t = { { 0 }, pcb_now_ms() - t0 };
    g_strlcpy(t.stage, stage, sizeof t.stage);
    g_array_append_val(insp->timings, t);
    g_info("%-12s %8.1f ms", stage, t.ms);
}

/* Loads the golden, the photo and their hashes; resolves the board against the golden. */
static gboolean
load_inputs(PcbBoard *board, const char *photo_path, PcbInspection *insp, PcbImage **ref,
            PcbImage **photo, GError **error)
{
    double t0 = pcb_now_ms();
    insp->reference_path = g_strdup(board->golden_path);
    insp->photo_path = g_strdup(photo_path);
    insp->board_name = g_strdup(board->name);
    if ((insp->reference_sha256 = pcb_sha256_file(board->golden_path, error)) == NULL
        || (insp->photo_sha256 = pcb_sha256_file(photo_path, error)) == NULL)
        return FALSE;
    stage_done(insp, "hash", t0);
    t0 = pcb_now_ms();
    g_autoptr(PcbImage) r = pcb_image_load(board->golden_path, NULL, error);
    if (r == NULL)
        return FALSE;
    insp->reference_width = r->width;
    insp->reference_height = r->height;
    g_autoptr(PcbImage) p = pcb_image_load(photo_path, NULL, error);
    if (p == NULL)
        return FALSE;
    insp->photo_width = p->width;
    insp->photo_height = p->height;
    stage_done(insp, "decode", t0);
    if (!pcb_board_resolve(board, r->width, r->height, error))
        return FALSE;
    *ref = g_steal_pointer(&r);
    *photo = g_steal_pointer(&p);
    return TRUE;
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
register_and_warp(const PcbImage *ref, const PcbImage *photo, const PcbInspectParams *params,
                  PcbInspection *insp, PcbImage **warped, PcbImage **valid, GError **error)
{
    double t0 = pcb_now_ms();
    if (!pcb_register(ref, photo, &params->reg, &insp->reg, error))
        return FALSE;
    insp->registered = TRUE;
    stage_done(insp, "register", t0);
    t0 = pcb_now_ms();
    if (!pcb_warp(photo, &insp->reg, ref->width, ref->height, warped, valid, error))
        return FALSE;
    stage_done(insp, "warp", t0);
    return TRUE;
}

static gboolean
run(PcbBoard *board, const char *photo_path, const PcbInspectParams *params, PcbInspection *insp,
    gboolean diff, GError **error)
{
    g_autoptr(PcbImage) ref = NULL;
    g_autoptr(PcbImage) photo = NULL;
    g_autoptr(PcbImage) warped = NULL;
    g_autoptr(PcbImage) valid = NULL;
    g_autoptr(PcbImage) ignore = NULL;
    if (!load_inputs(board, photo_path, insp, &ref, &photo, error))
        return FALSE;
    insp->px_per_mm = params->px_per_mm > 0 ? params->px_per_mm : board->px_per_mm;
    if (!ignore_mask(board, ref->width, ref->height, &ignore, error))
        return FALSE;
    if (!register_and_warp(ref, photo, params, insp, &warped, &valid, error))
        return FALSE;
    g_clear_pointer(&photo, pcb_image_free); /* the warped copy is all we need now */
    if (diff) {
        double t0 = pcb_now_ms();
        PcbDiffMap map;
        if (!pcb_difference(ref, warped, valid, ignore, &params->diff, &map, error))
            return FALSE;
        memcpy(insp->noise, map.noise, sizeof insp->noise);
        stage_done(insp, "difference", t0);
        t0 = pcb_now_ms();
        GArray *found = pcb_findings_extract(&map, board, insp->px_per_mm, &params->find, error);
        if (found == NULL) {
            pcb_diff_map_clear(&map);
            return FALSE;
        }
        g_array_unref(insp->findings);
        insp->findings = found;
        stage_done(insp, "findings", t0);
        if (params->keep_images)
            insp->heat = g_steal_pointer(&map.score);
        pcb_diff_map_clear(&map);
    }
    if (params->keep_images) {
        insp->reference = g_steal_pointer(&ref);
        insp->warped = g_steal_pointer(&warped);
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
    double t0 = pcb_now_ms();
    gboolean ok = run(board, photo_path, params, insp, TRUE, error);
    insp->total_ms = pcb_now_ms() - t0;
    return ok;
}

gboolean
pcb_inspect_register_only(PcbBoard *board, const char *photo_path, const PcbInspectParams *params,
                          PcbInspection *insp, GError **error)
{
    PcbInspectParams defaults;
    if (params == NULL) {
        pcb_inspect_params_init(&defaults);
        params = &defaults;
    }
    double t0 = pcb_now_ms();
    gboolean ok = run(board, photo_path, params, insp, FALSE, error);
    insp->total_ms = pcb_now_ms() - t0;
    return ok;
}
