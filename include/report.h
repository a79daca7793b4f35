/* report.h - the audit report: a database read (read-only) into one HTML, text or Markdown page.
 *
 * "plainsight report DB -o FILE": headline numbers, the servers' posture, the exposed accounts,
 * charts (inline SVG), and a remedy for each kind of finding. The database is opened read-only
 * and never changed, so a live run may go on writing it. Every table is cut at REPORT_MAX_ROWS
 * ("and N more"). Secrets appear only when the database holds them and is_reveal is set. The
 * second owner of sqlite3.h (after sink_sqlite, the writer): reading shares nothing with
 * writing but the schema. */
#ifndef PLAINSIGHT_REPORT_H
#define PLAINSIGHT_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ps.h"

enum report_format {
    REPORT_HTML = 0,
    REPORT_TEXT,
    REPORT_MARKDOWN,
};

/* What to report; strings borrowed. */
struct report_opts {
    const char *db_path;
    const char *out_path; /* NULL: standard output */
    enum report_format format;
    bool is_reveal; /* show the secrets the database holds */
};

/* Reads the database and writes the report (the file made mode 0600: it may name accounts).
 * Returns PS_OK, or PS_ERR_DB (not a plainsight database, unreadable) or PS_ERR_IO (the output
 * cannot be written) with a one-line reason naming the file in err. */
enum ps_err report_write(const struct report_opts *o, char *err, size_t errcap);

/* Writes s (len bytes, any bytes) for HTML text or attribute values into out (cap bytes, NUL
 * terminated, cut when too small): printable ASCII as itself except & < > " ' as entities,
 * every other byte as \xHH. Returns out. */
char *report_html_escape(char *out, size_t cap, const char *s, size_t len);

#endif
