#!/usr/bin/env node
// Test-fleet timings: warm start of 1 and of 10 container hosts (startFleet → every host answers SSH),
// teardown, and one VM boot to SSH. Images must be built already (the first startFleet builds them; a cold
// build is timed separately, see docs/testing.md). Runs one at a time; medians of RUNS runs.
//   npm run bench -- fleet            BERTH_BENCH_RUNS=5 BERTH_BENCH_VM=0 to change runs / skip the VM
import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {register} from 'tsx/esm/api';

register();
const {startFleet} = await import('../src/testfleet/index.ts');
const runs = Number(process.env.BERTH_BENCH_RUNS ?? 3);
const withVm = process.env.BERTH_BENCH_VM !== '0';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function measure(label, options, n) {
  const up = [];
  const down = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const fleet = await startFleet({aptRepo: false, ...options});
    up.push(performance.now() - t0);
    const t1 = performance.now();
    await fleet.stop();
    down.push(performance.now() - t1);
    console.error(`${label} run ${i + 1}: up ${(up.at(-1) / 1000).toFixed(1)} s, down ${(down.at(-1) / 1000).toFixed(1)} s`);
  }
  return {label, up: median(up), down: median(down), n, min: Math.min(...up), max: Math.max(...up)};
}

// Warm-up: builds the image if missing (not counted).
await (await startFleet({containers: 1, aptRepo: false})).stop();
const rows = [await measure('1 container host', {containers: 1}, runs), await measure('10 container hosts', {containers: 10}, runs)];
if (withVm) rows.push(await measure('1 VM host (TCG unless a KVM probe succeeded)', {vms: 1}, 1));

const lines = [
  '# Test fleet: start and teardown',
  '',
  `Recorded ${new Date().toISOString()} on ${process.arch}, node ${process.version}; load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}.`,
  'Reproduce: `npm run bench -- fleet`',
  '',
  '| fleet | up, median s | up, min–max s | teardown, median s | runs |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${(r.up / 1000).toFixed(1)} | ${(r.min / 1000).toFixed(1)}–${(r.max / 1000).toFixed(1)} | ${(r.down / 1000).toFixed(1)} | ${r.n} |`),
  '',
  '"up" is startFleet() until every host accepted an SSH login with strict host-key checking (key generation,',
  'overlay, boot, sshd). Targets from issue 3: 10 container hosts ≤ 15 s warm; a VM ≤ 60 s under TCG.',
];
mkdirSync(path.join(process.cwd(), 'bench', 'results'), {recursive: true});
writeFileSync(path.join(process.cwd(), 'bench', 'results', 'fleet.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
