/* Unit tests: the rootfs plan is a pure function of the config (bubblewrap's plan-then-apply). */
#include <stdlib.h>
#include <string.h>

#include "mounts.h"
#include "runtime.h"
#include "tap.h"
#include "utils.h"

int main(void) {
  be_error_t err = NULL;
  char *spec = be_spec_default_json(false);
  be_config *c = NULL;
  ok(be_config_parse(spec, strlen(spec), "/b", &c, &err) == 0, "default spec parses");
  free(spec);
  be_rootfs_plan p;
  ok(be_rootfs_plan_build(c, "/berth-engine/x", false, false, &p, &err) == 0, "plan builds");
  be_buf b = {0};
  for (size_t i = 0; i < p.n; i++)
    be_buf_printf(&b, "%s %s\n", be_mount_op_kind_name(p.ops[i].kind), p.ops[i].dest);
  is_str(b.data,
         "mount /proc\nmount /dev\nmount /dev/pts\nmount /dev/shm\nmount /dev/mqueue\nmount /sys\ncgroup /sys/fs/cgroup\n"
         "device /dev/null\ndevice /dev/zero\ndevice /dev/full\ndevice /dev/random\ndevice /dev/urandom\ndevice /dev/tty\n"
         "symlink /dev/fd\nsymlink /dev/stdin\nsymlink /dev/stdout\nsymlink /dev/stderr\nsymlink /dev/ptmx\n"
         "mask /proc/acpi\nmask /proc/kcore\nmask /proc/keys\nmask /proc/latency_stats\nmask /proc/timer_list\n"
         "mask /proc/timer_stats\nmask /proc/sched_debug\nmask /proc/scsi\nmask /sys/firmware\nmask /sys/fs/selinux\n"
         "mask /sys/dev/block\nreadonly /proc/asound\nreadonly /proc/bus\nreadonly /proc/fs\nreadonly /proc/irq\n"
         "readonly /proc/sys\nreadonly /proc/sysrq-trigger\nroot-ro /\n",
         "operations in apply order: mounts, standard devices, links, masks, read-only paths, read-only root");
  free(b.data);
  be_rootfs_plan_free(&p);
  be_config_free(c);

  const char *evil = "{\"root\": {\"path\": \"/r\"}, \"process\": {\"args\": [\"sh\"]}, \"mounts\": [{\"destination\": "
                     "\"/a/../../etc\", \"type\": \"tmpfs\"}]}";
  ok(be_config_parse(evil, strlen(evil), "/b", &c, &err) == 0, "config with .. parses");
  ok(be_rootfs_plan_build(c, "/x", false, false, &p, &err) < 0, ".. in a destination is refused by the plan");
  is_str(err ? err->msg : NULL, "config.json: `mounts[0].destination` `/a/../../etc` must not contain `..`", "message");
  be_error_release(&err);
  be_config_free(c);
  return done_testing();
}
