/**
 * TCP ports on 127.0.0.1 for sshd, hostfwd and the apt server. Each reservation is a file
 * /run/berth/ports/PORT naming the fleet directory that owns it; a reservation whose fleet directory is gone is
 * stale (its fleet was torn down or the machine rebooted). Ports come from below the kernel's ephemeral range,
 * so an outgoing connection never takes a port between our check and the server's bind.
 */
import {existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {withLock} from './lock.js';
import {portsDir} from './paths.js';
import {FleetError} from './run.js';

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isFinite(low) && low > 12000 ? low : 32768;
  } catch {
    return 32768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({port, host: '127.0.0.1', exclusive: true}, () => server.close(() => resolve(true)));
  });
}

/** Reserves `count` free ports for the fleet whose directory is `owner`. */
export async function reservePorts(owner: string, count: number): Promise<number[]> {
  const dir = portsDir();
  mkdirSync(dir, {recursive: true});
  return withLock(path.join(dir, '.lock'), 'reserve ports', async () => {
    const high = ephemeralLow() - 1;
    const low = Math.max(10000, high - 12000);
    const taken = new Set<number>();
    for (const f of readdirSync(dir)) {
      if (!/^\d+$/.test(f)) continue;
      const holder = readFileSync(path.join(dir, f), 'utf8').trim();
      if (holder && existsSync(holder)) taken.add(Number(f));
      else unlinkSync(path.join(dir, f));
    }
    const ports: number[] = [];
    for (let attempt = 0; ports.length < count && attempt < 2000; attempt++) {
      const port = low + Math.floor(Math.random() * (high - low));
      if (taken.has(port) || ports.includes(port)) continue;
      if (!(await canBind(port))) continue;
      writeFileSync(path.join(dir, String(port)), owner + '\n', {flag: 'wx'});
      ports.push(port);
    }
    if (ports.length < count) throw new FleetError(`reserve ${count} ports on 127.0.0.1 in ${low}-${high}: too few free`);
    return ports;
  });
}

/** Releases every port the fleet directory `owner` holds. */
export function releasePorts(owner: string): void {
  const dir = portsDir();
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of files) {
    if (!/^\d+$/.test(f)) continue;
    try {
      if (readFileSync(path.join(dir, f), 'utf8').trim() === owner) unlinkSync(path.join(dir, f));
    } catch {
      // already gone
    }
  }
}
