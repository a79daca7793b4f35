/* priv.c - dropping root after a live capture's interface and outputs are open.
 *
 * The order matters: files are handed over (chown) while still root, then supplementary
 * groups, group and user are set, and a final setuid(0) must fail, so a half-done drop is never
 * taken for a done one. A file that cannot be handed over is only a warning: the run can go on
 * writing it through the descriptor it already holds. */
#include "priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sink.h"

struct owner {
    uid_t uid;
    gid_t gid;
};

/* Gives one output file to the unprivileged user; a file that may not exist yet (the
 * database's WAL) is passed over when it does not. */
static void hand_over(void *ctx, const char *path, bool is_optional)
{
    const struct owner *o = ctx;
    if (chown(path, o->uid, o->gid) != 0 && !(is_optional && errno == ENOENT)) {
        log_warn("%s: cannot hand over to the unprivileged user: %s", path, strerror(errno));
    }
}

bool priv_drop(const char *user, const struct sink_set *outputs, const char *key_path)
{
    if (geteuid() != 0) {
        return true;
    }
    const char *name = user != NULL ? user : PRIV_DEFAULT_USER;
    if (strcmp(name, "root") == 0) {
        return true;
    }
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
        if (user != NULL) {
            log_err("-Z %s: no such user", name);
            return false;
        }
        log_warn("running as root: user '%s' does not exist (create it, or name another "
                 "with -Z)",
                 PRIV_DEFAULT_USER);
        return true;
    }
    struct owner o = { pw->pw_uid, pw->pw_gid };
    sink_set_files(outputs, hand_over, &o);
    if (key_path != NULL) {
        hand_over(&o, key_path, false); /* the key file belongs to the sensor's user too */
    }
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        log_err("cannot drop privileges to %s: %s", name, strerror(errno));
        return false;
    }
    if (setuid(0) == 0) {
        log_err("cannot drop privileges to %s: root could be regained", name);
        return false;
    }
    log_info("running as %s", name);
    return true;
}
