import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    // Personal data never reaches the logs through these common field names.
    redact: { paths: ['req.headers.authorization', '*.idCard', '*.phone', '*.password'], censor: '[masked]' },
  });
}
