import {createHash} from 'node:crypto';
import test from 'ava';
import {UserError} from '../../src/errors.js';
import {renderHost, selectForFamily} from '../../src/render/index.js';
import type {FileSet} from '../../src/render/types.js';
import {bareHost, fullHost} from './hosts.js';

function file(fileSet: FileSet, path: string) {
  const found = fileSet.files.find((f) => f.path === path);
  if (!found) throw new Error(`${path} not rendered; have ${fileSet.files.map((f) => f.path).join(', ')}`);
  return found;
}

/** Rebuilds every object with its keys in a random order (lists keep theirs: their order means something). */
function shuffleKeys<T>(value: T, random: () => number): T {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, random)) as T;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, random)])) as T;
  }
  return value;
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

test('rendering twice gives identical bytes', (t) => {
  t.is(JSON.stringify(renderHost(fullHost())), JSON.stringify(renderHost(fullHost())));
});

test('the order of keys in the spec never shows in the output', (t) => {
  const reference = JSON.stringify(renderHost(fullHost()));
  for (let seed = 1; seed <= 20; seed++) {
    const shuffled = shuffleKeys(fullHost(), seeded(seed));
    t.is(JSON.stringify(renderHost(shuffled)), reference, `seed ${seed}`);
  }
  // The shuffle really reorders something, or this test could not fail.
  t.notDeepEqual(Object.keys(shuffleKeys(fullHost(), seeded(3)).containers), Object.keys(fullHost().containers));
});

test('files are sorted by path, hashed, and generated ones end with a newline', (t) => {
  const fs = renderHost(fullHost());
  const paths = fs.files.map((f) => f.path);
  t.deepEqual(paths, [...paths].sort());
  for (const f of fs.files) {
    t.is(f.sha256, createHash('sha256').update(f.content).digest('hex'), f.path);
    if (f.path !== '/etc/motd') t.true(f.content.endsWith('\n') && !f.content.endsWith('\n\n\n'), f.path);
    t.regex(f.mode, /^0[0-7]{3}$/);
  }
});

test('a bare host still gets the storage unit, engine config and update configuration', (t) => {
  const fs = renderHost(bareHost());
  t.deepEqual(
    fs.files.map((f) => f.path),
    [
      '/etc/apt/apt.conf.d/52berth-unattended-upgrades',
      '/etc/berth/engine.json',
      '/etc/berth/update.json',
      '/etc/dnf/automatic.conf',
      '/etc/systemd/system/berth-storage.service',
      '/usr/local/lib/berth/storage-setup',
    ],
  );
  t.deepEqual(fs.units, ['berth-storage.service']);
  t.deepEqual(
    fs.actions.map((a) => a.kind),
    ['daemon-reload', 'storage-setup', 'enable-unit'],
  );
});

test('container unit: engine flags, ordering, restart policy, log limits, stop command', (t) => {
  const unit = file(renderHost(fullHost()), '/etc/systemd/system/berth-container-app.service').content;
  t.regex(unit, /^Type=notify$/m);
  t.regex(unit, /^Requires=berth-storage\.service berth-container-db\.service$/m);
  t.regex(unit, /^After=berth-storage\.service network-online\.target berth-container-db\.service$/m);
  t.regex(unit, /^Restart=on-failure$/m);
  t.regex(unit, /^LogRateLimitIntervalSec=30s$/m);
  t.regex(unit, /^LogRateLimitBurst=10000$/m);
  t.regex(unit, /^ExecStop=\/usr\/local\/bin\/berth-engine stop app$/m);
  t.regex(
    unit,
    /^ExecStart=\/usr\/local\/bin\/berth-engine run --name app --rm --network host --read-only -v \/etc\/app:\/etc\/app:ro -p "\[::1\]:53:5353\/udp" registry\.example\.org\/app:1\.2$/m,
  );
  t.notRegex(unit, /image load/, 'a reference is not loaded from an archive');
  const db = file(renderHost(fullHost()), '/etc/systemd/system/berth-container-db.service').content;
  t.regex(db, /^ExecStartPre=\/usr\/local\/bin\/berth-engine image load --tag localhost\/db:archive \/srv\/images\/postgres-16\.tar$/m);
  t.regex(db, / localhost\/db:archive postgres -c shared_buffers=256MB$/m);
  t.regex(db, /^Environment="BERTH_ENGINE_DATA_ROOT=\/var\/lib\/berth-engine"\nEnvironment="BERTH_ENGINE_STORAGE_DRIVER=devicemapper"$/m);
  t.regex(db, /^Wants=network-online\.target berth-health-db\.timer$/m);
  // Secrets stay out of the world-readable unit: the values go to a 0600 env file the unit depends on.
  t.notRegex(db, /POSTGRES_PASSWORD|p@ss/);
  t.regex(db, / --env-file \/etc\/berth\/containers\/db\.env /);
  const fs = renderHost(fullHost());
  const env = file(fs, '/etc/berth/containers/db.env');
  t.is(env.mode, '0600');
  t.is(env.owner, 'root');
  t.deepEqual(env.affects, ['berth-container-db.service']);
  t.is(env.content.split('\n').slice(1).join('\n'), 'PGDATA=/var/lib/postgresql/data\nPOSTGRES_PASSWORD=p@ss "word" 100% $HOME \\ end\n');
  t.false(fs.files.some((f) => f.path.endsWith('/app.env')), 'no env file for a container without env');
});

test('an env value with a newline is refused: an env file has one KEY=VALUE a line', (t) => {
  const host = fullHost();
  host.containers.db!.env = {PEM: 'line1\nline2'};
  t.throws(() => renderHost(host), {message: /env PEM holds a newline/});
});

test('health check: a timer at the interval, a oneshot with the retries and timeout, the shared script', (t) => {
  const fs = renderHost(fullHost());
  t.regex(file(fs, '/etc/systemd/system/berth-health-db.timer').content, /^OnUnitActiveSec=15s$/m);
  t.regex(
    file(fs, '/etc/systemd/system/berth-health-db.service').content,
    /^ExecStart=\/usr\/local\/lib\/berth\/health-check db 4 5 pg_isready -U postgres$/m,
  );
  t.is(file(fs, '/usr/local/lib/berth/health-check').mode, '0755');
});

test('devicemapper direct-lvm: the device is wiped only with wipe: true', (t) => {
  const withWipe = file(renderHost(fullHost()), '/usr/local/lib/berth/storage-setup').content;
  t.regex(withWipe, /^wipe=yes$/m);
  const host = fullHost();
  host.engine.devicemapper = {device: '/dev/vdb'};
  const fs = renderHost(host);
  const script = file(fs, '/usr/local/lib/berth/storage-setup').content;
  t.regex(script, /^wipe=no$/m);
  t.regex(script, /wipe is not true: berth will not touch it/);
  t.regex(script, /lvcreate -y --wipesignatures y -n "\$lv" -l 95%VG "\$vg"/);
  t.regex(file(fs, '/etc/lvm/profile/berth-thinpool.profile').content, /thin_pool_autoextend_threshold=80\n\tthin_pool_autoextend_percent=20/);
  t.is(JSON.parse(file(fs, '/etc/berth/engine.json').content).pool, 'berth/thinpool');
});

test('devicemapper on an existing pool: used as is, no profile, no LVM changes', (t) => {
  const host = bareHost();
  host.engine.storage = 'devicemapper';
  host.engine.devicemapper = {pool: 'vg_data/pool'};
  const fs = renderHost(host);
  const script = file(fs, '/usr/local/lib/berth/storage-setup').content;
  t.notRegex(script, /wipefs|pvcreate|vgcreate|lvcreate|lvchange/);
  t.false(fs.files.some((f) => f.path.startsWith('/etc/lvm/')));
  t.is(JSON.parse(file(fs, '/etc/berth/engine.json').content).pool, 'vg_data/pool');
});

test('devicemapper without a device or a pool is refused', (t) => {
  const host = bareHost();
  host.engine.storage = 'devicemapper';
  t.throws(() => renderHost(host), {instanceOf: UserError, message: /needs engine\.devicemapper\.device/});
});

test('kernel: sysctls sorted, modules once each, boot parameters in a Debian-only GRUB drop-in', (t) => {
  const host = fullHost();
  host.kernel.modules = ['overlay', 'br_netfilter', 'overlay'];
  const fs = renderHost(host);
  t.true(file(fs, '/etc/sysctl.d/90-berth.conf').content.endsWith('net.ipv4.ip_forward = 1\nvm.max_map_count = 262144\n'));
  t.true(file(fs, '/etc/modules-load.d/berth.conf').content.endsWith('\noverlay\nbr_netfilter\n'));
  const grub = file(fs, '/etc/default/grub.d/90-berth.cfg');
  t.deepEqual(grub.when, {osFamily: 'debian'});
  t.regex(grub.content, /^GRUB_CMDLINE_LINUX="\$GRUB_CMDLINE_LINUX systemd\.unified_cgroup_hierarchy=1 quiet"$/m);
  t.truthy(fs.actions.find((a) => a.kind === 'update-grub' && a.when?.osFamily === 'debian'));
});

test('update configuration per OS family: security-only vs all, never rebooting by itself', (t) => {
  const security = renderHost(bareHost());
  const apt = file(security, '/etc/apt/apt.conf.d/52berth-unattended-upgrades').content;
  t.regex(apt, /"origin=Debian,codename=\$\{distro_codename\}-security,label=Debian-Security";/);
  t.notRegex(apt, /-updates/);
  t.regex(apt, /^Unattended-Upgrade::Automatic-Reboot "false";$/m);
  t.regex(apt, /^APT::Periodic::Unattended-Upgrade "0";$/m);
  t.regex(file(security, '/etc/dnf/automatic.conf').content, /^upgrade_type = security$/m);
  t.regex(file(security, '/etc/dnf/automatic.conf').content, /^reboot = never$/m);
  const all = renderHost(fullHost());
  t.regex(file(all, '/etc/apt/apt.conf.d/52berth-unattended-upgrades').content, /codename=\$\{distro_codename\}-updates/);
  t.regex(file(all, '/etc/dnf/automatic.conf').content, /^upgrade_type = default$/m);
  t.regex(file(all, '/etc/dnf/automatic.conf').content, /^excludepkgs = kernel /m);
});

test('selectForFamily keeps what matches the probed family and drops the conditions', (t) => {
  const fs = renderHost(fullHost());
  const debian = selectForFamily(fs, 'debian');
  t.true(debian.files.some((f) => f.path === '/etc/apt/apt.conf.d/52berth-unattended-upgrades'));
  t.false(debian.files.some((f) => f.path === '/etc/dnf/automatic.conf'));
  t.true(debian.actions.some((a) => a.kind === 'update-grub'));
  const rhel = selectForFamily(fs, 'rhel');
  t.true(rhel.files.some((f) => f.path === '/etc/dnf/automatic.conf'));
  t.false(rhel.files.some((f) => f.path.startsWith('/etc/apt/') || f.path.startsWith('/etc/default/grub.d/')));
  t.false(rhel.actions.some((a) => a.kind === 'update-grub'));
  t.false([...rhel.files, ...rhel.actions].some((x) => 'when' in x));
});

test('strategy window: a timer per the windows (not persistent), no lock, no unlock unit', (t) => {
  const host = bareHost();
  host.updates.strategy = 'window';
  host.updates.windows = [
    {days: ['tue', 'thu'], start: '03:00', length: '1h30m', timeZone: 'Europe/Berlin'},
    {days: ['sun'], start: '22:00', length: '4h', timeZone: 'UTC'},
  ];
  const fs = renderHost(host);
  const timer = file(fs, '/etc/systemd/system/berth-update.timer').content;
  t.regex(timer, /^OnCalendar=Tue,Thu \*-\*-\* 03:00:00 Europe\/Berlin\nOnCalendar=Sun \*-\*-\* 22:00:00 UTC$/m);
  t.regex(timer, /^Persistent=false$/m);
  const script = file(fs, '/usr/local/lib/berth/update').content;
  t.regex(script, /^lock_kind=none$/m);
  t.regex(script, /^2,4 180 5400 Europe\/Berlin\n7 1320 14400 UTC$/m);
  t.false(fs.units.includes('berth-update-unlock.service'));
  t.truthy(fs.actions.find((a) => a.kind === 'enable-unit' && a.unit === 'berth-update.timer'));
});

test('strategy fleet-lock with etcd and no windows: daily, randomized, persistent, unlock at boot', (t) => {
  const host = bareHost();
  host.updates.strategy = 'fleet-lock';
  host.updates.lock = {etcd: {endpoints: ['https://10.0.0.5:2379', 'https://10.0.0.6:2379']}};
  const fs = renderHost(host);
  const timer = file(fs, '/etc/systemd/system/berth-update.timer').content;
  t.regex(timer, /^OnCalendar=daily\nRandomizedDelaySec=1h$/m);
  t.regex(timer, /^Persistent=true$/m);
  const script = file(fs, '/usr/local/lib/berth/update').content;
  t.regex(script, /^etcd_endpoints=https:\/\/10\.0\.0\.5:2379,https:\/\/10\.0\.0\.6:2379$/m);
  t.regex(script, /^etcd_key=\/berth\/reboot-lock$/m);
  t.true(fs.units.includes('berth-update-unlock.service'));
});

test('updates that cannot work are refused with the fix', (t) => {
  const noWindow = bareHost();
  noWindow.updates.strategy = 'window';
  t.throws(() => renderHost(noWindow), {instanceOf: UserError, message: /needs at least one maintenance window/});
  const noLock = bareHost();
  noLock.updates.strategy = 'fleet-lock';
  t.throws(() => renderHost(noLock), {instanceOf: UserError, message: /needs a reboot lock/});
});

test('strategies off and orchestrated write no timer', (t) => {
  for (const strategy of ['off', 'orchestrated'] as const) {
    const host = bareHost();
    host.updates.strategy = strategy;
    const fs = renderHost(host);
    t.false(fs.files.some((f) => f.path.includes('berth-update')), strategy);
    t.is(JSON.parse(file(fs, '/etc/berth/update.json').content).strategy, strategy);
  }
});

test('users: list for the action, sudoers 0440, authorized_keys owned by the user', (t) => {
  const fs = renderHost(fullHost());
  t.is(file(fs, '/etc/sudoers.d/90-berth-ops').mode, '0440');
  t.regex(file(fs, '/etc/sudoers.d/90-berth-ops').content, /^ops ALL=\(ALL:ALL\) NOPASSWD: ALL$/m);
  const keys = file(fs, '/home/ops/.ssh/authorized_keys');
  t.like(keys, {mode: '0600', owner: 'ops', group: 'ops'});
  t.regex(keys.content, /^ssh-ed25519 AAAAC3Nza ops@laptop$/m);
  t.deepEqual(JSON.parse(file(fs, '/etc/berth/users.json').content).users[0], {
    groups: ['adm'],
    home: '/home/ops',
    name: 'ops',
    shell: '/bin/bash',
    sudo: true,
    uid: 1500,
  });
  t.deepEqual(fs.actions[0], {kind: 'create-users', users: ['ops'], triggers: ['/etc/berth/users.json']});
});

test('a dotted user name gets a sudoers file name sudo does not skip', (t) => {
  const host = bareHost();
  host.users = {'john.doe': {shell: '/bin/sh', groups: [], sudo: true, authorizedKeys: []}};
  const fs = renderHost(host);
  t.regex(file(fs, '/etc/sudoers.d/90-berth-john_doe').content, /^john\.doe ALL=/m);
});

test('journald and timesyncd drop-ins', (t) => {
  const fs = renderHost(fullHost());
  t.is(
    file(fs, '/etc/systemd/journald.conf.d/90-berth.conf').content.split('\n').slice(1).join('\n'),
    '[Journal]\nStorage=persistent\nSystemMaxUse=1G\nMaxRetentionSec=1month\n',
  );
  t.regex(file(fs, '/etc/systemd/timesyncd.conf.d/90-berth.conf').content, /^NTP=ntp1\.example\.org ntp2\.example\.org$/m);
  t.false(renderHost(bareHost()).files.some((f) => f.path.includes('journald') || f.path.includes('timesyncd')));
});

test('extra units, drop-ins and files: content verbatim, restart what they affect, enable when asked', (t) => {
  const fs = renderHost(fullHost());
  t.deepEqual(file(fs, '/etc/systemd/system/backup.service.d/10-limits.conf').affects, ['backup.service']);
  t.is(file(fs, '/etc/motd').content, 'managed by berth\n');
  t.truthy(fs.actions.find((a) => a.kind === 'enable-unit' && a.unit === 'backup.timer'));
  t.falsy(fs.actions.find((a) => a.kind === 'enable-unit' && a.unit === 'backup.service'));
  const reload = fs.actions.find((a) => a.kind === 'daemon-reload');
  t.true(reload?.triggers?.includes('/etc/systemd/system/backup.service.d/10-limits.conf'));
});

test('engine.json changes restart the storage unit and every container', (t) => {
  t.deepEqual(file(renderHost(fullHost()), '/etc/berth/engine.json').affects, [
    'berth-container-app.service',
    'berth-container-db.service',
    'berth-storage.service',
  ]);
});

test('inconsistent hosts are refused with what to do', (t) => {
  const dep = fullHost();
  delete dep.containers.db;
  t.throws(() => renderHost(dep), {instanceOf: UserError, message: /depends on container db, which this host does not run/});
  const clash = fullHost();
  clash.files['/etc/sysctl.d/90-berth.conf'] = {content: 'x', mode: '0644', owner: 'root', group: 'root'};
  t.throws(() => renderHost(clash), {instanceOf: UserError, message: /would be written twice, by kernel and by units, dropins and files/});
  const badName = bareHost();
  badName.containers['we b'] = {...fullHost().containers.app!, dependsOn: []};
  t.throws(() => renderHost(badName), {instanceOf: UserError, message: /render container "we b"/});
  const dashImage = bareHost();
  dashImage.containers.x = {...fullHost().containers.app!, image: '--privileged', dependsOn: []};
  t.throws(() => renderHost(dashImage), {instanceOf: UserError, message: /starts with '-'/});
  const badDropin = bareHost();
  badDropin.dropins = {'ssh.service': {'override.txt': '[Service]\n'}};
  t.throws(() => renderHost(badDropin), {instanceOf: UserError, message: /systemd reads only UNIT\.d\/NAME\.conf/});
});
