/**
 * Per-fleet secrets and the files that let clients trust them exactly: user keys, one host key per host,
 * the operator's sudo password, known_hosts (one `[127.0.0.1]:PORT` line per host — strict checking, no
 * trust on first use) and an OpenSSH client config with one `Host` entry per fleet host.
 */
import {randomBytes} from 'node:crypto';
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {run} from './run.js';

export interface KeyPair {
  privateFile: string;
  publicKey: string;
}

export async function generateKey(file: string, comment: string): Promise<KeyPair> {
  mkdirSync(path.dirname(file), {recursive: true});
  rmSync(file, {force: true});
  rmSync(`${file}.pub`, {force: true});
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {step: 'generate a test-fleet key'});
  return {privateFile: file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim()};
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export function generateMachineId(): string {
  return randomBytes(16).toString('hex');
}

export interface IdentityInput {
  hostname: string;
  hostKey: KeyPair;
  adminKey: string;
  operatorKey: string;
  operatorPassword: string;
  aptSourceLine?: string;
}

/**
 * Writes the tar that berth-fleet-identity (images/debian-12/files/usr/local/sbin/) unpacks inside the host
 * at boot. Owners are fixed there; the tar itself is root-owned.
 */
export async function writeIdentityTar(tarFile: string, input: IdentityInput): Promise<void> {
  const staging = `${tarFile}.d`;
  rmSync(staging, {recursive: true, force: true});
  const put = (rel: string, content: string, mode = 0o644) => {
    const full = path.join(staging, rel);
    mkdirSync(path.dirname(full), {recursive: true});
    writeFileSync(full, content, {mode});
  };
  put('etc/ssh/ssh_host_ed25519_key', readFileSync(input.hostKey.privateFile, 'utf8'), 0o600);
  put('etc/ssh/ssh_host_ed25519_key.pub', input.hostKey.publicKey + '\n');
  put('etc/hostname', input.hostname + '\n');
  put('home/berth/.ssh/authorized_keys', input.adminKey + '\n', 0o600);
  put('home/operator/.ssh/authorized_keys', input.operatorKey + '\n', 0o600);
  put('etc/berth-fleet/operator-password', input.operatorPassword + '\n', 0o600);
  if (input.aptSourceLine) put('etc/apt/sources.list.d/berth-local.list', input.aptSourceLine + '\n');
  await run('tar', ['--owner=0', '--group=0', '-C', staging, '-cf', tarFile, 'etc', 'home'], {step: 'write the host identity'});
  rmSync(staging, {recursive: true, force: true});
}

export interface SshEntry {
  name: string;
  port: number;
  hostKey: string;
}

export function knownHostsText(entries: SshEntry[]): string {
  return entries.map((e) => `[127.0.0.1]:${e.port} ${e.hostKey.split(/\s+/).slice(0, 2).join(' ')}\n`).join('');
}

export function sshConfigText(entries: SshEntry[], files: {knownHosts: string; adminKey: string; operatorKey: string}): string {
  const common = [
    '  HostName 127.0.0.1',
    `  UserKnownHostsFile ${files.knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  IdentitiesOnly yes',
    '  BatchMode yes',
    '  ConnectTimeout 20',
    '  LogLevel ERROR',
  ];
  const blocks = entries.flatMap((e) => [
    `Host ${e.name}`,
    `  Port ${e.port}`,
    '  User berth',
    `  IdentityFile ${files.adminKey}`,
    ...common,
    '',
    `Host ${e.name}-operator`,
    `  Port ${e.port}`,
    '  User operator',
    `  IdentityFile ${files.operatorKey}`,
    ...common,
    '',
  ]);
  return ['# Written by the berth test fleet. `ssh -F THIS NAME` logs in as berth, `NAME-operator` as operator.', '', ...blocks].join('\n');
}
