// The body of bench/transport.bench.mjs (see there).
import {execFileSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {connectSsh} from '../src/transport/ssh.js';
import {startSshd, tempFile} from '../test/transport/helpers/sshd.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
async function time(runs: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  console.error(`  ${runs} runs, median ${median(out).toFixed(1)} ms`);
  return out;
}

const sshd = await startSshd();
const knownHostsFile = tempFile('known_hosts', sshd.knownHosts());
const rows: {name: string; times: number[]}[] = [];
try {
  const target = {name: 'bench', address: '127.0.0.1', port: sshd.port, user: 'root', identityFile: sshd.clientKey};
  const options = {sshConfigFile: '/dev/null', knownHostsFile, agent: false as const};
  rows.push({name: 'berth: connect (handshake + key auth)', times: await time(3, async () => (await connectSsh(target, options)).close())});
  const tr = await connectSsh(target, options);
  rows.push({name: 'berth: exec `true` on the open connection', times: await time(15, () => tr.exec('true'))});
  rows.push({name: 'berth: 10 × exec `true` in parallel (one connection)', times: await time(3, () => Promise.all(Array.from({length: 10}, () => tr.exec('true'))))});
  const dir = join(sshd.dir, 'files');
  mkdirSync(dir);
  const small = Buffer.alloc(1024, 'a');
  const big = Buffer.alloc(8 * 1024 * 1024, 'b');
  rows.push({name: 'berth: put 1 KiB (sftp + fsync + sha256 + rename)', times: await time(5, () => tr.put(join(dir, 'small'), small))});
  rows.push({name: 'berth: put 8 MiB', times: await time(2, () => tr.put(join(dir, 'big'), big))});
  rows.push({name: 'berth: get 8 MiB', times: await time(2, () => tr.get(join(dir, 'big')))});
  await tr.close();

  const base = ['-F', '/dev/null', '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'BatchMode=yes', '-i', sshd.clientKey, '-p', String(sshd.port)];
  rows.push({name: 'OpenSSH: `ssh host true` (new connection each)', times: await time(3, () => execFileSync('ssh', [...base, 'root@127.0.0.1', 'true']))});
  const control = join(sshd.dir, 'cm');
  execFileSync('ssh', [...base, '-o', 'ControlMaster=yes', '-o', `ControlPath=${control}`, '-o', 'ControlPersist=60', 'root@127.0.0.1', 'true']);
  rows.push({name: 'OpenSSH: `ssh host true` over ControlMaster', times: await time(15, () => execFileSync('ssh', [...base, '-o', `ControlPath=${control}`, 'root@127.0.0.1', 'true']))});
  execFileSync('ssh', [...base, '-o', `ControlPath=${control}`, '-O', 'exit', 'root@127.0.0.1'], {stdio: 'ignore'});
} finally {
  // The ControlMaster, if still up, is stopped with `ssh -O exit` above; sshd by PID here.
  await sshd.stop();
}

const peer = rows.find((r) => r.name.includes('over ControlMaster'))!;
const lines = [
  '# Transport: exec / put / get latency against a real sshd on 127.0.0.1',
  '',
  `Recorded ${new Date().toISOString()} on ${process.arch}, node ${process.version}. Load average at the end: ${execFileSync('cat', ['/proc/loadavg'], {encoding: 'utf8'}).split(' ').slice(0, 3).join(' ')} (2 shared cores: numbers are noisy).`,
  'Reproduce: `npm run bench -- transport`',
  '',
  '| what | median ms | min ms | runs | ratio to OpenSSH ControlMaster exec |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${median(r.times).toFixed(1)} | ${Math.min(...r.times).toFixed(1)} | ${r.times.length} | ${(median(r.times) / median(peer.times)).toFixed(2)}× |`),
  '',
  'berth runs every command through its wrapper (`sh -c` + `setsid`, for env on stdin and process-group timeouts);',
  'OpenSSH rows run the bare command. The ControlMaster row includes starting the `ssh` client process.',
];
mkdirSync('bench/results', {recursive: true});
writeFileSync('bench/results/transport.md', lines.join('\n') + '\n');
console.log(lines.join('\n'));
