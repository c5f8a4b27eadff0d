/* inspect_plugin: the plugin directory lookup (see inspect_plugin.h). */
#include "inspect_plugin.h"

#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const CANDIDATES[] = {
    "plugins", "../lib/lyricmind/plugins", "../lib/hdf5/plugins", "../lib/*/hdf5/plugins",
    "../lib/*/hdf5/serial/plugins", "../lib64/hdf5/plugins",
};

/* The first match of pattern (relative to dir) holding the plugin. */
static int try_pattern(const char *dir, const char *pattern, char *out, size_t n) {
    char pat[PATH_MAX + 64];
    snprintf(pat, sizeof pat, "%s/%s/" INSPECT_PLUGIN_FILE, dir, pattern);
    glob_t g;
    int found = -1;
    if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
        char real[PATH_MAX];
        if (realpath(g.gl_pathv[0], real)) {
            *strrchr(real, '/') = 0;
            snprintf(out, n, "%s", real);
            found = 0;
        }
    }
    globfree(&g);
    return found;
}

int inspect_plugin_dir(char *out, size_t n) {
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return -1;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = 0;
    for (size_t i = 0; i < sizeof CANDIDATES / sizeof CANDIDATES[0]; i++)
        if (try_pattern(exe, CANDIDATES[i], out, n) == 0) return 0;
    return -1;
}

/* s for a POSIX shell: as is when plain, else in single quotes. */
static void shell_word(char *out, size_t n, const char *s) {
    if (s[0] && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+,:=@%") == strlen(s)) {
        snprintf(out, n, "%s", s);
        return;
    }
    size_t k = 0;
    if (n < 3) return;
    out[k++] = '\'';
    for (; *s && k + 6 < n; s++) {
        if (*s == '\'') memcpy(out + k, "'\\''", 4), k += 4;
        else out[k++] = *s;
    }
    out[k++] = '\'';
    out[k] = 0;
}

void inspect_plugin_line(char *out, size_t n, const char *file) {
    char dir[PATH_MAX], qd[2 * PATH_MAX], qf[2 * PATH_MAX];
    shell_word(qf, sizeof qf, file);
    if (inspect_plugin_dir(dir, sizeof dir)) {
        snprintf(out, n, "zstd plugin " INSPECT_PLUGIN_FILE " not found beside this lyricmind (looked in "
                         "plugins/ and ../lib/.../plugins/ of its directory); without it h5dump shows no data");
        return;
    }
    shell_word(qd, sizeof qd, dir);
    snprintf(out, n, "HDF5_PLUGIN_PATH=%s h5dump -d /tokens %s", qd, qf);
}
