/* h5z_zstd_plugin: the LyricMind zstd filter (id 32015) as a loadable HDF5
 * plugin, so that stock tools (h5dump, h5py) read our shards with
 * HDF5_PLUGIN_PATH=<build>/plugins. It only exports HDF5's two plugin entry
 * points; the filter itself is io/io_zstd_filter.c, linked in unchanged. */
#include <H5PLextern.h>

#include "io_zstd_filter.h"

H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }

const void *H5PLget_plugin_info(void) { return &io_zstd_filter_class; }
