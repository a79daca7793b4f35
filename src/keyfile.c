/* keyfile.c - reading and creating the fingerprint key's file.
 *
 * Created with O_EXCL (never over another file) and O_NOFOLLOW (a planted link cannot point
 * the write elsewhere), mode 0600 whatever the umask, written whole and synced before it is
 * used, so a crash cannot leave a key the database was written with only half on disk. The
 * file is small and fixed: anything else in it is an error. */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finding.h"

/* The file's text: the key in hex and a newline. */
#define KEYFILE_HEX (2 * FINDING_KEY_LEN)

char *keyfile_default_path(const char *db_path)
{
    size_t n = strlen(db_path);
    size_t stem = n >= 3 && strcmp(db_path + n - 3, ".db") == 0 ? n - 3 : n;
    char *p = xmalloc(stem + sizeof ".key");
    memcpy(p, db_path, stem);
    memcpy(p + stem, ".key", sizeof ".key");
    return p;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The key in text[0..len): 64 hex digits, then at most one newline (LF or CR LF). */
static bool parse_key(const char *text, size_t len, uint8_t out[FINDING_KEY_LEN])
{
    if (len > KEYFILE_HEX && text[len - 1] == '\n') {
        len--;
        if (len > KEYFILE_HEX && text[len - 1] == '\r') {
            len--;
        }
    }
    if (len != KEYFILE_HEX) {
        return false;
    }
    for (size_t i = 0; i < FINDING_KEY_LEN; i++) {
        int hi = hex_value(text[2 * i]);
        int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

enum ps_err keyfile_load(const char *path, struct finding_key *key, bool *is_missing,
                         bool *is_loose, char *err, size_t errcap)
{
    *is_missing = false;
    *is_loose = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *is_missing = true;
        return PS_OK;
    }
    struct stat sb;
    const char *why = NULL;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        why = strerror(errno);
    } else if (!S_ISREG(sb.st_mode)) {
        why = "not a regular file";
    }
    /* One byte more than the longest valid text, so a longer file is seen as such. */
    char text[KEYFILE_HEX + 3];
    ssize_t n = why == NULL ? read(fd, text, sizeof text) : 0;
    if (n < 0) {
        why = strerror(errno);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (why != NULL) {
        snprintf(err, errcap, "%s: cannot read the fingerprint key file: %s", path, why);
        return PS_ERR_IO;
    }
    uint8_t bytes[FINDING_KEY_LEN];
    if (!parse_key(text, (size_t)n, bytes)) {
        explicit_bzero(text, sizeof text);
        snprintf(err, errcap,
                 "%s: not a fingerprint key file (one line of %d hex digits); it was left as "
                 "it is",
                 path, KEYFILE_HEX);
        return PS_ERR_FORMAT;
    }
    finding_key_set(key, bytes);
    explicit_bzero(bytes, sizeof bytes);
    explicit_bzero(text, sizeof text);
    *is_loose = (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0;
    return PS_OK;
}

enum ps_err keyfile_create(const char *path, const struct finding_key *key, char *err,
                           size_t errcap)
{
    static const char hex[] = "0123456789abcdef";
    char text[KEYFILE_HEX + 1];
    for (size_t i = 0; i < FINDING_KEY_LEN; i++) {
        text[2 * i] = hex[key->bytes[i] >> 4];
        text[2 * i + 1] = hex[key->bytes[i] & 0xf];
    }
    text[KEYFILE_HEX] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        explicit_bzero(text, sizeof text);
        snprintf(err, errcap, "%s: cannot create the fingerprint key file: %s", path,
                 strerror(errno));
        return PS_ERR_IO;
    }
    /* open's mode is cut by the umask; the key file is 0600 whatever it is. */
    bool is_ok = fchmod(fd, 0600) == 0 && write(fd, text, sizeof text) == (ssize_t)sizeof text &&
                 fsync(fd) == 0;
    int saved = errno;
    explicit_bzero(text, sizeof text);
    if (close(fd) != 0 && is_ok) {
        is_ok = false;
        saved = errno;
    }
    if (!is_ok) {
        unlink(path);
        snprintf(err, errcap, "%s: cannot write the fingerprint key file: %s", path,
                 strerror(saved));
        return PS_ERR_IO;
    }
    return PS_OK;
}
