// Creates the winston logger of a long-running role (server, worker, agent).
import winston from 'winston';
import type { LogLevel } from '../config/settings.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Shown in every line, e.g. "server" or "worker w1". */
  readonly role: string;
  /** Log to this file instead of stderr (the agent, which has no terminal). */
  readonly file?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  const format = winston.format.combine(
    winston.format.timestamp(),
    winston.format.printf((info) => {
      const { timestamp, level, message, ...meta } = info;
      const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
      return `${String(timestamp)} ${options.role} ${level}: ${String(message)}${extra}`;
    }),
  );
  const transport =
    options.file !== undefined
      ? new winston.transports.File({ filename: options.file, maxsize: 10 * 1024 * 1024, maxFiles: 2 })
      : new winston.transports.Stream({ stream: process.stderr });
  return winston.createLogger({ level: options.level, format, transports: [transport] });
}
