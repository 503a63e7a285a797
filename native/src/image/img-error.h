/* The image layer uses the engine's error contract (../error.h, crun's: `int f(..., be_error_t *err)` < 0 on
 * failure) and cleanup attributes (../utils.h); these short names keep call sites readable. */
#ifndef BE_IMG_ERROR_H
#define BE_IMG_ERROR_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../error.h"
#include "../utils.h"

#define img_err be_make_error
#define img_err_wrap be_error_wrap
#define img_autofree cleanup_free
#define img_autoclose cleanup_close

#endif
