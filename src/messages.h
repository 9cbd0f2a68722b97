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
#define FMP__MSG_arena_unusable                                                         \
    "the shared arena's blocks do not add up after a member died while allocating or "     \
    "freeing (was shared memory written past the end of a block?): no more shared memory "   \
    "can be allocated in this run"
#define FMP__MSG_free_foreign "fmp_shared_free(%p): not a block of the shared arena; ignored"
#define FMP__MSG_free_bad                                                               \
    "fmp_shared_free(%p): not an allocated block (freed twice?); ignored"

/* ------------------------------------------------------------------ ICV setters */
#define FMP__MSG_set_num_threads                                                        \
    "fmp_set_num_threads(%d): the team size must be at least 1; ignored"
#define FMP__MSG_set_num_threads_big                                                    \
    "fmp_set_num_threads(%d): larger than the largest team forkmp forks (%d); ignored"
#define FMP__MSG_set_max_active_levels                                                  \
    "fmp_set_max_active_levels(%d): must be at least 1; ignored"

/* ------------------------------------------------------------------ regions */
#define FMP__MSG_two_threads                                                            \
    "%s at %s:%d: called while another thread of this process is inside a forkmp region "  \
    "or team call; forkmp is called by one thread of a process at a time"
#define FMP__MSG_region_size "%s at %s:%d: team size %d is %s; %s"
#define FMP__MSG_fork_failed "%s at %s:%d: fork of member %d failed: %s%s; %s"
#define FMP__MSG_team_memory                                                            \
    "%s at %s:%d: no room for the team's control block in the shared arena "             \
    "(FMP_SHARED_SIZE); %s"
#define FMP__MSG_member_failed "%s"
#define FMP__MSG_usage "%s"

/* ------------------------------------------------------------------ failure reports */
/* A member's failure, composed by the master at the join: member_of, then what
   happened (killed_by / got_signal / exited_* / died_status_lost), with the details
   its own fatal-signal recorder left (fault_addr / fault_pc / raised_self / sent_by). */
#define FMP__MSG_rank_prefix "rank %d: "
#define FMP__MSG_member_of "member %d (pid %d) of the team of %d %s at %s:%d"
#define FMP__MSG_killed_by " was killed by signal %d (%s)"
#define FMP__MSG_got_signal " got signal %d (%s)"
#define FMP__MSG_fault_addr " at address 0x%lx, pc 0x%lx"
#define FMP__MSG_fault_pc " at pc 0x%lx"
#define FMP__MSG_raised_self ", raised by the member itself (abort() or raise())"
#define FMP__MSG_sent_by ", sent by pid %d"
#define FMP__MSG_core_dumped " (core dumped)"
#define FMP__MSG_handler_exit                                                           \
    ", then a handler of the program's for that signal ended the member with exit "      \
    "status %d"
#define FMP__MSG_exited_after_failure                                                   \
    " exited with status %d after a failure of its own (see above)"
#define FMP__MSG_exited_early                                                           \
    " exited with status %d before the end of the region (_exit() called in the region?)"
#define FMP__MSG_died " died"
#define FMP__MSG_and_died ", and died"
#define FMP__MSG_status_lost                                                            \
    "; its exit status was collected by another wait() of the program, or discarded "    \
    "because SIGCHLD is ignored (forkmp installs no SIGCHLD handler)"
#define FMP__MSG_lost_before_start " died before it started (killed at its fork?)"
/* failures a member records itself */
#define FMP__MSG_exit_called                                                            \
    "%s called exit(%d) inside the region (leave a region's block normally, or use "     \
    "fmp_barrier's errors)"
#define FMP__MSG_exit_after_jump                                                        \
    "%s left the region by longjmp (or another jump past the region's end) and then "    \
    "called exit(%d); a member must leave a region through its end"
#define FMP__MSG_left_block "%s left the region's block by break, goto or return"
#define FMP__MSG_left_by_jump                                                           \
    "%s left the region by longjmp (or another jump past the region's end) and called "  \
    "forkmp again from outside it; a member must leave a region through its end"
#define FMP__MSG_barrier_in_critical                                                    \
    "%s reached %s (%s:%d) while holding FMP_CRITICAL entered at %s:%d, which deadlocks "\
    "its team: the critical section was left by longjmp, or contains a barrier"
#define FMP__MSG_record_lost                                                            \
    "the team of %d %s at %s:%d was broken by a failure whose record was lost (its "     \
    "writer died while writing it)"
#define FMP__MSG_broken_no_record "the team of %d %s at %s:%d was broken"
#define FMP__MSG_region_left_open                                                       \
    "the program ended inside the region opened at %s:%d (left by longjmp?): its "       \
    "members were stopped"

/* ------------------------------------------------------------------ worksharing */
/* a construct's usage error made by one member of a team: member_of, then the error */
#define FMP__MSG_member_did "%s: %s"
#define FMP__MSG_for_break                                                              \
    "FMP_FOR at %s:%d: the loop's body was left by break.  forkmp (like OpenMP, which "  \
    "refuses break in a loop construct) cannot end a shared loop that way: break would "  \
    "end only the current chunk, and what runs would depend on the schedule and the "     \
    "team size.  Use a flag that the body tests, or continue"

#define FMP__MSG_construct_left                                                          \
    "%s left the block of %s at %s:%d by break, goto or return: OpenMP refuses a jump "   \
    "out of a structured block, and a break meant for an enclosing loop ends only that "   \
    "block here"
#define FMP__MSG_construct_left_serial                                                   \
    "the block of %s at %s:%d was left by break, goto or return: OpenMP refuses a jump "  \
    "out of a structured block, and a break meant for an enclosing loop ends only that "   \
    "block here"
#define FMP__MSG_iterate_args                                                           \
    "fmp_iterate at %s:%d: member %d:%s%s itemsize %zu (items of 1 byte to 1 GiB)"
#define FMP__MSG_iterate_ring                                                           \
    "fmp_iterate at %s:%d: no room for the item ring in the shared arena (raise "         \
    "FMP_SHARED_SIZE)"
#define FMP__MSG_iterate_memory "fmp_iterate at %s:%d: member %d: no memory for an item of %zu bytes"


/* ------------------------------------------------------------------ worksharing mismatches */
#define FMP__MSG_mismatch_barrier                                                       \
    "worksharing mismatch in the team of %d opened at %s:%d: member 0 reached %s; "      \
    "member %d reached %s"
#define FMP__MSG_mismatch_point                                                         \
    "%s (%s:%d) after %lu construct%s, the last %s (%s:%d) with arguments (%ld, %ld, %ld)"
#define FMP__MSG_mismatch_for                                                           \
    "worksharing mismatch in the team of %d opened at %s:%d: member %d met FMP_FOR at "  \
    "%s:%d over [%ld, %ld) with %s(%ld) as its worksharing construct #%lu, where member " \
    "%d met %s at %s:%d over [%ld, %ld) with %s(%ld)"
#define FMP__MSG_mismatch_iterate                                                       \
    "worksharing mismatch in the team of %d opened at %s:%d: member %d met fmp_iterate "  \
    "at %s:%d (items of %zu bytes) where member %d met %s at %s:%d"
#define FMP__MSG_for_bad_kind                                                           \
    "FMP_FOR at %s:%d: schedule kind %d is not one of fmp_static, fmp_dynamic, "          \
    "fmp_guided, fmp_runtime; the loop ran no iteration"
#define FMP__MSG_for_bad_chunk                                                          \
    "FMP_FOR at %s:%d: %s(%ld): the chunk size must be 0 or more; the loop ran no "       \
    "iteration"
#define FMP__MSG_scratch_memory                                                         \
    "%s at %s:%d: member %d found no room for %zu bytes of scratch in the shared arena "  \
    "(raise FMP_SHARED_SIZE)"
#define FMP__MSG_critical_again                                                         \
    "FMP_CRITICAL at %s:%d: entered again by the member that holds it (nested criticals " \
    "of the same name deadlock); the block was skipped"

/* ------------------------------------------------------------------ persistent teams */
#define FMP__MSG_team_null "%s: the team is NULL"
#define FMP__MSG_team_not_creator "%s: only the process that created the team may call it"
#define FMP__MSG_team_in_run "%s: called from inside a run of the same team"
#define FMP__MSG_team_run_args "fmp_team_run: %s"
#define FMP__MSG_team_arg_memory                                                        \
    "member %d of the team created at %s:%d: no memory for a copy of the %zu-byte "       \
    "argument"
#define FMP__MSG_parallel_null_body "fmp_parallel: body is NULL"

/* ------------------------------------------------------------------ synchronisation */
#define FMP__MSG_owner_dead                                                             \
    "%s at %s:%d: the lock's previous holder died while holding it; the data it "        \
    "protects may be half-updated"

/* ------------------------------------------------------------------ printing */
/* "forkmp: " + the message + "\n", in one write under the output lock; key is the
   message's key as a string, for the debugger. */
void fmp__say(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define FMP__SAY(key, ...) fmp__say(#key, FMP__MSG_##key, ##__VA_ARGS__)

#endif /* FMP_MESSAGES_H */
