/* io_file: which LyricMind file a path holds (see io_file.h).
 * Invariant: the kinds and their names are one table, in io_file_kind order,
 * so detection and naming cannot disagree. */
#include "io_file.h"

#include <string.h>

#include "io_h5.h"

static const char *const kind_names[] = {
    [IO_FILE_SHARD] = IO_KIND_SHARD,
    [IO_FILE_VOCAB] = IO_KIND_VOCAB,
    [IO_FILE_CHECKPOINT] = IO_KIND_CHECKPOINT,
    [IO_FILE_CLASSIFIER] = IO_KIND_CLASSIFIER,
};

const char *io_file_kind_name(io_file_kind k) {
    return k >= IO_FILE_SHARD && k <= IO_FILE_LAST ? kind_names[k] : "unknown";
}

int io_file_detect(const char *path, io_file_kind *kind, lm_err *e) {
    io_h5_quiet q = io_h5_quiet_begin();
    char k[IO_KIND_MAX];
    hid_t f = io_h5_open(path, NULL, k, e);
    int rc = -1;
    if (f >= 0) {
        H5Fclose(f);
        for (io_file_kind i = IO_FILE_SHARD; i <= IO_FILE_LAST; i++)
            if (strcmp(k, kind_names[i]) == 0) {
                *kind = i;
                rc = 0;
            }
        if (rc) lm_err_set(e, "%s: unknown LyricMind file kind '%s'", path, k);
    }
    io_h5_quiet_end(q);
    return rc;
}
