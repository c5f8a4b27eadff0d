/* make_fixture_shard: writes a multi-chunk fixture shard with the io library
 * and its exact tokens as text (one id per line), so the stock-tools test can
 * check that h5dump and h5py (through our HDF5 plugin) decode the same ids.
 * usage: make_fixture_shard SHARD TOKENS_TXT */
#include <stdio.h>
#include <stdlib.h>

#include "io_test_util.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: make_fixture_shard SHARD TOKENS_TXT\n");
        return 2;
    }
    const uint32_t V = 50000;
    const uint64_t songs = 300;
    uint64_t ntok;
    if (iot_write_shard(argv[1], songs, V, 42, 8192, &ntok)) {
        fprintf(stderr, "make_fixture_shard: cannot write %s\n", argv[1]);
        return 1;
    }
    FILE *f = fopen(argv[2], "w");
    if (!f) return 1;
    for (uint64_t s = 0; s < songs; s++)
        for (size_t i = 0; i < iot_song_len(s); i++) fprintf(f, "%u\n", iot_token(s, i, V));
    return fclose(f) ? 1 : 0;
}
