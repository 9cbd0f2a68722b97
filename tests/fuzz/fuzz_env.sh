#!/bin/sh
# make check's fuzz test: tests/fuzz/fuzz_env_driver replays tests/fuzz/corpus through every
# parser of outside input, then runs random mutations of it for FMP_FUZZ_SECONDS seconds
# (default 20), from the seed FMP_FUZZ_SEED (default: a new one each run, printed).  A
# broken property or a crash prints the seed, the run and the input, and leaves the input
# in fuzz-failure-SEED-RUN (replay it: tests/fuzz/fuzz_env_driver -n 0 FILE).
# Exit: 0 pass, 77 skip (no driver), anything else fail.
drv=${FUZZ_DRIVER:-./tests/fuzz/fuzz_env_driver}
fuzz=${srcdir:-.}/tests/fuzz
test -x "$drv" || { echo "SKIP: $drv not built"; exit 77; }
test -d "$fuzz/corpus" || { echo "FAIL: no corpus in $fuzz/corpus"; exit 1; }
exec "$drv" ${FMP_FUZZ_SEED:+-s "$FMP_FUZZ_SEED"} -t "${FMP_FUZZ_SECONDS:-20}" -m 16384 \
    -d "$fuzz/fuzz_env.dict" "$fuzz/corpus"
