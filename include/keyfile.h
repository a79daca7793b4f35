/* keyfile.h - the fingerprint key's file: outside the database, readable by its owner only.
 *
 * The key that makes a secret's fingerprint must not travel with the database: whoever holds
 * both can test password guesses offline at the speed of one HMAC. It lives in a file of its
 * own, created mode 0600 on first use beside the database (or named with --key-file, which is
 * how sensors share one key). The file is one line: the 32 bytes as 64 lower-case hex digits.
 * A file that exists but cannot be read, or does not hold exactly that, is an error, never a
 * reason to make a new key. */
#ifndef PLAINSIGHT_KEYFILE_H
#define PLAINSIGHT_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "ps.h"

struct finding_key;

/* The key file that goes with the database at db_path: its name with a trailing ".db" replaced
 * by ".key", or ".key" appended. Returns owned text (free with free). */
char *keyfile_default_path(const char *db_path);

/* Reads the key file at path into *key. PS_OK with *is_missing true when there is no such
 * file (key untouched); PS_ERR_IO when it cannot be read (a directory, permission) and
 * PS_ERR_FORMAT when it does not hold a key, each with a one-line reason naming the file in
 * err. Sets *is_loose when the file can be read by other users than its owner. */
enum ps_err keyfile_load(const char *path, struct finding_key *key, bool *is_missing,
                         bool *is_loose, char *err, size_t errcap);

/* Creates the key file at path (mode 0600; never replacing a file that exists) holding key
 * (borrowed). On failure nothing is left behind, and err says why. */
enum ps_err keyfile_create(const char *path, const struct finding_key *key, char *err,
                           size_t errcap);

#endif
