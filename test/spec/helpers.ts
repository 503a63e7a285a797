import {parseSpecText} from '../../src/spec/load.js';
import type {SpecEntry, SpecReport} from '../../src/spec/report.js';
import {validateSpec} from '../../src/spec/validate.js';

/** Strip the common indentation of a template literal, so specs can be written inline in tests. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

export function check(text: string, file = 'spec.yaml'): SpecReport {
  return validateSpec(parseSpecText(text, file));
}

/** The parts of an entry a test asserts: where, what, how bad. */
export function brief(entry: SpecEntry): {path: string; at: string; message: string; severity: string} {
  return {path: entry.path, at: `${entry.line}:${entry.col}`, message: entry.message, severity: entry.severity};
}

/** A small valid spec the error cases start from. */
export const validSpec = yaml`
  version: 1
  inventory:
    defaults:
      user: admin
    hosts:
      web-1:
        address: 10.0.0.1
        groups: [web]
      db-1:
        address: 10.0.0.2
        port: 2222
  groups:
    web:
      containers:
        app:
          image: /srv/images/app.tar
          ports: ["8080:80"]
          dependsOn: [cache]
        cache:
          image: docker.io/library/redis:7
  engine:
    storage: overlay2
  kernel:
    sysctls:
      net.ipv4.ip_forward: 1
    modules: [overlay]
  updates:
    strategy: window
    windows:
      - days: [sat]
        start: "02:00"
        length: 2h
        timeZone: Europe/Berlin
    maxUnavailable: 25%
  users:
    ops:
      uid: 1001
      sudo: true
`;
