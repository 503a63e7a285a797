// Shared helpers for bench/*.bench.mjs: run commands through hyperfine (installed from Debian when missing)
// and write the result table. Medians of many runs: this machine is noisy.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

export function ensureHyperfine() {
  if (spawnSync('sh', ['-c', 'command -v hyperfine']).status === 0) return;
  execFileSync('sh', ['-c', 'flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 hyperfine >&2'], {stdio: 'inherit'});
}

/**
 * Runs hyperfine over `commands` ({name, cmd}) side by side in one run; returns [{name, cmd, median, mean,
 * stddev, min, max, runs}] with times in milliseconds.
 */
export function hyperfine(commands, {runs = 30, warmup = 3, prepare} = {}) {
  ensureHyperfine();
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-bench-'));
  const out = path.join(dir, 'result.json');
  const args = ['--runs', String(runs), '--warmup', String(warmup), '--export-json', out, '--style', 'basic', '-N'];
  if (prepare) args.push('--prepare', prepare);
  for (const c of commands) args.push('-n', c.name, c.cmd);
  // -N (no shell) where the command is a plain argv; commands needing a shell wrap themselves in sh -c.
  execFileSync('hyperfine', args, {stdio: ['ignore', 'inherit', 'inherit']});
  const json = JSON.parse(readFileSync(out, 'utf8'));
  return json.results.map((r, i) => ({
    name: commands[i].name,
    cmd: commands[i].cmd,
    median: r.median * 1000,
    mean: r.mean * 1000,
    stddev: (r.stddev ?? 0) * 1000,
    min: r.min * 1000,
    max: r.max * 1000,
    runs: r.times.length,
  }));
}

/** Writes bench/results/NAME.md: a table of medians, each with its ratio to `baseline` (a row name). */
export function writeResult(name, {title, reproduce, rows, baseline, notes = []}) {
  const base = rows.find((r) => r.name === baseline);
  const lines = [
    `# ${title}`,
    '',
    `Recorded ${new Date().toISOString()} on ${process.arch}, node ${process.version}.`,
    `Reproduce: \`${reproduce}\``,
    '',
    `| what | median ms | mean ± sd ms | runs | ratio to ${baseline ?? '—'} |`,
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.median.toFixed(2)} | ${r.mean.toFixed(2)} ± ${r.stddev.toFixed(2)} | ${r.runs} | ${base ? (r.median / base.median).toFixed(2) + '×' : '—'} |`,
    ),
    '',
    ...notes,
  ];
  mkdirSync(path.join(process.cwd(), 'bench', 'results'), {recursive: true});
  writeFileSync(path.join(process.cwd(), 'bench', 'results', `${name}.md`), lines.join('\n') + '\n');
  console.log(lines.join('\n'));
}
