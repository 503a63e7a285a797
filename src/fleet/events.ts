/**
 * Fleet events: what happens on each host during a run, as plain data. Reporters (the line reporter on
 * stderr, the JSON document, an ink dashboard later) consume the same stream and never reach into the
 * services; the services never format text for people.
 */
import {EventEmitter, on} from 'node:events';

export type FleetCommand = 'plan' | 'apply' | 'rollback' | 'status';

export interface HostFailure {
  message: string;
  step: string;
  nextStep?: string;
  stderr?: string;
  exitCode?: number | null;
}

export type FleetEvent =
  | {type: 'run-start'; command: FleetCommand; hosts: string[]; concurrency: number; logDir: string | null}
  | {type: 'host-start'; host: string}
  | {type: 'step'; host: string; step: string; detail?: string}
  | {type: 'warn'; host: string; step: string; message: string}
  | {type: 'host-done'; host: string; outcome: string; summary: string; ms: number}
  | {type: 'host-failed'; host: string; error: HostFailure; ms: number}
  | {type: 'host-skipped'; host: string; reason: string}
  | {type: 'run-done'; ok: number; failed: number; skipped: number; ms: number};

/** A typed emitter of FleetEvents; also an async iterable (for consumers that prefer `for await`). */
export class FleetEvents {
  private readonly emitter = new EventEmitter();
  private closed = false;

  emit(event: FleetEvent): void {
    if (this.closed) return;
    this.emitter.emit('event', event);
    if (event.type === 'run-done') {
      this.closed = true;
      this.emitter.emit('end');
    }
  }

  subscribe(listener: (event: FleetEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Every event from now until run-done (inclusive). */
  async *[Symbol.asyncIterator](): AsyncGenerator<FleetEvent> {
    const ac = new AbortController();
    this.emitter.once('end', () => setImmediate(() => ac.abort()));
    try {
      for await (const [event] of on(this.emitter, 'event', {signal: ac.signal})) {
        yield event as FleetEvent;
        if ((event as FleetEvent).type === 'run-done') return;
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }
}
