/* priv.h - dropping root after a live capture's interface and outputs are open.
 *
 * Opening an interface needs root (or CAP_NET_RAW); reading it afterwards does not. Once the
 * socket and every output file are open, the process gives those files to an unprivileged
 * user, so it can still write, rotate and checkpoint them, and becomes that user for good. */
#ifndef PLAINSIGHT_PRIV_H
#define PLAINSIGHT_PRIV_H

#include <stdbool.h>

struct sink_set;

/* The unprivileged user live capture drops to by default, when it exists. */
#define PRIV_DEFAULT_USER "plainsight"

/* When running as root: hands every file of outputs (borrowed) and the fingerprint key file
 * (key_path; NULL for none) to user (NULL for
 * PRIV_DEFAULT_USER, which may be missing: then a warning, and the run stays root), then drops
 * to it, and checks root cannot be regained. "root" keeps root. Returns false, after logging
 * why, when a drop that was asked for fails: the run must not go on as root then. Not root:
 * does nothing and returns true. */
bool priv_drop(const char *user, const struct sink_set *outputs, const char *key_path);

#endif
