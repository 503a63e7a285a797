# berth probe: collects a host's Facts and berth state in ONE round trip.
# Sent as the body of `sh -c` (run as root). The caller prepends these assignments (shell-quoted):
#   DATA_ROOT  the engine's data root (may not exist yet: the nearest existing parent is measured)
#   PATHS      newline-separated absolute paths berth wants to manage (their sha256/mode/owner are reported)
#   UNITS      space-separated unit names berth wants to manage (their systemd state is reported)
# Output: sections, each introduced by a line `@@berth NAME`; src/host/facts.ts parses them. Every command
# is allowed to fail: a missing tool yields an empty section, and the parser decides what that means.
# POSIX sh only (dash on Debian): no arrays, no `local` beyond what dash supports, no bashisms.
# Cheap on purpose, since apply probes every host on every run and 10 hosts at once share a small CPU: files
# are read with the `read` builtin and split with parameter expansion (no cat/cut/awk/dirname per value), and
# sha256sum and stat run once for all managed paths — about 20 programs per probe instead of 100+.
LC_ALL=C
export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
B=/var/lib/berth

sec() { printf '\n@@berth %s\n' "$1"; }
have() { command -v "$1" >/dev/null 2>&1; }
# v=the first line of a file, without starting a program (not even a subshell).
rd() { v=; [ -r "$1" ] && IFS= read -r v < "$1"; }
tab=$(printf '\t')
nl='
'

sec probe
echo 1
sec id
echo "uid=$(id -u)"
rd /proc/sys/kernel/hostname; [ -n "$v" ] || v=$(hostname); echo "hostname=$v"
rd /proc/sys/kernel/random/boot_id; echo "boot_id=$v"
rd /proc/sys/kernel/osrelease; echo "kernel=$v"
rd /proc/sys/kernel/arch; [ -n "$v" ] || v=$(uname -m); echo "arch=$v"
echo "now=$(date +%s)"
rd /proc/1/comm; echo "pid1=$v"
[ -d /run/systemd/system ] && echo "systemd_booted=1" || echo "systemd_booted=0"
# A booted systemd knows its version and what it runs in (Virtualization: a container before a VM, as
# `systemd-detect-virt` decides): one `systemctl show` of the manager instead of three programs.
mgr=
if [ -d /run/systemd/system ] && have systemctl; then
  mgr=$(systemctl show -p Version -p Virtualization 2>/dev/null)
  printf '%s\n' "$mgr" | while IFS= read -r l; do echo "manager.$l"; done
fi
if [ -z "$mgr" ] && have systemd-detect-virt; then
  # Plain systemd-detect-virt prefers a container over a VM: ask for a VM only when there is no container.
  c=$(systemd-detect-virt -c 2>/dev/null)
  if [ -n "$c" ] && [ "$c" != none ]; then echo "virt=$c"; else echo "virt=$(systemd-detect-virt 2>/dev/null)"; fi
  echo "container=$c"
fi
for m in apt-get dnf yum zypper apk; do have "$m" && echo "pkg=$m"; done
if [ -e /run/reboot-required ] || [ -e /var/run/reboot-required ]; then echo "reboot_required=1"; else echo "reboot_required=0"; fi
# One pass over the mount table for three facts, without starting a program:
# - /proc/sys read-only is how container hosts (systemd-nspawn) look: sysctl --system fails there;
# - the cgroup mode: the filesystem types at /sys/fs/cgroup and /sys/fs/cgroup/unified;
# - the mount holding the data root (or its nearest existing parent): the longest mount point that is a prefix
#   of it, the later one of equal length (an over-mount), as `findmnt -T` decides.
d=$DATA_ROOT
while [ ! -e "$d" ] && [ "$d" != / ]; do d=${d%/*}; [ -n "$d" ] || d=/; done
ps= cg= cgu= best= mline=
while read -r src mnt fs opts _; do
  case "$mnt" in
    /proc/sys) [ -n "$ps" ] || ps=${opts%%,*} ;;
    /sys/fs/cgroup) cg=$fs ;;
    /sys/fs/cgroup/unified) cgu=$fs ;;
  esac
  case "$d/" in
    "${mnt%/}/"*) [ ${#mnt} -lt ${#best} ] || { best=$mnt; mline="FSTYPE=\"$fs\" SOURCE=\"$src\" TARGET=\"$mnt\" OPTIONS=\"$opts\""; } ;;
  esac
done < /proc/self/mounts
echo "procsys=${ps:-rw}"

sec os-release
osr=/etc/os-release; [ -r $osr ] || osr=/usr/lib/os-release
[ -r $osr ] && while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < $osr

sec systemd
[ -n "$mgr" ] || systemctl --version 2>/dev/null

sec cgroup
# unified (v2) when /sys/fs/cgroup itself is cgroup2; hybrid when v1 controllers plus a v2 tree at unified/.
if [ "$cg" = cgroup2 ]; then echo v2
elif [ "$cg" = tmpfs ] && [ "$cgu" = cgroup2 ]; then echo hybrid
elif [ "$cg" = tmpfs ]; then echo v1
else echo none
fi

sec data-root
echo "requested=$DATA_ROOT"
echo "existing=$d"
fs= dev= target=
# The mount table escapes blanks and backslashes in paths (\040): findmnt decodes them, for such a path.
case "$mline" in *\\*) mline= ;; esac
if [ -n "$mline" ] || have findmnt; then
  m=$mline
  [ -n "$m" ] || m=$(findmnt -n -P -o FSTYPE,SOURCE,TARGET,OPTIONS -T "$d" 2>/dev/null)
  m=${m%%"$nl"*}
  echo "$m"
  # findmnt -P escapes quotes inside values (\x22), so a value ends at the next quote.
  fs=${m#FSTYPE=\"}; fs=${fs%%\"*}
  dev=${m#*SOURCE=\"}; dev=${dev%%\"*}
  target=${m#*TARGET=\"}; target=${target%%\"*}
else
  echo "FSTYPE=\"$(stat -fc %T "$d")\""
fi
df -P -B1 "$d" 2>/dev/null | { read -r _; read -r _ size _ avail _ && echo "size=$size" && echo "avail=$avail"; }
# d_type: overlay2 needs it. ext2/3/4 have it with the `filetype` feature, xfs with ftype=1, btrfs/tmpfs always.
case "$fs" in
  xfs)
    if have xfs_info; then
      xfs_info "$target" 2>/dev/null | sed -n 's/.*ftype=\([01]\).*/ftype=\1/p' | head -n 1
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
for k in /boot/vmlinuz-*; do [ -e "$k" ] && echo "${k#/boot/vmlinuz-}"; done

sec engine
active=
if [ -L /usr/local/bin/berth-engine ]; then
  active=$(readlink /usr/local/bin/berth-engine)
  echo "active=$active"
elif [ -e /usr/local/bin/berth-engine ]; then
  echo "active=/usr/local/bin/berth-engine"
fi
# berth-host.sh leaves berth-engine.sum beside each engine it installs: `SIZE CTIME INODE SHA256` of the
# binary as installed. The sum is reused while size, ctime and inode still match (any write, chmod or
# replacement changes the ctime, which no one can set back), so a 6 MB binary is not hashed on every probe.
# Without a matching sum only the active engine and the one berth wants (ENGINE_WANT, a version dir name)
# are hashed; any other is listed with `-` for its sum (berth never decides anything on those).
set --
for f in /usr/local/lib/berth/engine/*/berth-engine; do [ -f "$f" ] && set -- "$@" "$f"; done
if [ $# -gt 0 ]; then
  rehash=
  while read -r size ctime ino f; do
    [ -n "$f" ] || continue
    v=; [ -r "$f.sum" ] && IFS= read -r v < "$f.sum"
    case "$v" in
      "$size $ctime $ino "*) echo "installed=${v##* } $f" ;;
      *)
        if [ "$f" = "$active" ] || [ "$f" = "/usr/local/lib/berth/engine/${ENGINE_WANT:-}/berth-engine" ]; then
          rehash="$rehash$f$nl"
        else
          echo "installed=- $f"
        fi ;;
    esac
  done <<EOF
$(stat -c '%s %Z %i %n' -- "$@" 2>/dev/null)
EOF
  [ -n "$rehash" ] && printf %s "$rehash" | while IFS= read -r f; do sha256sum -- "$f" 2>/dev/null; done | while read -r s f; do echo "installed=$s $f"; done
fi

sec berth
# cd -P resolves the link in a subshell: a fork, not a program.
[ -L "$B/current" ] && (cd -P "$B/current" 2>/dev/null && echo "current=$PWD")
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

# Every path berth manages now (current files.tsv: the path is the 6th and last column) or wants to (PATHS),
# once each. Absent and non-regular ones are listed in `files`; the regular ones are hashed by one sha256sum
# (`file-sums`) and described by one stat (`file-stats`: mode owner group path); the parser joins them.
all=$PATHS
if [ -f "$B/current/files.tsv" ]; then
  while IFS="$tab" read -r _ _ _ _ _ p; do all="$all$nl$p"; done < "$B/current/files.tsv"
fi
seen=$nl
set --
sec files
while IFS= read -r p; do
  [ -n "$p" ] || continue
  case "$seen" in *"$nl$p$nl"*) continue ;; esac
  seen="$seen$p$nl"
  if [ -f "$p" ] && [ ! -L "$p" ]; then
    set -- "$@" "$p"
  elif [ -e "$p" ] || [ -L "$p" ]; then
    printf 'other\t-\t%s\n' "$p"
  else
    printf 'absent\t-\t%s\n' "$p"
  fi
done <<EOF
$all
EOF
sec file-sums
[ $# -gt 0 ] && sha256sum -- "$@" 2>/dev/null
sec file-stats
[ $# -gt 0 ] && stat -c '%a %U %G %n' -- "$@" 2>/dev/null

sec units
u=
for n in $UNITS; do case " $u " in *" $n "*) ;; *) u="$u $n" ;; esac; done
if [ -f "$B/current/units.tsv" ]; then
  while IFS="$tab" read -r n _; do
    [ -n "$n" ] || continue
    case " $u " in *" $n "*) ;; *) u="$u $n" ;; esac
  done < "$B/current/units.tsv"
fi
# shellcheck disable=SC2086 # word splitting of unit names is intended
[ -n "$u" ] && systemctl show -p Id -p LoadState -p ActiveState -p SubState -p UnitFileState -p Type -p RemainAfterExit -p Result -- $u 2>/dev/null

sec end
