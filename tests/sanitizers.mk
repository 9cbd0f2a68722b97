# tests/sanitizers.mk: how make check runs the programs of a build configured with
# --enable-sanitizers (AddressSanitizer + UndefinedBehaviorSanitizer, FMP_ARG_SANITIZERS
# in m4/fmp_checks.m4).  Included by the top Makefile.am; paths are relative to the top.
#
# Every test program, the helpers they run, the examples and the MPI ranks (mpirun passes
# its environment on) get these run-time options; options already in the caller's
# environment come after ours, so they win:
#
#   ASAN_OPTIONS
#     detect_leaks=1             LeakSanitizer at the exit() of every process.  forkmp's
#                                members leave with _exit() and are not checked (their
#                                heap is a copy of the master's); the master is, also when
#                                it ends in abort mode with exit(70).
#     fast_unwind_on_malloc=0    whole allocation stacks: Open MPI's libraries have no
#                                frame pointers, and the suppressions of tests/lsan.supp
#                                match MPI_Init / MPI_Finalize frames deep in those stacks.
#     handle_segv=1 handle_sigbus=1 handle_sigfpe=1 (ASan's defaults, said here because
#                                the failure tests rely on them): forkmp's fatal-signal
#                                recorder runs first and notes the signal, then chains to
#                                ASan's handler, which reports and ends the member with
#                                status 1; forkmp's diagnostic then says "got signal 11
#                                (SIGSEGV) ... ended the member with exit status 1".
#     detect_stack_use_after_return=0, abort_on_error=0: the defaults; an ASan report ends
#                                the process with status 1, which fails its test.
#     allocator_may_return_null=1   malloc of an impossible size returns NULL, as libc's
#                                does, instead of ending the process: tests give forkmp
#                                such sizes (fmp_task's argument) to check its error path
#   UBSAN_OPTIONS
#     halt_on_error=1            every UBSan report is fatal (the build also has
#                                -fno-sanitize-recover=undefined), status 1
#     print_stacktrace=1 report_error_type=1   where, and which check
#   LSAN_OPTIONS
#     suppressions=tests/lsan.supp   Open MPI's own leaks only, each entry explained
#     print_suppressions=0       no list of what was suppressed in every log
#   FORKMP_TEST_SANITIZERS=yes   tells the tests that check how a faulting member ended
#                                (tests/mpi/crash.mpi) that ASan's handler ends it
#   FORKMP_TEST_TIMEOUT_SCALE=5  (unless set) the watchdogs and the limits on the time
#                                from a member's failure to the program's end: a faulting
#                                member first writes ASan's symbolized report, which took
#                                up to 4 s on a loaded 2-core machine (tests/harness.h)

EXTRA_DIST += tests/lsan.supp

if HAVE_SANITIZERS
fmp_asan_options = detect_leaks=1:fast_unwind_on_malloc=0:handle_segv=1:handle_sigbus=1:handle_sigfpe=1:allocator_may_return_null=1
fmp_ubsan_options = halt_on_error=1:print_stacktrace=1:report_error_type=1
fmp_lsan_options = suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0
AM_TESTS_ENVIRONMENT = \
	ASAN_OPTIONS="$(fmp_asan_options)$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}"; \
	UBSAN_OPTIONS="$(fmp_ubsan_options)$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}"; \
	LSAN_OPTIONS="$(fmp_lsan_options)$${LSAN_OPTIONS:+:$$LSAN_OPTIONS}"; \
	FORKMP_TEST_SANITIZERS=yes; \
	FORKMP_TEST_TIMEOUT_SCALE="$${FORKMP_TEST_TIMEOUT_SCALE:-5}"; \
	export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS FORKMP_TEST_SANITIZERS FORKMP_TEST_TIMEOUT_SCALE;
endif
