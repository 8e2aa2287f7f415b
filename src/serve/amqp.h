/* pcbdiff serve: CFX messages to an AMQP 1.0 broker through a disk spool (Qpid Proton C).
 *
 * Design. A message is first written to the spool folder, atomically and durably (temporary
 * file, fsync, rename: "<sequence>-<UniqueID>.json"), and only then counted as published: the
 * HTTP answer or the hot-folder report follows the write, so a result the line has seen is on
 * disk. One sender thread owns the Proton proactor (pn_proactor) and the one connection: it
 * sends spool files in sequence order as the broker grants credit, and deletes a file only when
 * the broker has settled its delivery as accepted. A broker that is down, refuses the
 * connection or drops it leaves the files where they are; the thread reconnects with a backoff
 * (0.5 s doubling to 10 s) and sends them again. The spool survives restarts (files left from
 * an earlier run are sent first). Each message carries the envelope's UniqueID as its AMQP
 * message-id, so a receiver can drop the one duplicate a connection lost between the broker's
 * accept and our delete can cause. The spool is bounded (@max files): when full,
 * serve_amqp_full() is TRUE and the service refuses new inspections (503) rather than lose a
 * result. A message the broker rejects is moved to spool/rejected/ and logged. */
#ifndef PCB_SERVE_AMQP_H
#define PCB_SERVE_AMQP_H

#include <glib.h>

typedef struct _ServeAmqp ServeAmqp;

/* Starts the sender thread for broker @url (amqp://[USER:PASSWORD@]HOST[:PORT], default port
 * 5672) and target @address, spooling in @spool_dir (created; files left there are sent first)
 * with at most @max messages waiting. @subject_prefix is the CFX handle (the AMQP subject is
 * "HANDLE.MESSAGENAME", as the SDK sets it). NULL with PCB_ERROR_USAGE or PCB_ERROR_IO. */
ServeAmqp *serve_amqp_new(const char *url, const char *address, const char *spool_dir, guint max,
                          const char *handle, GError **error);

/* Spools message @json with @unique_id; the sender thread delivers it. Thread-safe. FALSE with
 * PCB_ERROR_IO when the file cannot be written, PCB_ERROR_LIMIT when the spool is full. */
gboolean serve_amqp_publish(ServeAmqp *amqp, const char *unique_id, const char *json,
                            GError **error);

/* Whether the spool holds its maximum (new results could not be kept). Thread-safe. */
gboolean serve_amqp_full(ServeAmqp *amqp);

/* Counters for /metrics. Thread-safe. */
void serve_amqp_stats(ServeAmqp *amqp, guint *spooled, guint64 *delivered, gboolean *connected);

/* Stops the thread, first giving the broker up to @grace_ms to take what is spooled; what it
 * did not take stays on disk for the next start. NULL-safe. */
void serve_amqp_free(ServeAmqp *amqp, guint grace_ms);

#endif
