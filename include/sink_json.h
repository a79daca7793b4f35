/* sink_json.h - one JSON object per mail session, one per line, for log pipelines.
 *
 * Field names are the SQLite column names. Strings are escaped per RFC 8259; bytes that are
 * not valid UTF-8 are written as \u00XX of the byte value so every line stays valid JSON. */
#ifndef PLAINSIGHT_SINK_JSON_H
#define PLAINSIGHT_SINK_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "finding.h"
#include "ps.h"
#include "sink_ops.h"

struct sink_json;

/* The sink behind sink.h: opened when --json is given; a write failure stops an offline run
 * only, ticks flush, SIGHUP reopens the file. */
extern const struct sink_ops sink_json_ops;

/* Opens path for appending (created mode 0600), or standard output when path is NULL or "-".
 * When is_reveal, secrets, challenges and responses are written; otherwise they are null.
 * On failure returns PS_ERR_IO with a reason naming the file in err. */
enum ps_err sink_json_open(const char *path, bool is_reveal, struct sink_json **out, char *err,
                           size_t errcap);

/* The objects the sink writes, without the line's end, into f (borrowed; errors stay in f's
 * error flag): for other outputs that carry the same JSON (syslog). */
void sink_json_format_session(FILE *f, const struct session *s, bool is_reveal);
void sink_json_format_credential(FILE *f, const struct session *s, size_t i, bool is_reveal);

/* Writes a credential event: credential i of s (borrowed), as a line of event_type
 * "credential" with the session's uid; the session's own line follows at its end. */
enum ps_err sink_json_credential(struct sink_json *j, const struct session *s, size_t i);

/* Writes one session (borrowed) as a line of event_type "session". */
enum ps_err sink_json_session(struct sink_json *j, const struct session *s);

/* Flushes buffered lines. */
enum ps_err sink_json_flush(struct sink_json *j);

/* Closes and opens the file again by its path (log rotation: SIGHUP after the file was moved).
 * Standard output is only flushed. On failure returns PS_ERR_IO with the reason in err, and
 * the sink writes nothing until a later reopen succeeds. */
enum ps_err sink_json_reopen(struct sink_json *j, char *err, size_t errcap);

/* Flushes and closes (standard output is flushed, not closed). NULL does nothing. */
void sink_json_close(struct sink_json *j);

#endif
