// Times on the command line (`--since`, `--until`, `--at`): an ISO-8601 date or date-time, or an age
// such as `90m`, `2h`, `7d` meaning that long before now. Bad input is a usage error naming the flag.
import { InvalidArgumentError } from 'commander';

const UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a time at `now`; returns the instant as an ISO string. */
export const parseTime = (value: string, now: Date = new Date()): string => {
  const age = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (age)
    return new Date(now.getTime() - Number(age[1]) * (UNITS[age[2] as string] as number)).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw new InvalidArgumentError('must be an ISO-8601 time (2026-11-28T09:00:00Z) or an age (90m, 2h, 7d)');
};

/** For commander: `.option('--since <time>', '...', timeOption)`. */
export const timeOption = (value: string): string => parseTime(value);
