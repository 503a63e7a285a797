#!/bin/sh
# Fills OUT with the .debs a host built from ROOTFS needs for `apt-get dist-upgrade` against the machine's
# Debian mirror plus its security suite (a newer kernel and security updates), and indexes them
# (dpkg-scanpackages) as a flat repository: `deb [trusted=yes] http://HOST:PORT/ ./`.
# Usage: build.sh ROOTFS OUT MAIN_URI SECURITY_URI
# Runs apt inside a throw-away overlay of ROOTFS in a private mount namespace: nothing is mounted on the
# machine afterwards and the cached rootfs is never written.
set -eu
rootfs=$1 out=$2 main=$3 security=$4
work=$(mktemp -d /tmp/berth-apt-repo.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/upper" "$work/work" "$work/merged" "$out"
unshare --mount --propagation private sh -eu -c '
  rootfs=$1 work=$2 out=$3 main=$4 security=$5
  m=$work/merged
  mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$work/upper,workdir=$work/work" "$m"
  mount -t proc proc "$m/proc"
  rm -f "$m/etc/resolv.conf"; cp /etc/resolv.conf "$m/etc/resolv.conf"
  rm -f "$m"/etc/apt/sources.list.d/*
  printf "Types: deb\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n" "$main" "$security" > "$m/etc/apt/sources.list.d/debian.sources"
  chroot "$m" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get -q update >&2
  chroot "$m" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get -q -y --download-only dist-upgrade >&2
  cp "$m"/var/cache/apt/archives/*.deb "$out/"
' sh "$rootfs" "$work" "$out" "$main" "$security"
cd "$out"
dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null
gzip -9 -k -f Packages
ls "$out"/*.deb | wc -l
