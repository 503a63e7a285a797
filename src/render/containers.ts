/**
 * Container units: one `berth-container-NAME.service` per container, running berth-engine in the foreground.
 *
 * Why one full unit per container rather than a `berth-container@.service` template plus per-instance
 * drop-ins: the instance's settings (ExecStart, ordering, limits) would all live in the drop-in anyway, and
 * a change to the shared template would have to restart every container at once. With one self-contained
 * file per container a spec change touches exactly the units it concerns, `systemctl cat` shows everything,
 * and `systemd-analyze verify` checks each one as it will run.
 *
 * Health checks run from a companion timer (berth-health-NAME.timer → .service → templates/health-check.sh)
 * rather than ExecStartPost=: ExecStartPost runs once, while the unit starts, and would only gate startup;
 * a health check has to keep running for as long as the container does, and act when it fails.
 */
import {UserError} from '../errors.js';
import type {ResolvedContainer, ResolvedHost} from '../spec/types.js';
import {durationSeconds} from './calendar.js';
import {execLine} from './escape.js';
import {template} from './handlebars.js';
import {emptyPart, managedFile, paths, sortedKeys, type Part} from './part.js';
import {engineEnvironment, storageUnit} from './storage.js';

export const containerUnit = (name: string): string => `berth-container-${name}.service`;
const healthService = (name: string): string => `berth-health-${name}.service`;
const healthTimer = (name: string): string => `berth-health-${name}.timer`;
export const healthScript = `${paths.lib}/health-check`;

const healthDefaults = {interval: '30s', timeout: '10s', retries: 3};

/** Container names become unit names, engine names and image tags (the schema's containerName). */
const namePattern = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

function portFlag(port: ResolvedContainer['ports'][number]): string {
  const address = port.address === '' || port.address === '0.0.0.0' ? '' : port.address.includes(':') ? `[${port.address}]:` : `${port.address}:`;
  const protocol = port.protocol === 'udp' ? '/udp' : '';
  return `${address}${port.host}:${port.container}${protocol}`;
}

/** The tag an image archive is loaded under for one container. */
export function archiveTag(container: string): string {
  return `localhost/${container}:archive`;
}

/**
 * Where a container's environment goes: unit files are world-readable (`systemctl cat`, /etc/systemd), so
 * values (passwords, tokens) never go on ExecStart. The file is root's, mode 0600, and an input of the
 * container's unit (a change restarts it).
 */
export const envFile = (name: string): string => `${paths.etc}/containers/${name}.env`;

/**
 * The env file's text in docker's --env-file format, which berth-engine reads: one KEY=VALUE a line, the
 * value verbatim (no quotes, no expansion). A line holds no newline, so a value with one cannot be written
 * (validate refuses it at its spec location; this is the last guard).
 */
export function envFileContent(host: string, name: string, env: Record<string, string>): string {
  const lines = ['# Managed by berth: the environment of container ' + name + ' (berth-engine run --env-file).'];
  for (const key of sortedKeys(env)) {
    const value = env[key]!;
    if (/[\n\r\0]/.test(value)) {
      throw new UserError(
        `render container ${name} for host ${host}: env ${key} holds a newline, carriage return or NUL byte, which an env file (one KEY=VALUE a line) cannot carry`,
        `put the value on one line (e.g. base64-encode it) in containers.${name}.env.${key}`,
      );
    }
    lines.push(`${key}=${value}`);
  }
  return lines.join('\n') + '\n';
}

/** argv of `berth-engine run` for one container (issue 5's engine CLI). */
export function engineRunArgv(name: string, c: ResolvedContainer): string[] {
  const argv = [paths.engine, 'run', '--name', name, '--rm'];
  if (c.memory !== undefined) argv.push('--memory', c.memory);
  if (c.cpus !== undefined) argv.push('--cpus', String(c.cpus));
  if (c.pids !== undefined) argv.push('--pids', String(c.pids));
  if (c.user !== undefined) argv.push('--user', c.user);
  argv.push('--network', c.network);
  if (c.readOnly) argv.push('--read-only');
  if (Object.keys(c.env).length > 0) argv.push('--env-file', envFile(name));
  for (const v of c.volumes) argv.push('-v', `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
  for (const p of c.ports) argv.push('-p', portFlag(p));
  argv.push(c.image, ...c.command);
  return argv;
}

export function renderContainers(host: ResolvedHost): Part {
  const part = emptyPart();
  const names = sortedKeys(host.containers);
  if (names.length === 0) return part;
  let anyHealth = false;

  for (const name of names) {
    const c = host.containers[name]!;
    if (!namePattern.test(name)) {
      throw new UserError(
        `render container ${JSON.stringify(name)} for host ${host.name}: the name must be lower-case letters, digits, '_', '.' or '-' (at most 63, not starting with a symbol)`,
        'rename the container in the spec',
      );
    }
    if (c.image.startsWith('-')) {
      throw new UserError(
        `render container ${name} for host ${host.name}: image ${JSON.stringify(c.image)} starts with '-', which berth-engine would read as an option`,
        'give an image reference or an absolute path to an image archive',
      );
    }
    for (const dep of c.dependsOn) {
      if (!Object.hasOwn(host.containers, dep)) {
        throw new UserError(
          `render container ${name} for host ${host.name}: it depends on container ${dep}, which this host does not run`,
          `add ${dep} to the host's containers or remove it from containers.${name}.dependsOn`,
        );
      }
    }
    const unit = containerUnit(name);
    const deps = c.dependsOn.map(containerUnit);
    const execStartPre = [`-${execLine([paths.engine, 'rm', name])}`];
    // An archive is loaded first, under a tag of this container's (`image load --tag`; content-addressed, so
    // loading it again is cheap), and run by that tag; a reference is run as it is.
    const image = c.image.startsWith('/') ? archiveTag(name) : c.image;
    if (image !== c.image) execStartPre.push(execLine([paths.engine, 'image', 'load', '--tag', image, c.image]));
    const wants = ['network-online.target'];
    if (c.health) wants.push(healthTimer(name));

    part.files.push(
      managedFile({
        path: `${paths.units}/${unit}`,
        content: template('container.service')({
          name,
          image: c.image,
          requires: [storageUnit, ...deps],
          after: [storageUnit, 'network-online.target', ...deps],
          wants,
          engineEnv: engineEnvironment(host),
          execStartPre,
          execStart: engineRunArgv(name, {...c, image}),
          execStop: [paths.engine, 'stop', name],
          restart: c.restart,
          logRateLimitInterval: host.engine.logs.rateLimitInterval,
          logRateLimitBurst: String(host.engine.logs.rateLimitBurst),
          syslogIdentifier: name,
        }),
        affects: [unit],
      }),
    );
    if (Object.keys(c.env).length > 0) {
      part.files.push(
        managedFile({path: envFile(name), mode: '0600', content: envFileContent(host.name, name, c.env), affects: [unit]}),
      );
    }
    part.units.push(unit);
    part.actions.push({kind: 'enable-unit', unit, triggers: [`${paths.units}/${unit}`]});

    if (c.health) {
      anyHealth = true;
      const interval = c.health.interval ?? healthDefaults.interval;
      const timeout = Math.max(1, Math.ceil(durationSeconds(c.health.timeout ?? healthDefaults.timeout)));
      const retries = c.health.retries ?? healthDefaults.retries;
      const view = {name, containerUnit: unit, healthUnit: healthService(name), interval};
      part.files.push(
        managedFile({
          path: `${paths.units}/${healthService(name)}`,
          content: template('health.service')({
            ...view,
            engineEnv: engineEnvironment(host),
            execStart: [healthScript, name, String(retries), String(timeout), ...c.health.command],
            timeoutStart: `${timeout + 30}s`,
          }),
        }),
        managedFile({
          path: `${paths.units}/${healthTimer(name)}`,
          content: template('health.timer')(view),
          affects: [healthTimer(name)],
        }),
      );
      part.units.push(healthService(name), healthTimer(name));
    }
  }
  if (anyHealth) {
    part.files.push(managedFile({path: healthScript, mode: '0755', content: template('health-check.sh')({})}));
  }
  return part;
}
