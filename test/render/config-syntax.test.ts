/**
 * The non-systemd files render writes, checked by the tools that will read them (Debian packages, installed
 * when missing): shell scripts by shellcheck, apt configuration by apt-config, sudoers by visudo, the GRUB
 * drop-in by sourcing it the way grub-mkconfig does.
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {renderHost} from '../../src/render/index.js';
import type {ManagedFile} from '../../src/render/types.js';
import type {ResolvedHost} from '../../src/spec/types.js';
import {ensureDebian} from '../engine/helpers/engine.js';
import {exampleFiles, exampleHosts} from './examples.js';
import {bareHost, fullHost} from './hosts.js';

ensureDebian(['shellcheck', 'sudo'], ['shellcheck', 'visudo']);

function withFile<T>(t: {teardown: (f: () => void) => void}, content: string, use: (file: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-syntax-'));
  t.teardown(() => rmSync(dir, {recursive: true, force: true}));
  const file = path.join(dir, 'file');
  writeFileSync(file, content);
  return use(file);
}

async function allHosts(): Promise<ResolvedHost[]> {
  const window = bareHost('window-1');
  window.updates.strategy = 'window';
  window.updates.windows = [{days: ['mon'], start: '02:00', length: '2h', timeZone: 'UTC'}];
  const etcd = bareHost('etcd-1');
  etcd.updates.strategy = 'fleet-lock';
  etcd.updates.lock = {etcd: {endpoints: ['http://127.0.0.1:2379']}};
  const hosts = [fullHost(), window, etcd, bareHost()];
  for (const file of exampleFiles()) hosts.push(...(await exampleHosts(file)));
  return hosts;
}

function filesLike(hosts: ResolvedHost[], match: (f: ManagedFile) => boolean): [string, ManagedFile][] {
  return hosts.flatMap((h) => renderHost(h).files.filter(match).map((f): [string, ManagedFile] => [h.name, f]));
}

test('every generated shell script passes shellcheck (POSIX sh)', async (t) => {
  const scripts = filesLike(await allHosts(), (f) => f.content.startsWith('#!/bin/sh'));
  t.true(scripts.length >= 10, `${scripts.length} scripts`);
  for (const [host, f] of scripts) {
    const r = withFile(t, f.content, (file) => spawnSync('shellcheck', ['-s', 'sh', file], {encoding: 'utf8'}));
    t.is(r.status, 0, `${host}:${f.path}\n${r.stdout}${r.stderr}`);
  }
});

test('apt reads the unattended-upgrades drop-in, and #clear drops the origins an earlier file listed', (t) => {
  const apt = renderHost(bareHost()).files.find((f) => f.path === '/etc/apt/apt.conf.d/52berth-unattended-upgrades')!;
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-apt-'));
  t.teardown(() => rmSync(dir, {recursive: true, force: true}));
  // What Debian's own 50unattended-upgrades and 20auto-upgrades set before ours is read.
  writeFileSync(
    path.join(dir, '50unattended-upgrades'),
    'Unattended-Upgrade::Allowed-Origins { "${distro_id}:${distro_codename}"; };\n' +
      'Unattended-Upgrade::Origins-Pattern { "origin=Debian,codename=${distro_codename}-updates"; };\n' +
      'APT::Periodic::Unattended-Upgrade "1";\nUnattended-Upgrade::Automatic-Reboot "true";\n',
  );
  writeFileSync(path.join(dir, '52berth'), apt.content);
  const r = spawnSync('apt-config', ['-c', path.join(dir, '50unattended-upgrades'), '-c', path.join(dir, '52berth'), 'dump'], {encoding: 'utf8'});
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.deepEqual(
    lines.filter((l) => l.startsWith('Unattended-Upgrade::Origins-Pattern::') || l.startsWith('Unattended-Upgrade::Allowed-Origins::')),
    [
      'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
      'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename},label=Debian-Security";',
      'Unattended-Upgrade::Origins-Pattern:: "origin=Ubuntu,archive=${distro_codename}-security";',
    ],
  );
  t.true(lines.includes('APT::Periodic::Unattended-Upgrade "0";'));
  t.true(lines.includes('Unattended-Upgrade::Automatic-Reboot "false";'));
});

test('visudo accepts every sudoers drop-in', async (t) => {
  const files = filesLike(await allHosts(), (f) => f.path.startsWith('/etc/sudoers.d/'));
  t.true(files.length >= 2);
  for (const [host, f] of files) {
    const r = withFile(t, f.content, (file) => spawnSync('visudo', ['-c', '-f', file], {encoding: 'utf8'}));
    t.is(r.status, 0, `${host}:${f.path}\n${r.stdout}${r.stderr}`);
  }
});

test('the GRUB drop-in appends the boot parameters when sourced, quotes and all', (t) => {
  const host = bareHost();
  host.kernel.bootParams = ['systemd.unified_cgroup_hierarchy=1', 'acpi_osi="Linux"', 'x=$HOME`id`\\'];
  const grub = renderHost(host).files.find((f) => f.path === '/etc/default/grub.d/90-berth.cfg')!;
  const r = withFile(t, grub.content, (file) =>
    spawnSync('sh', ['-c', `GRUB_CMDLINE_LINUX="quiet"; . "${file}"; printf '%s' "$GRUB_CMDLINE_LINUX"`], {encoding: 'utf8'}),
  );
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'quiet systemd.unified_cgroup_hierarchy=1 acpi_osi="Linux" x=$HOME`id`\\');
});
