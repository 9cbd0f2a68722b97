/* The catalogue of every message forkmp prints for a user (errors, warnings, notes, the
 * failure report of a join), the hybrid layer's included.  Each is a format string under
 * a stable key, FMP__MSG_<key>; code never writes a sentence of its own, it names a key:
 *
 *     FMP__SAY(arena_map, size, strerror(e));        print "forkmp: ...\n", whole
 *     snprintf(buf, len, FMP__MSG_member_signal, ...) compose a part of a longer report
 *
 * Both expand to a string literal at the call site, so the compiler checks every
 * argument against its format (-Wformat).  Tests include this header and match the text
 * through the key, never through a copy of it. */
#ifndef FMP_MESSAGES_H
#define FMP_MESSAGES_H

/* ------------------------------------------------------------------ shared arena */
#define FMP__MSG_arena_map                                                              \
    "cannot reserve the shared arena of %zu bytes: %s (lower FMP_SHARED_SIZE, or raise "  \
    "`ulimit -v`)"
#define FMP__MSG_free_foreign "fmp_shared_free(%p): not a block of the shared arena; ignored"
#define FMP__MSG_free_bad                                                               \
    "fmp_shared_free(%p): not an allocated block (freed twice?); ignored"

/* ------------------------------------------------------------------ ICV setters */
#define FMP__MSG_set_num_threads                                                        \
    "fmp_set_num_threads(%d): the team size must be at least 1; ignored"
#define FMP__MSG_set_max_active_levels                                                  \
    "fmp_set_max_active_levels(%d): must be at least 1; ignored"

/* ------------------------------------------------------------------ regions */
#define FMP__MSG_region_size "%s at %s:%d: team size %d is %s; %s"
#define FMP__MSG_fork_failed "%s at %s:%d: fork of member %d failed: %s%s; %s"
#define FMP__MSG_team_memory                                                            \
    "%s at %s:%d: no room for the team's control block in the shared arena "             \
    "(FMP_SHARED_SIZE); %s"
#define FMP__MSG_member_failed "%s"
#define FMP__MSG_usage "%s"

/* ------------------------------------------------------------------ persistent teams */
#define FMP__MSG_team_state "%s: %s"

/* ------------------------------------------------------------------ synchronisation */
#define FMP__MSG_owner_dead                                                             \
    "%s at %s:%d: the lock's previous holder died while holding it; the data it "        \
    "protects may be half-updated"

/* ------------------------------------------------------------------ environment */
/* A malformed variable (then exit status 1): its name as read, its value (control
   characters shown as '?'), and what is allowed (the values column of env.c's table). */
#define FMP__MSG_env_bad_value "%s='%s': expected %s"
/* FMP_DISPLAY_ENV's block, composed line by line: the version, then one line per
   variable with its effective value. */
#define FMP__MSG_env_display_begin "FORKMP DISPLAY ENVIRONMENT BEGIN\n  _FORKMP = '%s'\n"
#define FMP__MSG_env_display_var "  [host] %s = '%s'\n"
#define FMP__MSG_env_display_end "FORKMP DISPLAY ENVIRONMENT END\n"

/* ------------------------------------------------------------------ topology and binding */
#define FMP__MSG_places_outside                                                         \
    "warning: FMP_PLACES='%s' has no place inside this process's cpus (%s): members are "  \
    "not bound"
/* a team larger than the cpus of its process: the team size, where it runs (one of the
   two below), then the fixes, spelled with the number of cpus and the team size */
#define FMP__MSG_oversubscribed                                                         \
    "warning: a team of %d processes runs on %s, the cpus this process may use: members "  \
    "share cores. Lower FMP_NUM_THREADS to %d, or give each rank %d cores: under mpirun "  \
    "`--bind-to none` or `--map-by slot:PE=%d`, under Slurm `srun --cpus-per-task=%d`"
#define FMP__MSG_oversubscribed_cores "%d core%s (%s)"
#define FMP__MSG_oversubscribed_smt "%d core%s (%d PUs: %s)"

/* ------------------------------------------------------------------ printing */
/* "forkmp: " + the message + "\n", in one write under the output lock; key is the
   message's key as a string, for the debugger. */
void fmp__say(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define FMP__SAY(key, ...) fmp__say(#key, FMP__MSG_##key, ##__VA_ARGS__)

#endif /* FMP_MESSAGES_H */
