/**
 * Every default the spec implies, in one place: resolve fills them in, docs/spec.md and the schema's
 * `default` keywords show them (test/spec/schema.test.ts keeps the schema's defaults equal to these).
 */

export const defaults = {
  connection: {port: 22, user: 'root'},
  engine: {
    version: 'bundled',
    dataRoot: '/var/lib/berth-engine',
    storage: 'auto',
    logs: {rateLimitInterval: '30s', rateLimitBurst: 10000},
  },
  kernel: {version: 'latest', updates: 'security'},
  container: {restart: 'always', network: 'bridge', readOnly: false},
  port: {protocol: 'tcp', address: '0.0.0.0'},
  unit: {enable: true},
  file: {mode: '0644', owner: 'root', group: 'root'},
  updates: {strategy: 'off', maxUnavailable: 1, failureBudget: 0},
  window: {timeZone: 'UTC'},
  user: {shell: '/bin/bash', sudo: false},
  timesync: {enabled: true},
} as const;

/** berth keeps its generations here; spec files must not be written below it. */
export const reservedRoot = '/var/lib/berth';
