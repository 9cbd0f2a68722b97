/* Matching what forkmp printed against a format of the message catalogue (src/messages.h),
 * for the tests: they name a key, never copy its text.
 *
 *     msg_match("forkmp: " FMP__MSG_oversubscribed "\n", line)
 *
 * is 1 when line is the format with every conversion filled by some value: %d, %i, %ld,
 * %u, %zu and the like match a decimal number (with an optional '-'), %s matches any text
 * on one line (also empty), %p matches a word, %% a '%'.  A test that knows some of the
 * values fills them in first with snprintf and passes "%s" (or "%d") for the others. */
#ifndef FMP_TESTS_MSG_MATCH_H
#define FMP_TESTS_MSG_MATCH_H

#include <ctype.h>
#include <string.h>

static int msg_match(const char *fmt, const char *s)
{
    while (*fmt) {
        if (*fmt != '%') {
            if (*fmt++ != *s++)
                return 0;
            continue;
        }
        fmt++;
        if (*fmt == '%') {
            if (*s++ != '%')
                return 0;
            fmt++;
            continue;
        }
        while (*fmt && strchr("-+ #0123456789.lhzjt", *fmt))
            fmt++; /* flags, width, length */
        char conv = *fmt;
        if (!conv)
            return 0;
        fmt++;
        if (conv == 's') {
            /* the shortest text after which the rest matches, without a newline */
            for (const char *e = s;; e++) {
                if (msg_match(fmt, e))
                    return 1;
                if (!*e || *e == '\n')
                    return 0;
            }
        }
        if (conv == 'p') {
            if (!*s || isspace((unsigned char)*s))
                return 0;
            while (*s && !isspace((unsigned char)*s))
                s++;
            continue;
        }
        /* d i u: a decimal number; x: a hexadecimal one */
        int (*digit)(int) = conv == 'x' ? isxdigit : isdigit;
        if (*s == '-')
            s++;
        if (!digit((unsigned char)*s))
            return 0;
        while (digit((unsigned char)*s))
            s++;
    }
    return *s == '\0';
}

#endif /* FMP_TESTS_MSG_MATCH_H */
