#!/usr/bin/env node
// bench/apply.bench.mjs — berth apply vs Ansible reaching the same end state on the same container hosts.
//   1. fresh bootstrap of 1 host, and of 10 hosts (hosts reset to "never provisioned" before every run);
//   2. no-op re-apply of 10 hosts (target: ≤ 3 s total; berth does one round trip per host);
//   3. the same with an equivalent Ansible playbook (Debian's ansible, installed with apt when missing):
//      the playbook copies exactly the files `berth render` produces (plus the berth-engine binary and its
//      symlink), reloads systemd, enables and starts the same units. Target: berth ≤ 0.5× Ansible.
// Both run from the built CLI (dist/), 10 hosts at a time (berth --concurrency 10, ansible forks=10),
// over OpenSSH-compatible transports with the same keys and strict host key checking.
import {execFileSync, spawnSync} from 'node:child_process';
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {register} from 'tsx/esm/api';
import {hyperfine, writeResult} from './lib.mjs';

register();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const {startFleet} = await import('../src/testfleet/index.ts');
const {stringify} = await import('yaml');

const runs = Number(process.env.BENCH_RUNS ?? 3);
// BENCH_APPLY=noop: only the no-op re-apply of 10 hosts (after one untimed apply) beside its floor, without
// Ansible (whose no-op alone takes about 10 minutes here); written to bench/results/apply-noop.md.
const noopOnly = process.env.BENCH_APPLY === 'noop';
const sh = (cmd) => execFileSync('sh', ['-c', cmd], {stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8'});

if (!noopOnly && spawnSync('sh', ['-c', 'command -v ansible-playbook']).status !== 0) {
  sh('flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 ansible >&2');
}
console.error('bench: building dist/ and berth-engine');
sh(`cd ${root} && npx tsc -p tsconfig.build.json >&2`);
if (spawnSync('test', ['-x', path.join(root, 'native/build/berth-engine')]).status !== 0) {
  sh(`cd ${root} && node scripts/build-native.mjs >&2`);
}

const work = mkdtempSync(path.join(tmpdir(), 'berth-bench-apply-'));
// berth's stderr and transcripts of every run, kept when the bench fails (a failed run must be explainable).
const logs = mkdtempSync(path.join(tmpdir(), 'berth-bench-apply-logs-'));
let failed = true;
const engine = path.join(work, 'berth-engine');
copyFileSync(path.join(root, 'native/build/berth-engine'), engine);
const fleet = await startFleet({containers: 10, aptRepo: false});
try {
  // ---- the spec, and what berth renders for it
  const hosts = Object.fromEntries(
    fleet.hosts.map((h) => [h.name, {address: h.address, port: h.port, user: h.admin.user, identityFile: h.admin.identityFile, become: 'sudo'}]),
  );
  const unit = (d) => ({content: `[Unit]\nDescription=${d}\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n`});
  const spec = path.join(work, 'spec.yaml');
  writeFileSync(
    spec,
    stringify({
      version: 1,
      inventory: {hosts},
      units: {'web.service': unit('web'), 'worker.service': unit('worker')},
      dropins: {'web.service': {'10-env.conf': '[Service]\nEnvironment=MODE=bench\n'}},
      files: {'/etc/web/web.conf': {content: 'port=80\n'}, '/etc/web/extra.conf': {content: 'x=1\n', mode: '0600'}},
      kernel: {sysctls: {'vm.swappiness': 10}},
      journald: {systemMaxUse: '64M'},
    }),
  );
  const berth = `BERTH_ENGINE_BINARY=${engine} BERTH_LOG_DIR=${logs}/transcripts node ${root}/dist/cli/main.js apply ${spec} --known-hosts ${fleet.knownHostsFile} --yes --concurrency 10`;
  sh(`node ${root}/dist/cli/main.js render ${spec} --host c1 --out ${work}/render >&2`);
  const manifest = JSON.parse(readFileSync(`${work}/render/c1/manifest.json`, 'utf8'));
  const files = manifest.files.filter((f) => !f.when || f.when.osFamily === 'debian');
  // The engine's directory name on a host, as berth makes it (src/host/engine.ts): <version>-<sha256[0:12]>.
  // Ansible must install it there too, or the two tools' end states differ in the engine link.
  const version = `${execFileSync(engine, ['version'], {encoding: 'utf8'}).match(/\d+\.\d+\.\d+[^\s]*/)[0]}-${execFileSync('sha256sum', [engine], {encoding: 'utf8'}).slice(0, 12)}`;

  // ---- the equivalent Ansible playbook
  const units = ['berth-storage.service', 'web.service', 'worker.service'];
  const playbook = [
    {
      hosts: 'all',
      become: true,
      gather_facts: false,
      tasks: [
        ...[...new Set(files.map((f) => path.dirname(f.path)))].map((d) => ({name: `dir ${d}`, file: {path: d, state: 'directory', mode: '0755'}})),
        {name: 'engine dir', file: {path: `/usr/local/lib/berth/engine/${version}`, state: 'directory', mode: '0755'}},
        {name: 'engine', copy: {src: engine, dest: `/usr/local/lib/berth/engine/${version}/berth-engine`, mode: '0755'}},
        {name: 'engine link', file: {src: `/usr/local/lib/berth/engine/${version}/berth-engine`, dest: '/usr/local/bin/berth-engine', state: 'link'}},
        ...files.map((f) => ({
          name: `file ${f.path}`,
          copy: {src: `${work}/render/c1/files${f.path}`, dest: f.path, mode: f.mode, owner: f.owner, group: f.group},
          notify: f.path.startsWith('/etc/sysctl.d/') ? ['sysctl'] : f.affects.length ? f.affects.map((u) => `restart ${u}`) : [],
        })),
        {name: 'daemon-reload', systemd: {daemon_reload: true}},
        ...units.map((u) => ({name: `unit ${u}`, systemd: {name: u, enabled: true, state: 'started'}})),
      ],
      handlers: [
        {name: 'sysctl', command: 'sysctl --system', failed_when: false},
        ...units.map((u) => ({name: `restart ${u}`, systemd: {name: u, state: 'restarted'}})),
      ],
    },
  ];
  writeFileSync(path.join(work, 'site.yml'), stringify(playbook));
  const inventory = fleet.hosts
    .map((h) => `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=${h.admin.user} ansible_ssh_private_key_file=${h.admin.identityFile}`)
    .join('\n');
  writeFileSync(path.join(work, 'hosts.ini'), `[all]\n${inventory}\n`);
  writeFileSync(
    path.join(work, 'ansible.cfg'),
    [
      '[defaults]',
      'forks = 10',
      'host_key_checking = True',
      'interpreter_python = auto_silent',
      'stdout_callback = dense',
      '[ssh_connection]',
      'pipelining = True',
      `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${fleet.knownHostsFile} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
      '',
    ].join('\n'),
  );
  const ansible = (limit) =>
    `ANSIBLE_CONFIG=${work}/ansible.cfg ansible-playbook -i ${work}/hosts.ini ${limit ? `--limit ${limit} ` : ''}${work}/site.yml`;

  // ---- back to "never provisioned": the same cleanup after either tool
  const reset = [
    'systemctl disable --now web.service worker.service berth-storage.service >/dev/null 2>&1',
    `rm -f ${files.map((f) => f.path).join(' ')}`,
    'rm -rf /var/lib/berth /usr/local/lib/berth /usr/local/bin/berth-engine /etc/systemd/system/web.service.d /var/lib/berth-engine',
    'systemctl daemon-reload',
  ].join('\n');
  writeFileSync(path.join(work, 'reset.sh'), reset + '\n');
  const all = fleet.hosts.map((h) => h.name);
  const resetHosts = (names) =>
    `sh -c '${names.map((n) => `ssh -F ${fleet.sshConfigFile} ${n} "sudo sh -s" < ${work}/reset.sh &`).join(' ')} wait'`;

  // Ansible needs python3 on managed hosts; the Debian 12 host image has none and no apt source. Fetch the
  // missing packages on this machine from its Debian mirror (apt-get download) and install them on every
  // host with dpkg, once, untimed.
  // The floor of a no-op: what any tool pays to reach 10 hosts as root once (OpenSSH: 10 logins + sudo -n true).
  const floor = {
    name: 'floor: 10 × (ssh login + sudo -n true), OpenSSH',
    cmd: `sh -c '${all.map((n) => `ssh -F ${fleet.sshConfigFile} ${n} sudo -n true &`).join(' ')} wait'`,
  };
  if (noopOnly) {
    sh(`${berth} >/dev/null`);
    const rows = hyperfine([{name: 'berth no-op 10 hosts', cmd: `sh -c "${berth} >/dev/null 2>>${logs}/stderr.log"`}, floor], {runs: Math.max(runs, 10), warmup: 1});
    const verdict = JSON.parse(sh(`${berth} --json 2>/dev/null || true`));
    const unchanged = verdict.hosts.filter((h) => h.result?.status === 'unchanged').length;
    writeResult('apply-noop', {
      title: 'berth apply: no-op re-apply of 10 container hosts, beside the floor of reaching them',
      reproduce: 'BENCH_APPLY=noop npm run bench -- apply',
      rows,
      baseline: floor.name,
      notes: [
        `No-op check after the runs: ${unchanged}/10 hosts reported \`unchanged\`.`,
        `No-op target ≤ 3 s for 10 hosts: ${(rows[0].median / 1000).toFixed(2)} s (${rows[0].median <= 3000 ? 'met' : 'not met'}).`,
        `Machine load during the run (uptime): ${sh('uptime').trim()}. The 10 hosts and the client share ${sh('nproc').trim()} cores.`,
        'Same spec and hosts as bench/results/apply.md. The floor runs 10 OpenSSH clients at once, each logging in and running sudo once: what one round trip as root per host costs before any work.',
      ],
    });
    failed = false;
  }
  if (!noopOnly) {
    const pyDir = path.join(work, 'python-debs');
    mkdirSync(pyDir);
    const installed = new Set(sh(`ssh -F ${fleet.sshConfigFile} c1 "dpkg-query -W -f '\\\${Package}\\n'"`).split('\n').map((l) => l.replace(/:.*/, '')));
    const closure = sh('apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances python3')
      .split('\n')
      .filter((l) => l && !l.startsWith(' ') && !l.startsWith('<'))
      .map((l) => l.replace(/:.*/, ''));
    const wanted = [...new Set([...closure.filter((p) => !installed.has(p)), 'perl-base'])];
    sh(`cd ${pyDir} && apt-get download ${wanted.join(' ')} >&2`);
    sh(
      `sh -c '${all.map((n) => `(cd ${pyDir} && tar -cf - *.deb | ssh -F ${fleet.sshConfigFile} ${n} "mkdir -p /tmp/py && tar -xf - -C /tmp/py && (sudo dpkg -i /tmp/py/*.deb || sudo dpkg -i /tmp/py/*.deb) >/dev/null 2>&1; rm -rf /tmp/py") &`).join(' ')} wait'`,
    );
    const pyOk = all.every((n) => spawnSync('sh', ['-c', `ssh -F ${fleet.sshConfigFile} ${n} 'python3 -c "import json"'`]).status === 0);

    const rows = [];
    const notes = [];
    const pair = (a, b) => `${a.name}: ${(a.median / 1000).toFixed(2)} s vs ${b.name}: ${(b.median / 1000).toFixed(2)} s → ${(a.median / b.median).toFixed(2)}×`;
    const group = (cmds, opts) => {
      const r = hyperfine(cmds, opts);
      rows.push(...r);
      return r;
    };
    const withAnsible = pyOk;
    if (!withAnsible) notes.push('Ansible could not run: installing python3 on the hosts failed (see the output above).');

    const fresh1 = group(
      [{name: 'berth fresh 1 host', cmd: `sh -c "${berth} --host c1 >/dev/null 2>>${logs}/stderr.log"`}, ...(withAnsible ? [{name: 'ansible fresh 1 host', cmd: `sh -c "${ansible('c1')} >/dev/null 2>&1"`}] : [])],
      {runs, warmup: 0, prepare: resetHosts(['c1'])},
    );
    const fresh10 = group(
      [{name: 'berth fresh 10 hosts', cmd: `sh -c "${berth} >/dev/null 2>>${logs}/stderr.log"`}, ...(withAnsible ? [{name: 'ansible fresh 10 hosts', cmd: `sh -c "${ansible()} >/dev/null 2>&1"`}] : [])],
      {runs, warmup: 0, prepare: resetHosts(all)},
    );
    const noop10 = group(
      [{name: 'berth no-op 10 hosts', cmd: `sh -c "${berth} >/dev/null 2>>${logs}/stderr.log"`}, ...(withAnsible ? [{name: 'ansible no-op 10 hosts', cmd: `sh -c "${ansible()} >/dev/null 2>&1"`}] : []), floor],
      {runs: Math.max(runs, 5), warmup: 1},
    );
    // The no-op must really be one: check berth's own verdict once more.
    const verdict = JSON.parse(sh(`${berth} --json 2>/dev/null || true`));
    const unchanged = verdict.hosts.filter((h) => h.result?.status === 'unchanged').length;
    notes.push(`No-op check after the runs: ${unchanged}/10 hosts reported \`unchanged\`.`);
    if (withAnsible) {
      notes.push('Ratios (berth / Ansible, medians; target ≤ 0.5×):');
      notes.push(`- ${pair(fresh1[0], fresh1[1])}`);
      notes.push(`- ${pair(fresh10[0], fresh10[1])}`);
      notes.push(`- ${pair(noop10[0], noop10[1])}`);
    }
    notes.push(`No-op target ≤ 3 s for 10 hosts: ${(noop10[0].median / 1000).toFixed(2)} s (${noop10[0].median <= 3000 ? 'met' : 'not met'}).`);
    notes.push(`Machine load during the run (uptime): ${sh('uptime').trim()}. The machine has ${sh('nproc').trim()} cores shared with other work; absolute times are noisy, ratios less so.`);
    notes.push('Each berth run is a full CLI process (node dist/cli/main.js): spec load/validate, render, engine hash, SSH connect, probe (one round trip), and for changes one helper round trip.');
    writeResult('apply', {
      title: 'berth apply vs Ansible: fresh bootstrap and no-op re-apply on container hosts',
      reproduce: 'npm run bench -- apply',
      rows,
      baseline: withAnsible ? 'ansible fresh 10 hosts' : 'berth fresh 10 hosts',
      notes,
    });
    failed = false;
  }
} finally {
  await fleet.stop();
  rmSync(work, {recursive: true, force: true});
  if (failed) {
    console.error(`bench: failed; berth's stderr (last 80 lines) — all of it and the transcripts are in ${logs}`);
    spawnSync('tail', ['-n', '80', path.join(logs, 'stderr.log')], {stdio: 'inherit'});
  } else {
    rmSync(logs, {recursive: true, force: true});
  }
}
