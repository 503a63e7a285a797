/**
 * Storage setup: berth-storage.service (oneshot, before every container) runs a script that prepares the
 * engine's storage, and /etc/berth/engine.json tells the engine which driver, data root and pool to use.
 *
 * devicemapper direct-lvm is destructive, so the script wipes a device only when the spec says
 * `wipe: true` for it; without that it works only on a device that already holds berth's volume group.
 * An existing thin pool is used as is, and `pool:` names one that berth never modifies.
 */
import {UserError} from '../errors.js';
import type {ResolvedHost} from '../spec/types.js';
import {template} from './handlebars.js';
import {emptyPart, jsonContent, managedFile, paths, sortedKeys, type Part} from './part.js';

export const storageUnit = 'berth-storage.service';
export const storageScript = `${paths.lib}/storage-setup`;
export const engineConfig = `${paths.etc}/engine.json`;
/**
 * The environment berth-engine reads its storage settings from (BERTH_ENGINE_DATA_ROOT,
 * BERTH_ENGINE_STORAGE_DRIVER; native/src/image/engine-run.c). Every unit that runs the engine sets it, so
 * `run`, `stop` and `exec` all find the same store. `auto` leaves the driver to the engine's preflight.
 */
export function engineEnvironment(host: ResolvedHost): {name: string; value: string}[] {
  const env = [{name: 'BERTH_ENGINE_DATA_ROOT', value: host.engine.dataRoot}];
  if (host.engine.storage !== 'auto') env.push({name: 'BERTH_ENGINE_STORAGE_DRIVER', value: host.engine.storage});
  return env;
}

export const thinPoolProfile = '/etc/lvm/profile/berth-thinpool.profile';
/** The volume group and thin pool berth creates on a device it was allowed to wipe. */
export const berthVg = 'berth';
export const berthThinPool = 'thinpool';

const thinPoolDefaults = {size: '95%VG', autoextend: {threshold: 80, percent: 20}};

export function renderStorage(host: ResolvedHost): Part {
  const part = emptyPart();
  const {storage: driver, dataRoot, version} = host.engine;
  const dm = host.engine.devicemapper ?? {};
  const directLvm = driver === 'devicemapper' && dm.device !== undefined;
  const existingPool = driver === 'devicemapper' && dm.device === undefined ? dm.pool : undefined;
  if (driver === 'devicemapper' && !directLvm && existingPool === undefined) {
    throw new UserError(
      `render storage for host ${host.name}: devicemapper needs engine.devicemapper.device (a block device berth may set up) or engine.devicemapper.pool (an existing thin pool)`,
      'set one of them in the spec',
    );
  }
  const pool = directLvm ? `${berthVg}/${berthThinPool}` : existingPool;
  const thinPoolSize = dm.thinPoolSize ?? thinPoolDefaults.size;
  const autoextend = dm.autoextend ?? thinPoolDefaults.autoextend;

  // Everything that runs on the engine's storage restarts when its settings change.
  const containerUnits = sortedKeys(host.containers).map((n) => `berth-container-${n}.service`);
  const config: Record<string, unknown> = {version, driver, dataRoot};
  if (pool !== undefined) config.pool = pool;
  config.logs = {rateLimitInterval: host.engine.logs.rateLimitInterval, rateLimitBurst: host.engine.logs.rateLimitBurst};
  part.files.push(
    managedFile({path: engineConfig, content: jsonContent(config), affects: [storageUnit, ...containerUnits]}),
    managedFile({
      path: storageScript,
      mode: '0755',
      content: template('storage-setup.sh')({
        driver,
        dataRoot,
        overlay2: driver === 'overlay2',
        vfs: driver === 'vfs',
        auto: driver === 'auto',
        directLvm,
        existingPool: existingPool !== undefined,
        pool: pool ?? '',
        device: dm.device ?? '',
        wipe: dm.wipe === true,
        vg: berthVg,
        lv: berthThinPool,
        thinPoolSize,
        // lvcreate: -l takes extents or a percentage (95%VG), -L a size (10G).
        sizeFlag: thinPoolSize.includes('%') ? '-l' : '-L',
      }),
      affects: [storageUnit],
    }),
    managedFile({
      path: `${paths.units}/${storageUnit}`,
      content: template('storage.service')({
        driver,
        dataRoot,
        lvm: driver === 'devicemapper',
        execStart: [storageScript],
      }),
      affects: [storageUnit],
    }),
  );
  const triggers = [engineConfig, storageScript, `${paths.units}/${storageUnit}`];
  if (directLvm) {
    part.files.push(managedFile({path: thinPoolProfile, content: template('lvm-thinpool.profile')(autoextend), affects: [storageUnit]}));
    triggers.push(thinPoolProfile);
  }
  part.units.push(storageUnit);
  part.actions.push(
    {kind: 'storage-setup', driver, unit: storageUnit, triggers: triggers.sort()},
    {kind: 'enable-unit', unit: storageUnit, triggers: [`${paths.units}/${storageUnit}`]},
  );
  return part;
}
