#include "pcbdiff/error.h"

GQuark
pcb_error_quark(void)
{
    return g_quark_from_static_string("pcb-error-quark");
}

PcbExit
pcb_error_exit_code(const GError *error)
{
    if (error != NULL && error->domain == PCB_ERROR && error->code == PCB_ERROR_REGISTER)
        return PCB_EXIT_UNREGISTERED;
    if (error != NULL && error->domain == PCB_ERROR && error->code == PCB_ERROR_VERIFY)
        return PCB_EXIT_FINDINGS; /* 1: not verified */
    return PCB_EXIT_TROUBLE;
}

const char *
pcb_error_code_name(const GError *error)
{
    if (error == NULL)
        return "none";
    if (error->domain != PCB_ERROR)
        return "internal";
    switch ((PcbError) error->code) {
    case PCB_ERROR_USAGE:
        return "usage";
    case PCB_ERROR_IO:
        return "io";
    case PCB_ERROR_DECODE:
        return "decode";
    case PCB_ERROR_LIMIT:
        return "limit";
    case PCB_ERROR_PROFILE:
        return "profile";
    case PCB_ERROR_REGISTER:
        return "register";
    case PCB_ERROR_BACKEND:
        return "backend";
    case PCB_ERROR_VERIFY:
        return "verify";
    }
    return "internal";
}
