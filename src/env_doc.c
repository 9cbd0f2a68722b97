/* doc/environment.md's table of variables, written out from the table of env.c: one
 * Markdown row per variable (name, OpenMP name, values, default, meaning).  The test suite
 * compares the rows with the document, so the two never differ. */
#include "env.h"

#include <stdio.h>

/* Markdown text: % becomes \% (doxygen strips a bare % before a word; CommonMark shows
   \% as %), | becomes \| (a table cell). */
static size_t md_text(char *buf, size_t len, size_t o, const char *s, int escape)
{
    for (; *s; s++) {
        if (escape && (*s == '%' || *s == '|') && o + 1 < len)
            buf[o++] = '\\';
        if (o + 1 < len)
            buf[o++] = *s;
    }
    if (len > 0)
        buf[o < len ? o : len - 1] = '\0';
    return o;
}

int fmp__env_doc_row(size_t i, char *buf, size_t len)
{
    const fmp__envvar_doc *v = fmp__env_var_doc(i);
    if (!v || len == 0)
        return v != NULL;
    const char *cells[] = {v->values, v->dflt, v->doc};
    int o = snprintf(buf, len, "| `%s` | %s%s%s |", v->name, v->alias ? "`" : "",
                     v->alias ? v->alias : "-", v->alias ? "`" : "");
    size_t u = o < 0 ? 0 : (size_t)o < len ? (size_t)o : len - 1;
    for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
        u = md_text(buf, len, u, " ", 0);
        u = md_text(buf, len, u, cells[c], 1);
        u = md_text(buf, len, u, " |", 0);
    }
    return 1;
}
