/* sink.c - the registry of outputs and the set of open sinks the run writes to.
 *
 * The registry is the one list of outputs: the order here is the order they open (the
 * database first, so a bad -w fails before a JSON file is made), receive each session and, in
 * reverse, close. The set fans every call out and applies the failure policy of sink.h: every
 * failure is logged with the sink's own message, a fatal one is remembered and returned, and a
 * sink marked SINK_F_SKIP_FAILED (the database) is left alone once the run has failed, so the
 * run's row is not updated as if all were well. */
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "sink_console.h"
#include "sink_json.h"
#include "sink_sqlite.h"
#include "sink_syslog.h"

/* Every output, in order. A new output: its module, and one line here. */
static const struct sink_ops *const sink_registry[] = {
    &sink_sqlite_ops,
    &sink_json_ops,
    &sink_syslog_ops,
    &sink_console_ops,
};

#define SINK_REGISTRY_N (sizeof sink_registry / sizeof sink_registry[0])

/* Longest failure message kept, bytes. */
#define SINK_ERR_MAX 512

struct sink_open {
    const struct sink_ops *ops;
    void *st;
};

struct sink_set {
    struct sink_open *open; /* owned, room for every sink offered to the open */
    size_t n;
    bool is_live;
    bool has_failed;
    const char *failed_name;
    char failure[SINK_ERR_MAX];
};

const char *sink_db_lib_version(void)
{
    return sink_sqlite_lib_version();
}

bool sink_check_syslog_target(const char *target, char *err, size_t errcap)
{
    struct sink_syslog_target t;
    return sink_syslog_parse_target(target, &t, err, errcap) == PS_OK;
}

int sink_facility_code(const char *name)
{
    return sink_syslog_facility(name);
}

size_t sink_registry_count(void)
{
    return SINK_REGISTRY_N;
}

const struct sink_ops *sink_registry_get(size_t i)
{
    return i < SINK_REGISTRY_N ? sink_registry[i] : NULL;
}

enum ps_err sink_set_open_ops(const struct sink_ops *const *ops, size_t n,
                              const struct sink_config *cfg, const struct finding_key *key,
                              struct sink_set **out, char *err, size_t errcap)
{
    *out = NULL;
    struct sink_set *set = xcalloc(1, sizeof *set);
    set->open = xcalloc(n, sizeof set->open[0]);
    set->is_live = cfg->is_live;
    for (size_t i = 0; i < n; i++) {
        void *st = NULL;
        enum ps_err e = ops[i]->open(cfg, key, &st, err, errcap);
        if (e != PS_OK) {
            sink_set_close(set);
            return e;
        }
        if (st != NULL) {
            set->open[set->n].ops = ops[i];
            set->open[set->n].st = st;
            set->n++;
        }
    }
    *out = set;
    return PS_OK;
}

enum ps_err sink_set_open(const struct sink_config *cfg, const struct finding_key *key,
                          struct sink_set **out, char *err, size_t errcap)
{
    return sink_set_open_ops(sink_registry, SINK_REGISTRY_N, cfg, key, out, err, errcap);
}

enum ps_err sink_peek_key(const struct sink_config *cfg, struct sink_key_state *ks, char *err,
                          size_t errcap)
{
    for (size_t i = 0; i < SINK_REGISTRY_N; i++) {
        if (sink_registry[i]->peek_key == NULL) {
            continue;
        }
        enum ps_err e = sink_registry[i]->peek_key(cfg, ks, err, errcap);
        if (e != PS_OK || ks->has_old_key || ks->has_key_id) {
            return e;
        }
    }
    return PS_OK;
}

/* Logs a sink's failure and applies the policy; returns e when it is fatal, else PS_OK. */
static enum ps_err failed(struct sink_set *set, const struct sink_ops *ops, enum ps_err e,
                          const char *msg, bool is_force)
{
    log_err("%s", msg);
    bool is_fatal = is_force || (ops->flags & SINK_F_STOPS) != 0 ||
                    ((ops->flags & SINK_F_STOPS_OFFLINE) != 0 && !set->is_live);
    if (!is_fatal) {
        return PS_OK;
    }
    if (!set->has_failed) {
        set->has_failed = true;
        set->failed_name = ops->name;
        snprintf(set->failure, sizeof set->failure, "%s", msg);
    }
    return e;
}

static bool is_skipped(const struct sink_set *set, const struct sink_open *o)
{
    return set->has_failed && (o->ops->flags & SINK_F_SKIP_FAILED) != 0;
}

/* Which op a fan-out calls, and its arguments. */
enum sink_call {
    SINK_CALL_RUN_BEGIN,
    SINK_CALL_SESSION,
    SINK_CALL_CREDENTIAL,
    SINK_CALL_TICK,
    SINK_CALL_RUN_UPDATE,
    SINK_CALL_REOPEN,
};

struct sink_args {
    const struct run_record *run;
    const struct session *s;
    size_t cred; /* SINK_CALL_CREDENTIAL: which credential of s */
    uint64_t now_usec;
    bool is_force;
};

/* Calls one sink's op; returns PS_OK when it has none. */
static enum ps_err call_one(const struct sink_open *o, enum sink_call call,
                            const struct sink_args *a, char *err, size_t errcap)
{
    const struct sink_ops *ops = o->ops;
    switch (call) {
    case SINK_CALL_RUN_BEGIN:
        return ops->run_begin != NULL ? ops->run_begin(o->st, a->run, err, errcap) : PS_OK;
    case SINK_CALL_SESSION:
        return ops->session(o->st, a->s, err, errcap);
    case SINK_CALL_CREDENTIAL:
        return ops->credential != NULL ? ops->credential(o->st, a->s, a->cred, err, errcap) : PS_OK;
    case SINK_CALL_TICK:
        return ops->tick != NULL ? ops->tick(o->st, a->now_usec, a->is_force, err, errcap) : PS_OK;
    case SINK_CALL_RUN_UPDATE:
        return ops->run_update != NULL ? ops->run_update(o->st, a->run, err, errcap) : PS_OK;
    case SINK_CALL_REOPEN:
        return ops->reopen != NULL ? ops->reopen(o->st, err, errcap) : PS_OK;
    }
    return PS_OK;
}

static enum ps_err fan_out(struct sink_set *set, enum sink_call call, const struct sink_args *a)
{
    enum ps_err first = PS_OK;
    for (size_t i = 0; i < set->n; i++) {
        const struct sink_open *o = &set->open[i];
        if (is_skipped(set, o)) {
            continue;
        }
        char err[SINK_ERR_MAX];
        err[0] = '\0';
        enum ps_err e = call_one(o, call, a, err, sizeof err);
        if (e != PS_OK) {
            e = failed(set, o->ops, e, err, call == SINK_CALL_TICK && a->is_force);
            if (first == PS_OK) {
                first = e;
            }
        }
    }
    return first;
}

enum ps_err sink_set_run_begin(struct sink_set *set, const struct run_record *run)
{
    struct sink_args a = { .run = run };
    return fan_out(set, SINK_CALL_RUN_BEGIN, &a);
}

enum ps_err sink_set_session(struct sink_set *set, const struct session *s)
{
    struct sink_args a = { .s = s };
    return fan_out(set, SINK_CALL_SESSION, &a);
}

enum ps_err sink_set_credential(struct sink_set *set, const struct session *s, size_t i)
{
    struct sink_args a = { .s = s, .cred = i };
    return fan_out(set, SINK_CALL_CREDENTIAL, &a);
}

enum ps_err sink_set_tick(struct sink_set *set, uint64_t now_usec, bool is_force)
{
    struct sink_args a = { .now_usec = now_usec, .is_force = is_force };
    return fan_out(set, SINK_CALL_TICK, &a);
}

enum ps_err sink_set_run_update(struct sink_set *set, const struct run_record *run)
{
    struct sink_args a = { .run = run };
    return fan_out(set, SINK_CALL_RUN_UPDATE, &a);
}

enum ps_err sink_set_reopen(struct sink_set *set)
{
    struct sink_args a = { .run = NULL };
    return fan_out(set, SINK_CALL_REOPEN, &a);
}

void sink_set_files(const struct sink_set *set, sink_file_fn *fn, void *ctx)
{
    for (size_t i = 0; i < set->n; i++) {
        if (set->open[i].ops->files != NULL) {
            set->open[i].ops->files(set->open[i].st, fn, ctx);
        }
    }
}

bool sink_set_has_failed(const struct sink_set *set)
{
    return set->has_failed;
}

const char *sink_set_failure(const struct sink_set *set, const char **name)
{
    if (name != NULL) {
        *name = set->failed_name;
    }
    return set->has_failed ? set->failure : NULL;
}

size_t sink_set_count(const struct sink_set *set)
{
    return set->n;
}

void sink_set_close(struct sink_set *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = set->n; i > 0; i--) {
        set->open[i - 1].ops->close(set->open[i - 1].st);
    }
    free(set->open);
    free(set);
}
