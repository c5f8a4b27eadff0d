/* pp_read_names: the names every format reader shares: the default names a
 * text, genre, artist or title column/field may have, and the split of a file
 * name into stem and extension (format detection and text-file genres). They
 * live apart from pp_read.c, which calls the readers, so that no reader calls
 * back into it (see pp_read_int.h). */
#include "pp_read_int.h"

#include <string.h>
#include <strings.h>

const char *const pp_default_text_fields[] = {"lyrics", "text", "lyric", "content", NULL};
const char *const pp_default_genre_fields[] = {"genre", "tag", "tags", "category", NULL};
const char *const pp_default_artist_fields[] = {"artist", "singer", NULL};
const char *const pp_default_title_fields[] = {"title", "song", "name", NULL};

const char *pp_name_split(const char *path, size_t *stem, const char **ext, size_t *ext_len) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && strcasecmp(base + n - 4, ".zst") == 0) n -= 4;
    *stem = n;
    *ext = NULL;
    *ext_len = 0;
    for (size_t i = n; i-- > 1;)
        if (base[i] == '.') {
            *stem = i;
            *ext = base + i + 1;
            *ext_len = n - i - 1;
            break;
        }
    return base;
}
