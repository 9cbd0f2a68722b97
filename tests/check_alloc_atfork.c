/* libcheck_alloc_atfork: an LD_PRELOAD helper of tests/check_alloc.sh, listed after
 * libforkmp_check.so.  ld.so runs the constructors of preloaded libraries last listed first,
 * so this one registers its fork handlers before libforkmp_check does: its prepare handler
 * runs after libforkmp_check's, which holds the tables' lock by then, and its child handler
 * before libforkmp_check's makes that lock anew.  Both allocate, look their block up and
 * free it: neither may wait for the lock the forking thread holds.  At exit it says on
 * stderr how many handlers ran and how many found their block. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check/alloc.h"

static fmp_check_block_at_fn *block_at;
static int ran, found;
static void *volatile sink;

/* 1 when its block was recorded */
static int allocate(void)
{
    fmp_check_block b;
    sink = malloc(40);
    int ok = block_at && sink && block_at((uintptr_t)sink + 39, &b) && b.start == (uintptr_t)sink &&
             b.size == 40;
    free(sink);
    return ok;
}

static void in_prepare(void)
{
    ran++;
    found += allocate();
}

/* a failure ends the child with status 99 (the program's child checks exit with 0..15) */
static void in_child(void)
{
    if (!allocate()) {
        fprintf(stderr, "check_alloc_atfork: the child handler's block was not recorded\n");
        _exit(99);
    }
}

__attribute__((constructor)) static void start(void)
{
    block_at = (fmp_check_block_at_fn *)dlsym(RTLD_DEFAULT, "fmp_check_block_at");
    pthread_atfork(in_prepare, NULL, in_child);
}

__attribute__((destructor)) static void report(void)
{
    if (ran)
        fprintf(stderr, "check_alloc_atfork: %d prepare handlers ran, %d found their block\n", ran,
                found);
}
