/* Signed reports: Ed25519 (libcrypto) over a report's canonical form.
 *
 * The canonical form ("pcbdiff-canonical-1") of a report is its JSON value without the
 * top-level "signature" member, written with no whitespace, object members sorted by key (byte
 * order), arrays in order, strings with only '"', '\\' and control characters escaped (\\uXXXX,
 * lower-case hex; other UTF-8 bytes as they are), integers in decimal and other numbers as
 * g_ascii_dtostr() prints the parsed double (the shortest form that reads back the same). So
 * the signature covers everything the report says — verdict, findings, inputs with their
 * SHA-256, tool and version, registration, zones — and any edit of a value breaks it, while
 * the layout of the file does not matter.
 *
 * The report's "signature" member: {"algorithm": "Ed25519", "canonical": "pcbdiff-canonical-1",
 * "key_id": SHA-256 of the raw 32-byte public key (hex), "value": the signature (base64)}. */
#ifndef PCBDIFF_SIGN_H
#define PCBDIFF_SIGN_H

#include "pcbdiff/api.h"

#include <glib.h>
#include "pcbdiff/inspect.h"

G_BEGIN_DECLS

/* Writes a new Ed25519 private key to @path (PEM, PKCS#8, mode 0600) and its public key to
 * @path.pub (PEM), each atomically. An existing @path or @path.pub is an error
 * (PCB_ERROR_USAGE) unless @force. PCB_ERROR_IO when a file cannot be written. */
PCB_API gboolean pcb_sign_keygen(const char *path, gboolean force, GError **error);

/* Whether @path holds an Ed25519 private key (PEM) pcb_report_sign() can use; FALSE with
 * PCB_ERROR_IO or PCB_ERROR_USAGE. */
PCB_API gboolean pcb_sign_key_check(const char *path, GError **error);

/* The key id ("SHA-256 of the raw public key", hex; g_free it) of the private or public PEM
 * key in @path; NULL with PCB_ERROR_IO or PCB_ERROR_USAGE (not an Ed25519 key). */
PCB_API char *pcb_sign_key_id(const char *path, GError **error);

/* The canonical form of the JSON report @json (g_free it); NULL with PCB_ERROR_DECODE when
 * it is no JSON object. */
PCB_API char *pcb_report_canonical(const char *json, GError **error);

/* @json (a report as pcb_report_to_json() writes it, without a signature) with a "signature"
 * member made with the private key in @key_path (g_free it); NULL with PCB_ERROR_IO,
 * PCB_ERROR_USAGE (not an Ed25519 private key) or PCB_ERROR_DECODE (not a report). */
PCB_API char *pcb_report_sign(const char *json, const char *key_path, GError **error);

/* pcb_report_write_json() with the report signed by the private key in @key_path: written
 * atomically the same way (a temporary file, renamed), or not at all. */
PCB_API gboolean pcb_report_write_json_signed(const PcbInspection *insp, const GError *failure,
                                              const char *path, const char *key_path,
                                              GError **error);

/* Whether the signed report @json verifies with the public key in @pubkey_path, and, for each
 * of @photo_path and @reference_path given, whether that file's SHA-256 is the one the report
 * names. FALSE with PCB_ERROR_VERIFY and the reason ("no signature", "signature does not match
 * the report's content", "signed by another key", "photo: SHA-256 differs ..."), or with
 * PCB_ERROR_IO / PCB_ERROR_DECODE / PCB_ERROR_USAGE for an unreadable or malformed report or
 * key. *@key_id (optional; g_free it) is the signing key's id on success. */
PCB_API gboolean pcb_report_verify(const char *json, const char *pubkey_path,
                                   const char *photo_path, const char *reference_path,
                                   char **key_id, GError **error);

G_END_DECLS

#endif
