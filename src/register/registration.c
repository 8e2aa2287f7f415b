#include "pcbdiff/register.h"

void
pcb_registration_clear(PcbRegistration *reg)
{
    g_clear_pointer(&reg->field_dx, g_free);
    g_clear_pointer(&reg->field_dy, g_free);
    reg->field_cols = reg->field_rows = 0;
}
