/* The catalogue of every message forkmp prints for a user (errors, warnings, notes, the
 * failure report of a join), the hybrid layer's included.  Each is a format string under
 * a stable key, FMP__MSG_<key>; code never writes a sentence of its own, it names a key:
 *
 *     FMP__SAY(arena_map, size, strerror(e));        print "forkmp: ...\n", whole
 *     snprintf(buf, len, FMP__MSG_member_signal, ...) compose a part of a longer report
 *     FMP__MPI_SAY(mpi_comm_null, what);             the hybrid layer (src/mpi/hybrid.h):
 *                                                     "forkmp: rank R: ...\n"
 *
 * All expand to a string literal at the call site, so the compiler checks every
 * argument against its format (-Wformat).  Tests include this header and match the text
 * through the key, never through a copy of it. */
#ifndef FMP_MESSAGES_H
#define FMP_MESSAGES_H

/* ------------------------------------------------------------------ shared arena */
#define FMP__MSG_arena_map                                                              \
    "cannot reserve the shared arena of %zu bytes: %s (lower FMP_SHARED_SIZE, or raise "  \
    "`ulimit -v`)"
#define FMP__MSG_arena_valgrind                                                         \
    "note: running under valgrind: the shared arena defaults to %zu MiB instead of the "    \
    "machine's memory (valgrind's leak check reads every page of it at each process's "     \
    "end, which would make all of it resident); set FMP_SHARED_SIZE for another size"
#define FMP__MSG_arena_unusable                                                         \
    "the shared arena's blocks do not add up after a member died while allocating or "     \
    "freeing (was shared memory written past the end of a block?): no more shared memory "   \
    "can be allocated in this run"
#define FMP__MSG_free_foreign "fmp_shared_free(%p): not a block of the shared arena; ignored"
#define FMP__MSG_free_bad                                                               \
    "fmp_shared_free(%p): not an allocated block (freed twice?); ignored"
#define FMP__MSG_realloc_foreign                                                        \
    "fmp_shared_realloc(%p, %zu): not a block of the shared arena (memory from malloc() "  \
    "is resized by realloc()); refused: NULL returned, the memory is untouched"
#define FMP__MSG_realloc_bad                                                            \
    "fmp_shared_realloc(%p, %zu): not an allocated block of the shared arena (freed "      \
    "already, or a pointer into a block?); refused: NULL returned, the arena is untouched"

/* ------------------------------------------------------------------ warm regions */
#define FMP__MSG_warm_fallback                                                          \
    "note: the region at %s:%d forks its members instead of reusing warm ones: %s "       \
    "(said once)"
#define FMP__MSG_warm_release_inside                                                    \
    "fmp_warm_release() inside a region or a team's run: the warm members are in use; "  \
    "nothing was ended"
#define FMP__MSG_warm_report                                                            \
    "FMP_REGION: %ld regions reused warm members, %ld started a warm pool, %ld forked"

/* ------------------------------------------------------------------ FMP_CHECK=writes */
#define FMP__MSG_check_lost                                                                        \
    "lost write in the region at %s:%d: member %d%s wrote %zu bytes of %s, which the join "        \
    "throws away: " FMP__MSG_check_fix " (said once for this place)"
#define FMP__MSG_check_lost_team                                                                   \
    "lost write in a run of the team created at %s:%d: member %d%s wrote %zu bytes of %s, "        \
    "which the master never sees: " FMP__MSG_check_fix " (said once for this place)"
#define FMP__MSG_check_fix "allocate it with fmp_shared_alloc, or combine it with fmp_reduce"
#define FMP__MSG_check_more " (and %d more members)"
#define FMP__MSG_check_global "the global `%s` (bytes %zu to %zu of its %zu; in %s)"
#define FMP__MSG_check_global_elems "the global `%s` (%s: %s of %zu; in %s)"
#define FMP__MSG_check_local "the local `%s` (%s) of %s()"
#define FMP__MSG_check_local_elems "the local `%s` (%s: %s of %zu) of %s()"
#define FMP__MSG_check_elem "element %zu"
#define FMP__MSG_check_elems "elements %zu to %zu"
#define FMP__MSG_check_global_typed "the global `%s` (%s; in %s)"
#define FMP__MSG_check_heap "a heap block of %zu bytes allocated at %s (bytes %zu to %zu)"
#define FMP__MSG_check_map "a private mapping of %zu bytes made at %s (bytes %zu to %zu)"
#define FMP__MSG_check_stack "a local of %s() (bytes -%zu to -%zu from the top of its frame)"
#define FMP__MSG_check_unavailable                                                                 \
    "FMP_CHECK=writes: the members' writes cannot be checked here (%s): no lost write is "         \
    "reported"
#define FMP__MSG_check_no_sites                                                                    \
    "note: FMP_CHECK=writes: heap blocks are not checked: their allocation sites are "             \
    "recorded by libforkmp_check.so, which is not loaded (set FMP_CHECK before the program "       \
    "starts, or preload it: LD_PRELOAD=libforkmp_check.so)"
#define FMP__MSG_check_file                                                                        \
    "FMP_CHECK=writes:%s: cannot open the report file (%s); lost writes go to stderr only"
#define FMP__MSG_check_lost_hits                                                                   \
    "FMP_CHECK=writes: a region's members wrote more than %ld places; the others are not "         \
    "reported"
#define FMP__MSG_set_check "fmp_set_check(\"%s\"): expected writes, writes:FILE or off; ignored"
#define FMP__MSG_set_check_inside                                                                  \
    "fmp_set_check() inside a region or a team's run: the check changes between regions; "         \
    "ignored"

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
#define FMP__MSG_execed                                                                            \
    " ran another program (exec) inside the region; forkmp ended it (a member that runs "          \
    "a program must fork it: system(), posix_spawn())"
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
#define FMP__MSG_region_left_open                                                                  \
    "the program ended inside the region opened at %s:%d (exit() called in the region, "           \
    "by a signal handler for one, or the region left by longjmp): its members were "               \
    "stopped"

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
/* fmp_reduce_value with an op its type does not take: site, op, type, the error's text */
#define FMP__MSG_reduce_value_refused                                                              \
    "fmp_reduce_value at %s:%d: %s on %s: %s; every member got its own value back"
#define FMP__MSG_mismatch_point "%s (%s:%d) after %lu construct%s%s"
/* the last construct met before, where there was one: a reduction by count, type and op */
#define FMP__MSG_mismatch_last ", the last %s (%s:%d) with arguments (%ld, %ld, %ld)"
#define FMP__MSG_mismatch_last_reduce ", the last %s (%s:%d) of %ld elements of %s by %s"
#define FMP__MSG_mismatch_for                                                           \
    "worksharing mismatch in the team of %d opened at %s:%d: member %d met FMP_FOR at "  \
    "%s:%d over [%ld, %ld) with %s(%ld) as its worksharing construct #%lu, where member " \
    "%d met %s at %s:%d over [%ld, %ld) with %s(%ld)"
#define FMP__MSG_mismatch_iterate                                                       \
    "worksharing mismatch in the team of %d opened at %s:%d: member %d met fmp_iterate "  \
    "at %s:%d (items of %zu bytes) where member %d met %s at %s:%d"
#define FMP__MSG_for_bad_kind                                                           \
    "%s at %s:%d: schedule kind %d is not one of fmp_static, fmp_dynamic, "               \
    "fmp_guided, fmp_runtime; the loop ran no iteration"
#define FMP__MSG_for_bad_chunk                                                          \
    "%s at %s:%d: %s(%ld): the chunk size must be 0 or more; the loop ran no "            \
    "iteration"
#define FMP__MSG_for_step_zero                                                          \
    "FMP_FOR_STEP at %s:%d: the step is 0 (from %ld to %ld the loop would never end); "   \
    "the loop ran no iteration"
#define FMP__MSG_for_collapse_overflow                                                  \
    "FMP_FOR_COLLAPSE at %s:%d: [%ld, %ld) x [%ld, %ld) is %lu x %lu iterations, more "    \
    "than an unsigned long counts; the loop ran no iteration"
#define FMP__MSG_mismatch_loop                                                          \
    "worksharing mismatch in the team of %d opened at %s:%d: member %d met %s at %s:%d "  \
    "%s with %s(%ld) as its worksharing construct #%lu, where member %d met %s at %s:%d " \
    "%s with %s(%ld)"
/* the bounds of a loop in mismatch_loop: FMP_FOR, FMP_FOR_ORDERED; FMP_FOR_STEP;
   FMP_FOR_COLLAPSE */
#define FMP__MSG_loop_range "over [%ld, %ld)"
#define FMP__MSG_loop_range_step "from %ld to %ld by %ld"
#define FMP__MSG_loop_range_collapse "over [%ld, %ld) x [%ld, %ld)"
#define FMP__MSG_mismatch_ordered                                                       \
    "worksharing mismatch in the team of %d opened at %s:%d: member %d reached %s at "    \
    "%s:%d without meeting FMP_FOR_ORDERED at %s:%d (its worksharing construct #%lu), "   \
    "which member %d met and whose ordered blocks wait for its iterations"
#define FMP__MSG_ordered_outside                                                        \
    "FMP_ORDERED at %s:%d is not inside the body of an FMP_FOR_ORDERED loop of this "      \
    "team: there is no order to follow"
#define FMP__MSG_ordered_twice                                                          \
    "FMP_ORDERED at %s:%d: iteration %ld of FMP_FOR_ORDERED at %s:%d already ran an "      \
    "ordered block (as in OpenMP, an iteration runs at most one)"
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

/* ------------------------------------------------------------------ tasks */
#define FMP__MSG_task_args "fmp_task: %s; no task was created"
#define FMP__MSG_task_arg_memory                                                        \
    "fmp_task: no memory for a copy of the %zu-byte argument (%s); no task was created"

/* ------------------------------------------------------------------ synchronisation */
#define FMP__MSG_nest_unset_other                                                       \
    "fmp_nest_lock_unset(%p): the lock is held by process %d, not by the caller (process "  \
    "%d): only the member that set a nested lock may unset it"
#define FMP__MSG_nest_unset_free                                                        \
    "fmp_nest_lock_unset(%p): the lock is not held by the caller (process %d): unset more " \
    "times than it was set?"
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
/* members bound to fewer places than there are members (forkmp-info): the team size,
   then the one place's cpus, or how many places they share; FMP_PLACES' value */
#define FMP__MSG_team_one_place                                                         \
    "warning: the %d members of a team are all bound to one place (cpus %s, "              \
    "FMP_PLACES='%s'): they share its cores.  Use FMP_PROC_BIND=close or spread, or give "  \
    "FMP_PLACES a place per member"
#define FMP__MSG_team_shared_places                                                     \
    "warning: the %d members of a team are bound to %d places (FMP_PLACES='%s'): "          \
    "members share places.  Lower FMP_NUM_THREADS to the number of places, or give "       \
    "FMP_PLACES a place per member"
#define FMP__MSG_oversubscribed_cores "%d core%s (%s)"
/* the same where the process may use every cpu of the machine: no binding to loosen */
#define FMP__MSG_oversubscribed_machine                                                            \
    "warning: a team of %d processes runs on %s, all the cpus of this machine: members "           \
    "share cores. Lower FMP_NUM_THREADS to %d"
/* a team of the size fmp_set_num_threads() asked for (the size), after which the live
   members of this "node" (MPI) or "program" (the count) outnumber its cpus (the count,
   plural s); the team size that would have fit (plural s) */
#define FMP__MSG_oversubscribed_grown                                                   \
    "warning: a team of %d processes, as fmp_set_num_threads() asked, brings the live "    \
    "members of forkmp's teams in this %s to %d processes on %d cpu%s: members share "     \
    "cores, and sleep almost at once when they wait.  Ask for at most %d member%s, or "    \
    "give the ranks more cpus"
#define FMP__MSG_oversubscribed_smt "%d core%s (%d PUs: %s)"

/* ------------------------------------------------------------------ hybrid layer */
/* libforkmp_mpi (src/mpi/), printed by FMP__MPI_SAY (rank prefixed once fmp_mpi_init()
   knows the rank) or FMP__MPI_SAY_JOB (job-wide, printed by one rank).  The first %s is
   the name of the function called, unless said otherwise. */

/* where a call may be made */
#define FMP__MSG_mpi_before_init                                                                   \
    "%s: called before MPI_Init: call MPI_Init or MPI_Init_thread first"
#define FMP__MSG_mpi_after_finalize "%s: called after MPI_Finalize"
#define FMP__MSG_mpi_in_child                                                                      \
    "%s: called in process %d, a member forked by forkmp (or the master of a nested "              \
    "team), which must never call MPI.  The fmp_mpi_* collectives called by every member "         \
    "of the outermost team are carried out by the rank's master; call anything else from "         \
    "the rank's own process"
#define FMP__MSG_mpi_in_region                                                                     \
    "fmp_mpi_init: called inside a region: call it once after MPI_Init, outside regions"
/* an MPI function called by a member (libforkmp_mpi's MPI wrappers, src/mpi/mpicheck.c):
   the member (member_of: member, pid, team, its call site), then the MPI function; the
   record of the team's failure, which the master prints with "rank R: " before it */
#define FMP__MSG_mpi_member_call                                                                   \
    "%s called %s, but a member forked by forkmp must never call MPI: only the rank's own "        \
    "process (member 0 of the outermost team) may.  Make the call outside the region, or in "      \
    "FMP_MASTER, or use the fmp_mpi_* collectives, which every member calls and the master "       \
    "carries out"
/* the same in a process that a member forked itself (not a member of a team): the MPI
   function, the pid */
#define FMP__MSG_mpi_member_child_call                                                             \
    "%s: called in process %d, forked by a member of a forkmp team, which must never call MPI"

/* libforkmp_mpi and libforkmp of different builds (the internal interface, src/ops.c):
   the function, the forkmp release of libforkmp_mpi, then of libforkmp, then a reason */
#define FMP__MSG_mpi_core_mismatch                                                                 \
    "%s: libforkmp_mpi (forkmp %s) cannot work with the libforkmp it was loaded with "             \
    "(forkmp %u.%u.%u): %s.  Install both libraries from the same build of forkmp"
/* the reasons: libforkmp has no table of the version this libforkmp_mpi was built for */
#define FMP__MSG_mpi_core_abi "it has no internal interface of version %u"
/* its table of that version is shorter (an older libforkmp) */
#define FMP__MSG_mpi_core_size                                                                     \
    "its internal interface of version %u has %zu bytes, this libforkmp_mpi needs %zu"

/* arguments */
#define FMP__MSG_mpi_comm_null "%s: the communicator is MPI_COMM_NULL"
#define FMP__MSG_mpi_intercomm                                                                     \
    "%s: the communicator is an intercommunicator, which cannot be split by node: pass "           \
    "an intracommunicator such as MPI_COMM_WORLD"
#define FMP__MSG_mpi_coll_intercomm                                                                \
    "%s: intercommunicators are not supported: pass an intracommunicator"
#define FMP__MSG_mpi_count_negative "%s: count is negative (%d)"
#define FMP__MSG_mpi_type_null "%s: the datatype is MPI_DATATYPE_NULL"
#define FMP__MSG_mpi_op_null "%s: the op is MPI_OP_NULL"
#define FMP__MSG_mpi_buf_null "%s: buf is NULL"
#define FMP__MSG_mpi_in_null                                                                       \
    "%s: in is NULL (to reduce in place, pass MPI_IN_PLACE and the data in out)"
#define FMP__MSG_mpi_out_null "%s: out is NULL"
#define FMP__MSG_mpi_in_place_out_null "%s: in is MPI_IN_PLACE but out is NULL"
#define FMP__MSG_mpi_bad_root "%s: root %d is not a rank of the communicator (size %d)"
#define FMP__MSG_mpi_in_place_not_root "%s: MPI_IN_PLACE is allowed on the root only"
#define FMP__MSG_mpi_root_out_null "%s: out is NULL on the root"
#define FMP__MSG_mpi_type_bounds                                                                   \
    "%s: datatypes with a negative lower bound or extent are not supported inside a "              \
    "region"
/* the function, the variable, its value */
#define FMP__MSG_mpi_env_count "%s: ignoring %s='%s': not a count of cpus"
/* the function, the MPI call, MPI's error string */
#define FMP__MSG_mpi_call_failed "%s: %s failed: %s"
#define FMP__MSG_mpi_no_memory "%s: out of memory for the job-wide check"

/* job-wide warnings of fmp_mpi_init (FMP__MPI_SAY_JOB: printed once, by one rank) */
#define FMP__MSG_mpi_rank_oversub                                                                  \
    "warning: on %d of the %d ranks the team is larger than the cpus the rank is bound "           \
    "to (rank %d on host %s: a team of %d on %d cpu%s, %s): members share cores.  Give "           \
    "each rank %d cpus: under mpirun `--map-by slot:PE=%d` (or `--map-by ppr:1:node:PE=%d` "       \
    "for one rank a node) or `--bind-to none`; under Slurm `srun --cpus-per-task=%d` "             \
    "(#SBATCH --cpus-per-task=%d); or set FMP_NUM_THREADS=%d"
#define FMP__MSG_mpi_node_oversub                                                                  \
    "warning: the teams of %d rank%s on node %s add up to %d processes on %d cpu%s: "              \
    "members share cores.  Set FMP_NUM_THREADS=%d, or start fewer ranks a node "                   \
    "(mpirun `--map-by ppr:1:node:PE=%d`, Slurm `--ntasks-per-node=1 "                             \
    "--cpus-per-task=%d`)"
#define FMP__MSG_mpi_idle                                                                          \
    "note: the launcher bound each rank to %d cpu%s, so teams have %d member%s, while %d "         \
    "of the %d cpus of node %s run no rank.  For bigger teams give each rank more cpus: "          \
    "under mpirun `--map-by slot:PE=N` or `--bind-to none`, under Slurm "                          \
    "`--cpus-per-task=N`"
#define FMP__MSG_mpi_preinit_differs                                                               \
    "note: rank %d created its team before MPI_Init with %d member%s "                             \
    "(fmp_mpi_preinit_num_threads), but fmp_mpi_init finds %d for it"
/* fork safety: the sentence (composed by fmp__mpi_fork_verdict(), src/mpi/forksafe.c):
   the MPI library, what it uses, the harm (one of the two below), the variables to set,
   mpirun's options for them; printed whole as mpi_fork_advice */
#define FMP__MSG_mpi_fork_unsafe                                                                   \
    "%s uses %s here without fork support: %s.  Set %s in the job's environment before "           \
    "the program starts (mpirun %s; sbatch and srun pass the environment on), or create "          \
    "the team with fmp_team_create() before MPI_Init, whose members hold no network "              \
    "state"
#define FMP__MSG_mpi_fork_harm_efa "it aborts the process at the first fork()"
#define FMP__MSG_mpi_fork_harm_verbs                                                               \
    "a region forked after MPI_Init can corrupt the memory MPI registered with the "               \
    "network card"
#define FMP__MSG_mpi_fork_advice "%s"

/* ------------------------------------------------------------------ printing */
/* "forkmp: " + the message + "\n", in one write under the output lock; key is the
   message's key as a string, for the debugger. */
void fmp__say(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define FMP__SAY(key, ...) fmp__say(#key, FMP__MSG_##key, ##__VA_ARGS__)

#endif /* FMP_MESSAGES_H */
