/* The catalogue of user-facing messages: stable keys, so tests can match them.
 * Every message starts with "forkmp: " and is printed whole, in one write. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *key;
    const char *fmt;
} catalogue[] = {
    /* arena */
    {"arena-map", "cannot reserve the shared arena of %zu bytes: %s "
                  "(lower FMP_SHARED_SIZE, or raise `ulimit -v`)"},
    {"free-foreign", "fmp_shared_free(%p): not a block of the shared arena; ignored"},
    {"free-bad", "fmp_shared_free(%p): not an allocated block (freed twice?); ignored"},
    /* ICV setters */
    {"set-num-threads", "fmp_set_num_threads(%d): the team size must be at least 1; ignored"},
    {"set-max-active-levels", "fmp_set_max_active_levels(%d): must be at least 1; ignored"},
    /* regions */
    {"region-size", "%s at %s:%d: team size %d is %s; %s"},
    {"fork-failed", "%s at %s:%d: fork of member %d failed: %s%s; %s"},
    {"team-memory", "%s at %s:%d: no room for the team's control block in the shared arena "
                    "(FMP_SHARED_SIZE); %s"},
    {"thread-limit", "%s at %s:%d: team of %d capped to %d by FMP_THREAD_LIMIT"},
    {"member-failed", "%s"},
    /* persistent teams */
    {"team-state", "%s: %s"},
    /* worksharing */
    {"usage", "%s"},
    {"owner-dead", "%s at %s:%d: the lock's previous holder died while holding it; "
                   "the data it protects may be half-updated"},
};

const char *fmp__msg_format(const char *key)
{
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++)
        if (strcmp(catalogue[i].key, key) == 0)
            return catalogue[i].fmt;
    return NULL;
}


void fmp__msg(const char *key, ...)
{
    const char *fmt = fmp__msg_format(key);
    char full[512];
    snprintf(full, sizeof full, "forkmp: %s\n", fmt ? fmt : key);
    va_list ap;
    va_start(ap, key);
    fmp__vprint(2, full, ap);
    va_end(ap);
}
