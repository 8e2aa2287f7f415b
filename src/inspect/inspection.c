/* PcbInspection: the result object every front-end reads. */
#include <math.h>
#include "pcbdiff/inspect.h"

PcbInspection *
pcb_inspection_new(void)
{
    PcbInspection *insp = g_new0(PcbInspection, 1);
    insp->findings = g_array_new(FALSE, TRUE, sizeof(PcbFinding));
    g_array_set_clear_func(insp->findings, (GDestroyNotify) pcb_finding_clear);
    insp->timings = g_array_new(FALSE, TRUE, sizeof(PcbTiming));
    insp->zones = g_array_new(FALSE, TRUE, sizeof(PcbZoneJudgement));
    g_array_set_clear_func(insp->zones, (GDestroyNotify) pcb_zone_judgement_clear);
    insp->tilt_deg = NAN;
    insp->pose_judged = TRUE;
    insp->light_judged = TRUE;
    return insp;
}

void
pcb_inspection_free(PcbInspection *insp)
{
    if (insp == NULL)
        return;
    g_free(insp->reference_path);
    g_free(insp->photo_path);
    g_free(insp->reference_sha256);
    g_free(insp->photo_sha256);
    g_free(insp->board_name);
    g_free(insp->pose_why);
    g_free(insp->light_why);
    pcb_registration_clear(&insp->reg);
    g_array_unref(insp->findings);
    g_array_unref(insp->timings);
    g_array_unref(insp->zones);
    pcb_image_free(insp->reference);
    pcb_image_free(insp->warped);
    pcb_image_free(insp->heat);
    g_free(insp);
}
