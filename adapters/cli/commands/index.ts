// Every subcommand of `syncline`, in the order `--help` lists them. A new command is a module in
// this folder exporting a CliCommand, and one line here.
import type { CliCommand } from '../command.js';
import { demoCommand } from './demo.js';
import { describeCommand } from './describe.js';
import { simulateCommand } from './simulate.js';
import { syncCommand } from './sync.js';
import { validateCommand } from './validate.js';
import { applyCommand } from './apply.js';
import { ingestCommand } from './ingest.js';
import { statusCommand } from './status.js';
import { planCommand } from './plan.js';
import { retryCommand } from './retry.js';
import { replayCommand } from './replay.js';
import { logCommand } from './log.js';
import { explainCommand } from './explain.js';
import { publishCommand } from './publish.js';

export const commands: readonly CliCommand[] = [
  demoCommand,
  simulateCommand,
  describeCommand,
  validateCommand,
  applyCommand,
  ingestCommand,
  planCommand,
  syncCommand,
  statusCommand,
  retryCommand,
  replayCommand,
  logCommand,
  explainCommand,
  publishCommand,
];
