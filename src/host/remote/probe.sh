# berth probe: collects a host's Facts and berth state in ONE round trip.
# Sent as the body of `sh -c` (run as root). The caller prepends these assignments (shell-quoted):
#   DATA_ROOT  the engine's data root (may not exist yet: the nearest existing parent is measured)
#   PATHS      newline-separated absolute paths berth wants to manage (their sha256/mode/owner are reported)
#   UNITS      space-separated unit names berth wants to manage (their systemd state is reported)
# Output: sections, each introduced by a line `@@berth NAME`; src/host/facts.ts parses them. Every command
# is allowed to fail: a missing tool yields an empty section, and the parser decides what that means.
# POSIX sh only (dash on Debian): no arrays, no `local` beyond what dash supports, no bashisms.
LC_ALL=C
export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
B=/var/lib/berth

sec() { printf '\n@@berth %s\n' "$1"; }
have() { command -v "$1" >/dev/null 2>&1; }

sec probe
echo 1
sec id
echo "uid=$(id -u)"
echo "hostname=$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname)"
echo "boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
echo "kernel=$(uname -r)"
echo "arch=$(uname -m)"
echo "now=$(date +%s)"
echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
[ -d /run/systemd/system ] && echo "systemd_booted=1" || echo "systemd_booted=0"
if have systemd-detect-virt; then echo "virt=$(systemd-detect-virt 2>/dev/null)"; echo "container=$(systemd-detect-virt -c 2>/dev/null)"; fi
for m in apt-get dnf yum zypper apk; do have "$m" && echo "pkg=$m"; done
if [ -e /run/reboot-required ] || [ -e /var/run/reboot-required ]; then echo "reboot_required=1"; else echo "reboot_required=0"; fi
# /proc/sys read-only is how container hosts (systemd-nspawn) look: sysctl --system fails there.
echo "procsys=$(awk '$2 == "/proc/sys" { split($4, o, ","); print o[1]; f = 1 } END { if (!f) print "rw" }' /proc/self/mounts 2>/dev/null)"

sec os-release
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null

sec systemd
systemctl --version 2>/dev/null | head -n 1

sec cgroup
# unified (v2) when /sys/fs/cgroup itself is cgroup2; hybrid when v1 controllers plus a v2 tree at unified/.
t=$(stat -fc %T /sys/fs/cgroup 2>/dev/null)
if [ "$t" = cgroup2fs ]; then echo v2
elif [ "$t" = tmpfs ] && [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then echo hybrid
elif [ "$t" = tmpfs ]; then echo v1
else echo none
fi

sec data-root
d=$DATA_ROOT
while [ ! -e "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
echo "requested=$DATA_ROOT"
echo "existing=$d"
if have findmnt; then
  findmnt -n -P -o FSTYPE,SOURCE,TARGET,OPTIONS -T "$d" 2>/dev/null | head -n 1
else
  echo "FSTYPE=\"$(stat -fc %T "$d")\""
fi
df -P -B1 "$d" 2>/dev/null | awk 'NR == 2 { print "size=" $2; print "avail=" $4 }'
# d_type: overlay2 needs it. ext2/3/4 have it with the `filetype` feature, xfs with ftype=1, btrfs/tmpfs always.
fs=$(findmnt -n -o FSTYPE -T "$d" 2>/dev/null)
dev=$(findmnt -n -o SOURCE -T "$d" 2>/dev/null)
case "$fs" in
  xfs)
    if have xfs_info; then
      xfs_info "$(findmnt -n -o TARGET -T "$d")" 2>/dev/null | sed -n 's/.*ftype=\([01]\).*/ftype=\1/p' | head -n 1
    fi ;;
  ext2|ext3|ext4)
    if have dumpe2fs && [ -b "$dev" ]; then
      feat=$(dumpe2fs -h "$dev" 2>/dev/null | sed -n 's/^Filesystem features: *//p')
      case " $feat " in
        "  ") ;;
        *" filetype "*) echo "ext_filetype=1" ;;
        *) echo "ext_filetype=0" ;;
      esac
    fi ;;
esac

sec lsblk
lsblk -J -b -o NAME,PATH,TYPE,SIZE,FSTYPE,MOUNTPOINT,RO,RM 2>/dev/null

sec kernels
ls /boot 2>/dev/null | sed -n 's/^vmlinuz-//p'

sec engine
if [ -L /usr/local/bin/berth-engine ]; then
  echo "active=$(readlink /usr/local/bin/berth-engine)"
elif [ -e /usr/local/bin/berth-engine ]; then
  echo "active=/usr/local/bin/berth-engine"
fi
for f in /usr/local/lib/berth/engine/*/berth-engine; do
  [ -f "$f" ] || continue
  echo "installed=$(sha256sum "$f" | cut -c1-64) $f"
done

sec berth
[ -L "$B/current" ] && echo "current=$(readlink "$B/current")"
for g in "$B"/generations/*; do
  [ -d "$g" ] && echo "generation=${g##*/}"
done
if [ -e /run/berth/apply.lock ] && have flock && ! flock -n /run/berth/apply.lock true 2>/dev/null; then
  echo "locked=1"
  [ -f /run/berth/apply.owner ] && sed 's/^/owner./' /run/berth/apply.owner
fi

sec journal
[ -f "$B/journal" ] && tail -n 50 "$B/journal"

sec manifest
[ -f "$B/current/manifest.json" ] && cat "$B/current/manifest.json"

sec files
# sha256, mode, owner, group of every path berth manages now (current files.tsv) or wants to (PATHS).
{
  printf '%s\n' "$PATHS"
  [ -f "$B/current/files.tsv" ] && cut -f6 "$B/current/files.tsv"
} | sort -u | while IFS= read -r p; do
  [ -n "$p" ] || continue
  if [ -f "$p" ] && [ ! -L "$p" ]; then
    printf '%s\t%s\t%s\n' "$(sha256sum < "$p" | cut -c1-64)" "$(stat -c '%a %U %G' "$p")" "$p"
  elif [ -e "$p" ] || [ -L "$p" ]; then
    printf 'other\t-\t%s\n' "$p"
  else
    printf 'absent\t-\t%s\n' "$p"
  fi
done

sec units
u="$UNITS"
[ -f "$B/current/units.tsv" ] && u="$u $(cut -f1 "$B/current/units.tsv" | tr '\n' ' ')"
u=$(printf '%s\n' $u | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086 # word splitting of unit names is intended
[ -n "$(echo $u)" ] && systemctl show -p Id -p LoadState -p ActiveState -p SubState -p UnitFileState -p Type -p RemainAfterExit -p Result -- $u 2>/dev/null

sec end
