/* output_prog MODE: stdout across fork, for tests/test_output.c.  Run with stdout on a
 * pipe or on a file (fully buffered either way).
 *
 * MODE:
 *   dup        printf "before" (not flushed), a region of 4, printf "after": each once
 *   unflushed  member 2 printf()s "unflushed-from-2" with no newline and no flush
 *   lines      8 members x 200 fmp_printf lines of 6000+ characters:
 *              "L <member> <line> <payload> <checksum>"
 *   barrier    4 members, 5 rounds: "pre <round> <member>" with printf, fmp_barrier(),
 *              "post <round> <member>", fmp_barrier()
 */
#define _GNU_SOURCE
#include <forkmp.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_LEN 6000 /* > PIPE_BUF (4096 on Linux): one write() is not atomic by itself */

static unsigned checksum(const char *s, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "dup") == 0) {
        printf("before pid %d\n", (int)getpid());
        FMP_PARALLEL(4) {
            if (fmp_thread_num() == 3)
                printf("inside member 3\n");
        }
        printf("after\n");
    } else if (strcmp(mode, "unflushed") == 0) {
        FMP_PARALLEL(4) {
            if (fmp_thread_num() == 2)
                printf("unflushed-from-2");
        }
        printf("\nend\n");
    } else if (strcmp(mode, "lines") == 0) {
        FMP_PARALLEL(8) {
            int me = fmp_thread_num();
            char payload[LINE_LEN + 1];
            for (int k = 0; k < 200; k++) {
                for (int i = 0; i < LINE_LEN; i++)
                    payload[i] = (char)('a' + (me * 7 + k * 3 + i) % 26);
                payload[LINE_LEN] = 0;
                fmp_printf("L %d %d %s %u\n", me, k, payload, checksum(payload, LINE_LEN));
            }
        }
    } else if (strcmp(mode, "barrier") == 0) {
        FMP_PARALLEL(4) {
            int me = fmp_thread_num();
            for (int r = 0; r < 5; r++) {
                printf("pre %d %d\n", r, me);
                fmp_barrier();
                printf("post %d %d\n", r, me);
                fmp_barrier();
            }
        }
    } else {
        fprintf(stderr, "usage: %s dup|unflushed|lines|barrier\n", argv[0]);
        return 2;
    }
    return 0;
}
