/* sink_console.h - one readable line per exposed session, for the person at the terminal.
 *
 * Wire bytes are escaped (no terminal control sequence gets through) and secrets are shown
 * only as their length unless the sink was opened with is_reveal; then they are shown whole. */
#ifndef PLAINSIGHT_SINK_CONSOLE_H
#define PLAINSIGHT_SINK_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "finding.h"
#include "sink_ops.h"

/* The sink behind sink.h: on standard output (standard error when JSON goes to standard
 * output), none with -q; it never fails the run. */
extern const struct sink_ops sink_console_ops;

/* Prints the line for s (borrowed) on out if the session is exposed. */
void sink_console_session(FILE *out, const struct session *s, bool is_reveal);

#endif
