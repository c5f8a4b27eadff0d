/* lm_err: the one error convention shared by every room.
 *
 * Library functions never print and never exit: they return 0 on success or
 * -1 on failure after writing one human-readable line (no trailing newline)
 * into an lm_err the caller passed. Only jobs/ prints it. A NULL lm_err is
 * allowed and simply drops the message. */
#ifndef LM_ERR_H
#define LM_ERR_H

#include <stddef.h>

typedef struct lm_err {
    char msg[1024];
} lm_err;

/* Formats the message into e (if non-NULL) and returns -1, so that callers
 * can write `return lm_err_set(e, "%s: truncated", path);`. */
int lm_err_set(lm_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to an existing message (context added on the way up). */
int lm_err_prefix(lm_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
