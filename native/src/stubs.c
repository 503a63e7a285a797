/* Temporary: runtime API entry points not written yet (replaced file by file). */
#include <stdlib.h>
#include <string.h>
#include "runtime.h"
#include "utils.h"
#define NYI(name) return be_make_error(err, 0, "%s: not implemented yet", name)
int be_config_parse(const char *json, size_t len, const char *bundle_dir, be_config **out, be_error_t *err) { (void)json; (void)len; (void)bundle_dir; (void)out; NYI("config"); }
int be_config_load(const char *bundle_dir, be_config **out, be_error_t *err) { (void)bundle_dir; (void)out; NYI("config"); }
int be_process_parse(const char *json, size_t len, be_process *out, be_error_t *err) { (void)json; (void)len; (void)out; NYI("process"); }
void be_process_clear(be_process *p) { (void)p; }
void be_config_free(be_config *c) { free(c); }
int be_container_create(const be_run_opts *o, const be_config *cfg, be_error_t *err) { (void)o; (void)cfg; NYI("create"); }
int be_container_start(const char *root, const char *id, be_error_t *err) { (void)root; (void)id; NYI("start"); }
int be_container_run(const be_run_opts *o, const be_config *cfg, int *st, be_error_t *err) { (void)o; (void)cfg; (void)st; NYI("run"); }
int be_container_kill(const char *root, const char *id, int sig, bool all, be_error_t *err) { (void)root; (void)id; (void)sig; (void)all; NYI("kill"); }
int be_container_delete(const char *root, const char *id, bool force, be_error_t *err) { (void)root; (void)id; (void)force; NYI("delete"); }
int be_container_state(const char *root, const char *id, be_state *out, be_error_t *err) { (void)root; (void)id; (void)out; NYI("state"); }
int be_container_state_json(const char *root, const char *id, char **json, be_error_t *err) { (void)root; (void)id; (void)json; NYI("state"); }
int be_container_exec(const be_run_opts *o, const be_process *p, int *st, be_error_t *err) { (void)o; (void)p; (void)st; NYI("exec"); }
int be_container_list(const char *root, char ***ids, be_error_t *err) { (void)root; (void)ids; NYI("list"); }
void be_state_clear(be_state *s) { (void)s; }
const char *be_status_name(be_status s) { (void)s; return "unknown"; }
char *be_spec_default_json(bool rootless) { (void)rootless; return be_xstrdup("{}"); }
int be_signal_parse(const char *s) { (void)s; return 15; }
