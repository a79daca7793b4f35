/* sink_console.h - one readable line per exposed session, for the person at the terminal.
 *
 * Wire bytes are escaped (no terminal control sequence gets through) and secrets are shown
 * only as their length unless the sink was opened with is_reveal. */
#ifndef PLAINSIGHT_SINK_CONSOLE_H
#define PLAINSIGHT_SINK_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "finding.h"

/* Prints the line for s (borrowed) on out if the session is exposed. */
void sink_console_session(FILE *out, const struct session *s, bool is_reveal);

#endif
