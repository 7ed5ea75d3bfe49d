import { errorMessage } from '../errors.js';

/**
 * What the process opened, in the order it opened it, each with how to
 * close it. Closing unwinds in reverse: what opened last may use what came
 * before it, so it goes first. A closer that fails is logged and the rest
 * still run (the store is closed even when the admin server's close
 * failed). A start that fails part way closes what it had opened the same
 * way.
 */
export class Closers {
  private readonly stack: { what: string; close: () => unknown }[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly log: { error(fields: object, message: string): void }) {}

  /** `close` undoes what was just opened; `what` names it in a failure's log line. */
  push(what: string, close: () => unknown): void {
    this.stack.push({ what, close });
  }

  /** Closes everything pushed, last first; every caller gets the same promise. */
  closeAll(): Promise<void> {
    this.closing ??= this.unwind();
    return this.closing;
  }

  private async unwind(): Promise<void> {
    for (let entry = this.stack.pop(); entry; entry = this.stack.pop()) {
      try {
        await entry.close();
      } catch (error) {
        this.log.error(
          { err: error, resource: entry.what },
          `closing ${entry.what} failed (${errorMessage(error)}); closing the rest`,
        );
      }
    }
  }
}
