/**
 * Reads lines from a process's stdin. With a TTY it plays the terminal line discipline a real pty
 * provides (ICANON + ECHO + ICRNL/ONLCR): typed characters are echoed, Enter (CR) ends a line,
 * DEL/BS erase, ^C interrupts the line, ^D on an empty line is end of input. kubectl puts the
 * local terminal in raw mode, so all of this comes from the "remote" side.
 */
import type { Readable } from 'node:stream';

export const INTERRUPT = Symbol('interrupt');

export class LineReader {
  private readonly lines: (string | typeof INTERRUPT)[] = [];
  private partial = '';
  private ended = false;
  private waiter: (() => void) | undefined;
  private readonly decoder = new TextDecoder();

  constructor(
    stdin: Readable,
    private readonly tty: boolean,
    private readonly echo: (s: string) => void,
  ) {
    stdin.on('data', (chunk: Buffer | string) => this.feed(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true })));
    stdin.on('end', () => this.finish());
    stdin.on('close', () => this.finish());
    stdin.on('error', () => this.finish());
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private finish(): void {
    if (this.ended) return;
    if (this.partial && !this.tty) this.lines.push(this.partial);
    this.partial = '';
    this.ended = true;
    this.wake();
  }

  private feed(text: string): void {
    for (const ch of text) {
      if (!this.tty) {
        if (ch === '\n') {
          this.lines.push(this.partial.replace(/\r$/, ''));
          this.partial = '';
        } else this.partial += ch;
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        this.echo('\r\n');
        this.lines.push(this.partial);
        this.partial = '';
      } else if (ch === '\x7f' || ch === '\b') {
        if (this.partial) {
          this.partial = [...this.partial].slice(0, -1).join('');
          this.echo('\b \b');
        }
      } else if (ch === '\x03') {
        this.echo('^C\r\n');
        this.partial = '';
        this.lines.push(INTERRUPT);
      } else if (ch === '\x04') {
        if (!this.partial) this.finish();
      } else if (ch === '\x15') {
        this.echo('\b \b'.repeat([...this.partial].length));
        this.partial = '';
      } else if (ch >= ' ' || ch === '\t') {
        this.partial += ch;
        this.echo(ch);
      }
    }
    this.wake();
  }

  /** The next line (without its terminator), INTERRUPT for ^C, or null at end of input. */
  async next(signal?: AbortSignal): Promise<string | typeof INTERRUPT | null> {
    for (;;) {
      if (this.lines.length) return this.lines.shift() ?? null;
      if (this.ended || signal?.aborted) return null;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
}
