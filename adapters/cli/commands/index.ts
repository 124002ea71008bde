// Every subcommand of `syncline`, in the order `--help` lists them. A new command is a module in
// this folder exporting a CliCommand, and one line here.
import type { CliCommand } from '../command.js';
import { describeCommand } from './describe.js';
import { simulateCommand } from './simulate.js';
import { syncCommand } from './sync.js';
import { planCommand } from './plan.js';

export const commands: readonly CliCommand[] = [simulateCommand, describeCommand, planCommand, syncCommand];
