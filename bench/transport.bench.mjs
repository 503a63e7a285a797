#!/usr/bin/env node
// Transport latency against a real sshd on 127.0.0.1, side by side with OpenSSH's own client:
// berth's exec on its one reused connection vs `ssh` per command (fresh connection) and `ssh` over a
// ControlMaster socket (OpenSSH's multiplexing: the closest peer), plus put/get. Runs the TypeScript through
// tsx (bench/transport-run.mts) because the test sshd helper is TypeScript.
import {spawnSync} from 'node:child_process';
const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/transport-run.mts'], {stdio: 'inherit'});
process.exit(r.status ?? 1);
