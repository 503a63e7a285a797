/* `berth-engine storage dm-setup DEVICE`: prepares a direct-lvm thin pool for the devicemapper driver. */
#ifndef BE_STORAGE_CMD_H
#define BE_STORAGE_CMD_H

#include "../commands.h"

int be_cmd_storage(const be_global *g, int argc, char **argv, be_error_t *err);

#endif
