/**
 * The default secret prompt: asks on the controlling terminal (/dev/tty) with echo off, like ssh and sudo do,
 * so it works even when stdin/stdout are redirected. The TUI passes its own PromptSecret instead.
 */
import {openSync, closeSync} from 'node:fs';
import {ReadStream, WriteStream} from 'node:tty';
import {UserError} from '../errors.js';
import type {PromptSecret, SecretRequest} from './types.js';

function openTty(): {input: ReadStream; output: WriteStream; close: () => void} | undefined {
  let inFd: number;
  let outFd: number;
  try {
    inFd = openSync('/dev/tty', 'r');
  } catch {
    return undefined;
  }
  try {
    outFd = openSync('/dev/tty', 'w');
  } catch {
    closeSync(inFd);
    return undefined;
  }
  const input = new ReadStream(inFd);
  const output = new WriteStream(outFd);
  return {
    input,
    output,
    close: () => {
      input.destroy();
      output.destroy();
    },
  };
}

function noTerminal(request: SecretRequest): UserError {
  return request.kind === 'passphrase'
    ? new UserError(
        `unlock key ${request.subject} for ${request.host}: it is encrypted and there is no terminal to ask for its passphrase`,
        `load it into ssh-agent first: ssh-add ${request.subject}`,
      )
    : new UserError(
        `become root on ${request.host}: sudo wants the password of ${request.subject} and there is no terminal to ask for it`,
        'run berth from a terminal, or allow passwordless sudo for this user',
      );
}

/** Read one line from the terminal without echoing it. */
export const ttyPromptSecret: PromptSecret = (request) =>
  new Promise((resolve, reject) => {
    const tty = openTty();
    if (!tty) {
      reject(noTerminal(request));
      return;
    }
    const {input, output} = tty;
    let answer = '';
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.removeListener('data', onData);
      output.write('\n');
      tty.close();
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new UserError(`${request.kind} prompt for ${request.host}: cancelled`));
        if (ch === '\u0004' && answer === '') return finish(noTerminal(request));
        if (ch === '\u007f' || ch === '\b') answer = [...answer].slice(0, -1).join('');
        else if (ch === '\u0015') answer = '';
        else answer += ch;
      }
    };
    input.setRawMode(true);
    output.write(request.message);
    input.on('data', onData);
  });

/** Ask a yes/no question on the terminal (for `berth trust` without --yes). */
export function ttyConfirm(question: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const tty = openTty();
    if (!tty) {
      reject(new UserError('confirm on a terminal: there is no terminal', 'pass --yes after checking the fingerprint'));
      return;
    }
    tty.output.write(question);
    let line = '';
    tty.input.on('data', (chunk: Buffer) => {
      line += chunk.toString('utf8');
      const nl = line.indexOf('\n');
      if (nl < 0) return;
      tty.close();
      resolve(/^\s*y(es)?\s*$/i.test(line.slice(0, nl)));
    });
  });
}
