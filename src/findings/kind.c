#include "pcbdiff/findings.h"

const char *
pcb_kind_name(PcbKind kind)
{
    switch (kind) {
    case PCB_KIND_ADDED:
        return "added";
    case PCB_KIND_REMOVED:
        return "removed";
    case PCB_KIND_ALTERED:
        return "altered";
    }
    return "altered";
}

void
pcb_finding_clear(PcbFinding *finding)
{
    g_clear_pointer(&finding->zone, g_free);
}
