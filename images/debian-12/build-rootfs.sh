#!/bin/sh
# Builds the Debian 12 root filesystem of the test fleet into DEST (which must not exist).
# Usage: build-rootfs.sh DEST MIRROR_URL
# Called by src/testfleet/image.ts inside a temp dir that is renamed into the cache when this succeeds.
# Needs root, debootstrap and network access to the Debian mirror; everything else comes from Debian.
set -eu
dest=$1
mirror=$2
here=$(cd "$(dirname "$0")" && pwd)
packages=$(grep -v '^#' "$here/packages.txt" | tr -s '\n ' ',,' | sed 's/^,//; s/,$//')

need() { command -v "$1" >/dev/null 2>&1; }
if ! need debootstrap; then
  flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 --no-install-recommends debootstrap >&2
fi

kernel_packages=$(grep -v '^#' "$here/kernel-packages.txt" | tr -s '\n' ' ')

export DEBIAN_FRONTEND=noninteractive
# The caller runs this in a private mount namespace (unshare -m): whatever debootstrap or we mount inside the
# tree (proc, sys) disappears with us even when we are killed half-way.
debootstrap --variant=minbase --components=main --include="$packages" bookworm "$dest" "$mirror" >&2

in_root() { chroot "$dest" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

cp -a "$here/files/." "$dest/"
chown -R root:root "$dest/etc/systemd" "$dest/usr/local" "$dest/etc/ssh/sshd_config.d" "$dest/etc/sudoers.d" \
  "$dest/etc/default/grub.d" "$dest/etc/tmpfiles.d" "$dest/etc/initramfs-tools" "$dest/usr/share/initramfs-tools/modules.d"
chmod 440 "$dest/etc/sudoers.d/berth"

# Kernel and boot loader after the initramfs configuration (files/etc/initramfs-tools): one small initramfs.
mount -t proc proc "$dest/proc"
rm -f "$dest/etc/resolv.conf" && cp /etc/resolv.conf "$dest/etc/resolv.conf"
in_root apt-get -q update >&2
in_root apt-get -q -y install --no-install-recommends $kernel_packages >&2
umount "$dest/proc"

# Every clone gets its own machine-id: empty in the image, dbus's copy follows it.
: > "$dest/etc/machine-id"
mkdir -p "$dest/var/lib/dbus"
ln -sf /etc/machine-id "$dest/var/lib/dbus/machine-id"
# Host keys come per fleet (berth-fleet-identity); none may be shared through the image.
rm -f "$dest"/etc/ssh/ssh_host_*
echo 'LABEL=berth-root / ext4 errors=remount-ro 0 1' > "$dest/etc/fstab"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$dest/etc/hosts"

in_root useradd --create-home --shell /bin/bash berth
# Debian already has a system group "operator" (gid 37): it becomes the primary group.
in_root useradd --create-home --shell /bin/bash --gid operator --groups sudo operator
# Locked until the fleet sets a password; key logins still work for a locked-by-'*' account with sshd+PAM.
in_root usermod -p '*' berth
in_root usermod -p '*' operator
for u in berth operator; do
  install -d -m 700 "$dest/home/$u/.ssh"
  in_root chown "$u:$u" "/home/$u/.ssh"
done

in_root systemctl enable berth-fleet-identity.service systemd-networkd.service >&2
# Updates happen when a test (or berth) asks, never from a timer.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer >&2

# Guests have no apt source but the fleet's local repository (written per fleet).
: > "$dest/etc/apt/sources.list"
rm -f "$dest"/etc/apt/sources.list.d/*
in_root apt-get clean
rm -rf "$dest"/var/lib/apt/lists/* "$dest"/var/cache/apt/*.bin "$dest"/var/log/*.log "$dest"/var/log/apt/*
echo "built $(ls "$dest"/boot/vmlinuz-* | head -1)" >&2
