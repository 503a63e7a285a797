/* The engine's settings file, /etc/berth/engine.json (written by berth's renderer, src/render/storage.ts):
 *   {"version": "...", "driver": "overlay2|vfs|devicemapper|auto", "dataRoot": "/var/lib/berth-engine",
 *    "pool": "VG/POOL", "logs": {...}}          ("storageDriver" is accepted as another name for "driver")
 * Precedence for the storage options: command-line flag > BERTH_ENGINE_DATA_ROOT / BERTH_ENGINE_STORAGE_DRIVER >
 * the file > built-in defaults. `--config PATH` (global option) reads another file; without it a missing
 * /etc/berth/engine.json means no settings. Unknown keys and bad JSON are errors naming the file. */
#ifndef BE_IMG_ENGINE_CONFIG_H
#define BE_IMG_ENGINE_CONFIG_H

#include "../commands.h"
#include "store.h"

#define BE_ENGINE_CONFIG_DEFAULT "/etc/berth/engine.json"

/* Fills *so from the file, then the environment; callers apply their flags afterwards. */
int be_engine_store_defaults(const be_global *g, be_store_opts *so, be_error_t *err);

#endif
