// Teardown also happens when the owner of a fleet dies without calling stop(): SIGKILL, as ava does on a
// timeout, leaves no handler to run — the fleet's reaper process cleans up.
import test from 'ava';
import {spawn} from 'node:child_process';
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {portsDir} from '../../src/testfleet/paths.js';
import {isAlive, type FleetState} from '../../src/testfleet/state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a fleet whose owner is killed with SIGKILL is torn down by its reaper', async (t) => {
  t.timeout(45 * 60_000, 'the first run on a machine builds the image (debootstrap) and the apt repository');
  const owner = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers', 'owner.ts'), '1', 'apt'], {stdio: ['ignore', 'pipe', 'inherit']});
  const state = await new Promise<FleetState>((resolve, reject) => {
    let out = '';
    owner.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as FleetState);
    });
    owner.on('exit', (code) => reject(new Error(`owner exited with ${code} before the fleet was up`)));
  });
  const tracked = [...state.hosts.map((h) => h.process!), state.aptServer!];
  t.true(tracked.every(isAlive), 'the fleet runs while its owner lives');
  t.true(existsSync(state.dir));

  owner.kill('SIGKILL');
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && (existsSync(state.dir) || tracked.some(isAlive))) await sleep(250);
  t.false(existsSync(state.dir), 'fleet directory removed');
  for (const p of tracked) t.false(isAlive(p), `process ${p.pid} stopped`);
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(state.dir));
  const reserved = existsSync(portsDir()) ? readdirSync(portsDir()) : [];
  for (const h of state.hosts) t.false(reserved.includes(String(h.port)));
});
