/**
 * Structured logs (pino) on standard error. Secrets never reach a log line: credential-bearing
 * fields are redacted by path here, and callers log identities, never tokens.
 */
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.ts';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'clientSecret',
  '*.clientSecret',
  'password',
  '*.password',
];

export function createLogger(cfg: Config['log'], name = 'sluice'): Logger {
  const level = process.env.SLUICE_LOG_LEVEL ?? cfg.level;
  const destination = pino.destination({ fd: 2, sync: false });
  if (cfg.format === 'pretty') {
    // A dependency-free compact formatter: "HH:MM:SS level name msg key=value".
    const write = (line: string): void => {
      const o = JSON.parse(line) as Record<string, unknown>;
      const { time, level: lv, msg, name: n, pid: _p, hostname: _h, ...rest } = o;
      const t = new Date(Number(time)).toISOString().slice(11, 19);
      const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      process.stderr.write(`${t} ${pino.levels.labels[Number(lv)] ?? lv} ${String(n)}: ${String(msg ?? '')}${extra.length ? ' ' + extra.join(' ') : ''}\n`);
    };
    return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, { write });
  }
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
