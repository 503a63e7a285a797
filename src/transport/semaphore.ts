/**
 * A counting semaphore: at most `limit` SSH channels open at once on one connection (OpenSSH's sshd
 * refuses more than MaxSessions, 10 by default, per connection).
 */
export class Semaphore {
  private waiting: (() => void)[] = [];
  private used = 0;

  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.used >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.used--;
    };
  }
}
