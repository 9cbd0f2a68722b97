/*
 * hello_cxx.cpp: examples/hello.c (the README's example) compiled as C++.
 *
 * Proves that forkmp.h is C++ clean: extern "C" declarations, construct macros that are
 * valid C++.  The one change C++ asks for is the cast of fmp_shared_alloc()'s void *.
 * `make check` runs it beside hello and diffs the outputs (examples/compare-cxx.sh).
 */
#include <forkmp.h>
#include <cstdio>

int main()
{
    long n = 10000000;
    double *x = static_cast<double *>(fmp_shared_alloc(n * sizeof *x));
    double sum = 0.0;
    FMP_PARALLEL(0) {
        double part = 0.0;
        FMP_FOR(i, 0, n, fmp_static(0)) { x[i] = 1.0 / (i + 1); part += x[i]; }
        sum = fmp_reduce_value(part, FMP_SUM);  /* every member gets the total */
    }
    std::printf("sum = %f (x[n-1] = %g)\n", sum, x[n - 1]);
    return 0;
}
