/* Printing the catalogue's messages (messages.h): every message starts with "forkmp: "
 * and is written whole, in one write under the output lock, so that lines from different
 * members never interleave. */
#include "internal.h"
#include "messages.h"

#include <stdio.h>

void fmp__say(const char *key, const char *fmt, ...)
{
    (void)key;
    char full[512];
    snprintf(full, sizeof full, "forkmp: %s\n", fmt);
    va_list ap;
    va_start(ap, fmt);
    fmp__vprint(2, full, ap);
    va_end(ap);
}
