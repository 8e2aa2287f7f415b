/* pcbdiff serve: an inspection as an IPC-CFX message (IPC-2591,
 * CFX.Production.TestAndInspection.UnitsInspected), in the JSON shape of the IPC-CFX SDK's
 * serialiser (CFXEnvelope with a "$type"-tagged MessageBody; enums as their names). */
#ifndef PCB_SERVE_CFX_H
#define PCB_SERVE_CFX_H

#include <glib.h>
#include "pcbdiff/pcbdiff.h"

#define SERVE_CFX_VERSION "2.1" /* CFXEnvelope.CFXVERSION of the SDK this was checked against */
#define SERVE_CFX_MESSAGE "CFX.Production.TestAndInspection.UnitsInspected"
#define SERVE_CFX_TOPIC   "CFX.Production.TestAndInspection"

typedef struct {
    const char *source;         /* the CFX handle, "pcbdiff.<model>.<host>" */
    const char *unique_id;      /* the envelope's UniqueID (a UUID): stable across retries */
    const char *transaction_id; /* MessageBody.TransactionId (a UUID) */
    const char *board;          /* RecipeName */
    const char *unit;           /* UnitIdentifier; NULL or "": the photo's SHA-256 */
    GDateTime *time;            /* TimeStamp: when the inspection finished */
} ServeCfxInfo;

/* The envelope's JSON text (g_free it) for inspection @insp, finished (@failure NULL) or stopped
 * by @failure (then OverallResult "Error" with the reason). Findings become DefectsFound:
 * added -> EXTRA, removed -> MISSING, altered -> ALTERED, with the box as a RegionOfInterest
 * polygon in board millimetres (omitted when the scale is unknown), ConfidenceLevel 1-100 from
 * the score and Priority 1.. by score. A zone that could not be judged is an Inspection of its
 * own with Result "Error". */
char *serve_cfx_envelope(const PcbInspection *insp, const GError *failure,
                         const ServeCfxInfo *info);

/* The CFX "OverallResult" for an inspection: Passed, Failed or Error. Static. */
const char *serve_cfx_result(const PcbInspection *insp, const GError *failure);

#endif
