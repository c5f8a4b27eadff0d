/* inspect_plugin: where the HDF5 zstd plugin that this lyricmind binary
 * ships lies, so that `inspect` can print the HDF5_PLUGIN_PATH line with
 * which stock h5dump/h5py read a shard (docs/formats.md).
 *
 * Candidates, relative to the directory of the running binary
 * (/proc/self/exe), first hit wins:
 *   plugins/                      the build tree (build/lyricmind, build/plugins/)
 *   ../lib/lyricmind/plugins/     an installed tree (cmake --install)
 *   ../lib/hdf5/plugins/
 *   ../lib/STAR/hdf5/plugins/     (STAR: any multiarch dir, e.g. x86_64-linux-gnu)
 *   ../lib/STAR/hdf5/serial/plugins/
 *   ../lib64/hdf5/plugins/
 * A directory counts when it holds INSPECT_PLUGIN_FILE. */
#ifndef INSPECT_PLUGIN_H
#define INSPECT_PLUGIN_H

#include <stddef.h>

#define INSPECT_PLUGIN_FILE "libh5z_zstd_lyricmind.so"

/* The plugin's directory (absolute, resolved) into out; 0, or -1 if none. */
int inspect_plugin_dir(char *out, size_t n);
/* "HDF5_PLUGIN_PATH=DIR h5dump -d /tokens FILE" (DIR and FILE shell-quoted
 * when needed) or, without a plugin, a line saying where it was looked for. */
void inspect_plugin_line(char *out, size_t n, const char *file);

#endif
