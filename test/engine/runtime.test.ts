/**
 * berth-engine's OCI runtime, on real containers from a busybox rootfs: isolation seen from inside (the escape
 * battery), limits, exit codes, exec, lifecycle and cleanup.
 */
import test from 'ava';
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {
  RuntimeScratch,
  busyboxRootfs,
  cgroupDirsOf,
  ensureEngine,
  hostWritableSysFile,
  parseProbe,
  removeRootfs,
  run,
  engine,
} from './runtime-fixture.js';

test.before(() => {
  ensureEngine();
  busyboxRootfs();
});
test.after.always(() => removeRootfs());

test('spec writes podman default caps (11, no NET_RAW), masked paths and a Docker-like seccomp profile', async (t) => {
  const s = new RuntimeScratch(t);
  const b = s.bundle(['true']);
  const c = JSON.parse(readFileSync(path.join(b, 'config.json'), 'utf8'));
  t.is(c.process.capabilities.bounding.length, 11);
  t.false(c.process.capabilities.bounding.includes('CAP_NET_RAW'));
  t.deepEqual(c.process.capabilities.effective, c.process.capabilities.bounding);
  t.true(c.process.noNewPrivileges);
  t.true(c.linux.maskedPaths.includes('/proc/kcore'));
  t.true(c.linux.readonlyPaths.includes('/proc/sys'));
  t.is(c.linux.seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  const clone3 = c.linux.seccomp.syscalls.find((r: {names: string[]}) => r.names.includes('clone3'));
  t.is(clone3.errnoRet, 38);
  const allowed = c.linux.seccomp.syscalls.filter((r: {action: string}) => r.action === 'SCMP_ACT_ALLOW').flatMap((r: {names: string[]}) => r.names);
  for (const denied of ['mount', 'umount2', 'unshare', 'setns', 'pivot_root', 'keyctl', 'add_key', 'bpf', 'perf_event_open', 'userfaultfd', 'kexec_load', 'init_module', 'finit_module', 'delete_module', 'reboot', 'open_by_handle_at']) {
    t.false(allowed.includes(denied), `${denied} must not be allowed`);
  }
  const again = await s.engine(['spec', '--bundle', b]);
  t.is(again.code, 1);
  t.regex(again.stderr, /config\.json.*remove it first/);
});

test('escape battery: every way out is denied from inside the default container', async (t) => {
  const s = new RuntimeScratch(t);
  const sysFile = hostWritableSysFile();
  const r = await s.runContainer(['/bin/escape-probe', String(process.pid), sysFile]);
  t.is(r.code, 0, r.stderr);
  const p = parseProbe(r.stdout);
  const eperm = ['mount', 'unshare-user', 'unshare-net', 'setns', 'reboot', 'init_module', 'finit_module', 'delete_module', 'raw_socket', 'mknod', 'keyctl', 'add_key', 'bpf', 'perf_event_open', 'userfaultfd', 'kexec_load', 'open_by_handle_at', 'pivot_root', 'umount2', 'clone_newns'];
  for (const k of eperm) t.is(p[k], 'EPERM', `${k} should be denied with EPERM`);
  t.is(p.clone3, 'ENOSYS', 'clone3 answers ENOSYS so libcs fall back to the filtered clone');
  t.is(p.ptrace_host_pid, 'ESRCH', 'host pids are invisible in the pid namespace');
  t.is(p.write_proc_sys, 'EROFS');
  t.is(p.write_sys, 'EROFS');
  t.is(p.fork, 'ok', 'control: ordinary syscalls still work');
});

test('masked paths read empty, /proc/sys and /sys are read-only, root is read-only', async (t) => {
  const s = new RuntimeScratch(t);
  const script = [
    'printf "keys=%s\\n" "$(wc -c < /proc/keys)"',
    'printf "timer_list=%s\\n" "$(wc -c < /proc/timer_list)"',
    'printf "firmware=%s\\n" "$(ls -A /sys/firmware | wc -l)"',
    'touch /probe 2>/dev/null && echo root=rw || echo root=ro',
    'echo 1 > /proc/sys/kernel/panic 2>/dev/null && echo procsys=rw || echo procsys=ro',
    'touch /dev/shm/x && echo shm=rw',
    'ls /dev | tr "\\n" " "',
  ].join('; ');
  const r = await s.runContainer(['sh', '-c', script]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /keys=0\n/);
  t.regex(r.stdout, /timer_list=0\n/);
  t.regex(r.stdout, /firmware=0\n/);
  t.regex(r.stdout, /root=ro/);
  t.regex(r.stdout, /procsys=ro/);
  t.regex(r.stdout, /shm=rw/);
  t.regex(r.stdout, /^fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero $/m);
});

test('process settings: hostname, env, cwd, uid/gid/additional gids, caps, no_new_privs, seccomp, rlimit, sysctl, oom_score_adj', async (t) => {
  const s = new RuntimeScratch(t);
  const script = 'hostname; echo "env=$GREETING"; pwd; id; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ulimit -n; cat /proc/sys/net/ipv4/ip_forward; cat /proc/self/oom_score_adj';
  const r = await s.runContainer(['sh', '-c', script], (c) => {
    c.hostname = 'box-1';
    c.process.env.push('GREETING=hi');
    c.process.cwd = '/tmp';
    c.process.user = {uid: 1000, gid: 1000, additionalGids: [5, 65534]};
    c.process['rlimits'] = [{type: 'RLIMIT_NOFILE', soft: 321, hard: 321}];
    c.process['oomScoreAdj'] = 500;
    c.linux['sysctl'] = {'net.ipv4.ip_forward': '1'};
  });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(lines[0], 'box-1');
  t.is(lines[1], 'env=hi');
  t.is(lines[2], '/tmp');
  t.is(lines[3], 'uid=1000 gid=1000 groups=5(tty),65534(nobody)');
  // A non-root process keeps no effective capabilities (no ambient set), as with runc and crun.
  t.regex(r.stdout, /CapEff:\t0000000000000000/);
  t.regex(r.stdout, /NoNewPrivs:\t1/);
  t.regex(r.stdout, /Seccomp:\t2/);
  t.is(lines.at(-3), '321');
  t.is(lines.at(-2), '1');
  t.is(lines.at(-1), '500');
});

test('root keeps exactly the 11 default capabilities', async (t) => {
  const s = new RuntimeScratch(t);
  const r = await s.runContainer(['sh', '-c', 'grep -E "^Cap(Eff|Bnd|Prm):" /proc/self/status']);
  t.is(r.code, 0, r.stderr);
  // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP
  for (const set of ['CapEff', 'CapBnd', 'CapPrm']) t.regex(r.stdout, new RegExp(`${set}:\\t00000000800405fb`));
});

test('exit codes pass through; a signal death gives 128+N', async (t) => {
  const s = new RuntimeScratch(t);
  t.is((await s.runContainer(['true'])).code, 0);
  t.is((await s.runContainer(['sh', '-c', 'exit 7'])).code, 7);
  // With --init the program is not PID 1, so it can die of its own signal: init exits 128+11.
  t.is((await s.runContainer(['sh', '-c', 'kill -SEGV $$'], undefined, ['--init'])).code, 139);
  const missing = await s.runContainer(['/bin/no-such-program']);
  t.not(missing.code, 0);
  t.regex(missing.stderr, /exec `\/bin\/no-such-program`: No such file or directory/);
});

test('kill from outside: run exits 128+9 and leaves nothing behind', async (t) => {
  const s = new RuntimeScratch(t);
  const b = s.bundle(['sleep', '1000']);
  const id = s.newId();
  const running = s.engine(['run', '--bundle', b, id]);
  let state = '';
  for (let i = 0; i < 300 && !state.includes('"running"'); i++) {
    state = (await s.engine(['state', id])).stdout;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.regex(state, /"status":"running"/);
  const cg = `berth-engine/${id}`;
  t.true(cgroupDirsOf(cg).length > 0, 'the cgroup exists while running');
  t.is((await s.engine(['kill', id, 'KILL'])).code, 0);
  const r = await running;
  t.is(r.code, 137);
  t.deepEqual(cgroupDirsOf(cg), [], 'run removed its cgroups');
  t.false(existsSync(path.join(s.root, id)), 'run removed its state');
});

test('cpu, cpuset and memory settings land in the cgroup at cgroupsPath, which delete removes', async (t) => {
  const s = new RuntimeScratch(t);
  const cgPath = `/berth-rt-test-${process.pid}/cpu-limits`;
  const files = ['cpu/cpu.shares', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpuset/cpuset.cpus', 'memory/memory.limit_in_bytes', 'memory/memory.soft_limit_in_bytes'];
  const v1 = existsSync('/sys/fs/cgroup/cpu/cpu.shares');
  const script = v1
    ? files.map((f) => `printf "${f}=%s\\n" "$(cat /sys/fs/cgroup/${f})"`).join('; ') + '; grep -qx 1 /sys/fs/cgroup/cpu/cgroup.procs && echo placed'
    : 'printf "cpu.weight=%s\\n" "$(cat /sys/fs/cgroup/cpu.weight)"; printf "cpu.max=%s\\n" "$(cat /sys/fs/cgroup/cpu.max)"; grep -qx 1 /sys/fs/cgroup/cgroup.procs && echo placed';
  const r = await s.runContainer(['sh', '-c', script], (c) => {
    c.linux['cgroupsPath'] = cgPath;
    c.linux.resources = {
      ...c.linux.resources,
      cpu: {shares: 512, quota: 50000, period: 100000, cpus: '0'},
      memory: {limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024},
    };
  });
  t.is(r.code, 0, r.stderr);
  if (v1) {
    t.regex(r.stdout, /cpu\/cpu.shares=512\n/);
    t.regex(r.stdout, /cpu\/cpu.cfs_quota_us=50000\n/);
    t.regex(r.stdout, /cpu\/cpu.cfs_period_us=100000\n/);
    t.regex(r.stdout, /cpuset\/cpuset.cpus=0\n/);
    t.regex(r.stdout, /memory\/memory.limit_in_bytes=67108864\n/);
    t.regex(r.stdout, /memory\/memory.soft_limit_in_bytes=33554432\n/);
  } else {
    t.regex(r.stdout, /cpu.weight=20\n/);
    t.regex(r.stdout, /cpu.max=50000 100000\n/);
  }
  t.regex(r.stdout, /placed/, 'the container init is in that cgroup');
  t.deepEqual(cgroupDirsOf(cgPath), [], 'removed with the container');
  for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified', '']) {
    await run('rmdir', [path.join('/sys/fs/cgroup', h, `berth-rt-test-${process.pid}`)]);
  }
});

test('create, state, start, exec, kill, delete: the OCI lifecycle', async (t) => {
  const s = new RuntimeScratch(t);
  const b = s.bundle(['sleep', '1000'], (c) => {
    c.hostname = 'life';
  });
  const id = s.newId();
  const pidFile = path.join(s.dir, 'pid');
  const created = await s.engine(['create', '--bundle', b, '--pid-file', pidFile, id]);
  t.is(created.code, 0, created.stderr);
  let st = JSON.parse((await s.engine(['state', id])).stdout);
  t.is(st.status, 'created');
  t.is(st.id, id);
  t.is(String(st.pid), readFileSync(pidFile, 'utf8'));
  t.is(st.bundle, b);
  t.is((await s.engine(['start', id])).code, 0);
  st = JSON.parse((await s.engine(['state', id])).stdout);
  t.is(st.status, 'running');
  t.is((await s.engine(['start', id])).code, 1, 'a running container cannot start again');

  // exec joins every namespace, the cgroup, and gets the same caps, no_new_privs and seccomp.
  const inside = await s.engine(['exec', id, 'sh', '-c', `hostname; ps -o pid,comm | tr -s " " | tr "\\n" ";"; echo; cat /proc/self/cgroup | grep memory; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; /bin/escape-probe ${process.pid} | grep -E "^(mount|unshare-net|clone3) "`]);
  t.is(inside.code, 0, inside.stderr);
  const lines = inside.stdout.trim().split('\n');
  t.is(lines[0], 'life');
  t.regex(lines[1]!, /^;?PID COMMAND; ?1 sleep;/, 'the container init is PID 1 in the same pid namespace');
  t.regex(inside.stdout, new RegExp(`memory:/\n|memory:/berth-engine/${id}\n`));
  t.regex(inside.stdout, /CapEff:\t00000000800405fb/);
  t.regex(inside.stdout, /NoNewPrivs:\t1/);
  t.regex(inside.stdout, /Seccomp:\t2/);
  t.regex(inside.stdout, /mount EPERM\nunshare-net EPERM\nclone3 ENOSYS/);
  t.is((await s.engine(['exec', id, 'sh', '-c', 'exit 3'])).code, 3);

  const refused = await s.engine(['delete', id]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /it is running; stop it first or use delete --force/);
  t.is((await s.engine(['kill', id, '9'])).code, 0);
  for (let i = 0; i < 100 && st.status !== 'stopped'; i++) {
    st = JSON.parse((await s.engine(['state', id])).stdout);
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(st.status, 'stopped');
  t.is((await s.engine(['delete', id])).code, 0);
  const gone = await s.engine(['state', id]);
  t.is(gone.code, 1);
  t.regex(gone.stderr, new RegExp(`container \`${id}\` does not exist`));
  t.deepEqual(cgroupDirsOf(`berth-engine/${id}`), []);
});

test('a killed runtime leaves state that delete --force cleans up', async (t) => {
  const s = new RuntimeScratch(t);
  const b = s.bundle(['sleep', '1000']);
  const id = s.newId();
  const runtime = s.engine(['run', '--bundle', b, id]);
  let st = {status: '', pid: 0};
  for (let i = 0; i < 300 && st.status !== 'running'; i++) {
    const r = await s.engine(['state', id]);
    if (r.code === 0) st = JSON.parse(r.stdout);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.is(st.status, 'running');
  // Kill the runtime (our `run` child), not the container: the container and its state stay behind.
  // `[r]un`: the pattern must not match the command line of the shell running pgrep itself.
  const ps = await run('sh', ['-c', `pgrep -f -- "--root ${s.root} [r]un --bundle"`]);
  const runtimePid = Number(ps.stdout.trim().split('\n')[0]);
  t.true(runtimePid > 0);
  process.kill(runtimePid, 'SIGKILL');
  await runtime;
  t.true(existsSync(`/proc/${st.pid}`), 'the container outlives its runtime');
  const d = await s.engine(['delete', '--force', id]);
  t.is(d.code, 0, d.stderr);
  t.false(existsSync(`/proc/${st.pid}/cmdline`) && readFileSync(`/proc/${st.pid}/cmdline`, 'utf8').startsWith('sleep'));
  t.false(existsSync(path.join(s.root, id)));
  t.deepEqual(cgroupDirsOf(`berth-engine/${id}`), []);
});

test('memory limit: the OOM killer stops a process at the limit (exit 137)', async (t) => {
  const s = new RuntimeScratch(t);
  const r = await s.runContainer(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], (c) => {
    c.linux.resources = {...c.linux.resources, memory: {limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024}};
  });
  t.is(r.code, 137, `dd should be OOM-killed; stderr: ${r.stderr}`);
  const control = await s.runContainer(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=4M', 'count=1'], (c) => {
    c.linux.resources = {...c.linux.resources, memory: {limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024}};
  });
  t.is(control.code, 0, `control: a small buffer fits; ${control.stderr}`);
});

test('pids limit: a fork bomb is stopped at pids.max', async (t) => {
  const s = new RuntimeScratch(t);
  // The bomb runs in a subshell (ash exits when fork fails); only shell builtins after it, as no fork is left.
  const script = '(i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done); read cur < /sys/fs/cgroup/pids/pids.current; read max < /sys/fs/cgroup/pids/pids.max; echo "current=$cur max=$max"';
  const r = await s.runContainer(['sh', '-c', script], (c) => {
    c.linux.resources = {...c.linux.resources, pids: {limit: 10}};
  });
  t.is(r.code, 0, r.stderr);
  const m = /current=(\d+) max=(\d+)/.exec(r.stdout);
  t.truthy(m, r.stdout);
  t.is(m![2], '10');
  t.true(Number(m![1]) <= 10);
  t.regex(r.stderr, /can't fork/);
});

test('user namespace with uid/gid maps: root inside is an unprivileged uid outside', async (t) => {
  const s = new RuntimeScratch(t);
  const r = await s.runContainer(['sh', '-c', `cat /proc/self/uid_map; id -u; /bin/escape-probe ${process.pid} | grep -E "^(mount|mknod|raw_socket) "`], (c) => {
    c.linux.namespaces.push({type: 'user'});
    c.linux['uidMappings'] = [{containerID: 0, hostID: 100000, size: 65536}];
    c.linux['gidMappings'] = [{containerID: 0, hostID: 100000, size: 65536}];
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^\s+0\s+100000\s+65536$/m);
  t.regex(r.stdout, /^0$/m);
  t.regex(r.stdout, /mount EPERM/);
});

test('joining existing namespaces by path', async (t) => {
  const s = new RuntimeScratch(t);
  const b = s.bundle(['sleep', '1000'], (c) => {
    c.hostname = 'first';
  });
  const first = s.newId();
  t.is((await s.engine(['run', '--detach', '--bundle', b, first])).code, 0);
  const st = JSON.parse((await s.engine(['state', first])).stdout);
  const r = await s.runContainer(['sh', '-c', 'hostname; readlink /proc/self/ns/net'], (c) => {
    delete c.hostname;
    c.linux.namespaces = c.linux.namespaces.map((n) =>
      n.type === 'network' || n.type === 'uts' ? {type: n.type, path: `/proc/${st.pid}/ns/${n.type === 'network' ? 'net' : 'uts'}`} : n,
    );
  });
  t.is(r.code, 0, r.stderr);
  const [hostname, netns] = r.stdout.trim().split('\n');
  t.is(hostname, 'first');
  const want = await run('readlink', [`/proc/${st.pid}/ns/net`]);
  t.is(netns, want.stdout.trim());
});

test('bind mounts with propagation reach the host directory', async (t) => {
  const s = new RuntimeScratch(t);
  const shared = mkdtempSync(path.join(s.dir, 'shared-'));
  writeFileSync(path.join(shared, 'in'), 'from host\n');
  const r = await s.runContainer(['sh', '-c', 'cat /data/in; echo from container > /data/out; grep " /data " /proc/self/mountinfo'], (c) => {
    c.mounts.push({destination: '/data', type: 'bind', source: shared, options: ['rbind', 'rw', 'rprivate', 'nosuid']});
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /from host/);
  t.is(readFileSync(path.join(shared, 'out'), 'utf8'), 'from container\n');
  t.regex(r.stdout, /nosuid/);
});

test('config fields berth-engine does not support are refused by name, never ignored', async (t) => {
  const s = new RuntimeScratch(t);
  const r1 = await s.runContainer(['true'], (c) => {
    c.linux['intelRdt'] = {closID: 'x'};
  });
  t.is(r1.code, 1);
  t.regex(r1.stderr, /config\.json: `linux\.intelRdt` is not supported by berth-engine; remove it from the config/);
  const r2 = await s.runContainer(['true'], (c) => {
    c.mounts.push({destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup']});
  });
  t.is(r2.code, 1);
  t.regex(r2.stderr, /`mounts\[\d+\]\.options`: option `tmpcopyup` is not supported/);
  const r3 = await s.runContainer(['true'], (c) => {
    c.process['selinuxLabel'] = 'system_u:system_r:container_t:s0';
  });
  t.regex(r3.stderr, /`process\.selinuxLabel` is not supported/);
});

test('seccomp BPF is compiled once per profile and cached under --root', async (t) => {
  const s = new RuntimeScratch(t);
  t.is((await s.runContainer(['true'])).code, 0);
  const cache = path.join(s.root, '.seccomp');
  const files = (await run('ls', [cache])).stdout.trim().split('\n');
  t.is(files.length, 1);
  t.regex(files[0]!, /^[0-9a-f]{16}\.bpf$/);
  const before = readFileSync(path.join(cache, files[0]!));
  t.is(before.length % 8, 0, 'a whole number of BPF instructions');
  t.is((await s.runContainer(['true'])).code, 0);
  t.deepEqual((await run('ls', [cache])).stdout.trim().split('\n'), files, 'same profile → same cache entry');
  // A different profile gets its own entry.
  t.is((await s.runContainer(['true'], (c) => c.linux.seccomp!.syscalls.push({names: ['acct'], action: 'SCMP_ACT_ERRNO', errnoRet: 1}))).code, 0);
  t.is((await run('ls', [cache])).stdout.trim().split('\n').length, 2);
});

test('list shows containers under --root', async (t) => {
  const s = new RuntimeScratch(t);
  const b = s.bundle(['sleep', '1000']);
  const id = s.newId();
  t.is((await s.engine(['create', '--bundle', b, id])).code, 0);
  const l = await s.engine(['list', '--quiet']);
  t.is(l.stdout.trim(), id);
  t.is((await run(engine, ['--root', s.root, 'delete', id])).code, 0, 'a created (not started) container can be deleted');
});
