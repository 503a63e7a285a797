/* The engine layer's commands (`image …`, and later `run IMAGE`, `ps`, `stop`, `rm`). */
#ifndef BE_IMAGE_CMD_H
#define BE_IMAGE_CMD_H

#include "../commands.h"

int be_cmd_image(const be_global *g, int argc, char **argv, be_error_t *err);

#endif
