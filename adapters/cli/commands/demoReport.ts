// What `syncline demo` prints around its runs: where its destinations are, what each ended up
// holding, and the --json document; the hints themselves are plain data in adapters/demo/scenario.ts.
import type { RunSummary } from '../../../engine/sync/summary.js';
import * as demo from '../../demo/scenario.js';
import { CONNECTION_VARIABLE, serverWords, type DemoServer } from '../../demo/servers.js';
import type { CliContext } from '../command.js';
import { plural, table } from '../output.js';
import { summaryJson } from '../syncReport.js';
import type { TableView } from './demoFiles.js';
import type { DemoStore } from './demoStore.js';

export type Runs = { readonly first: readonly RunSummary[]; readonly second: readonly RunSummary[] };

export const introLines = (
  ctx: CliContext,
  arg: string,
  p: demo.DemoPopulation,
  where: DemoStore,
  server: DemoServer | undefined,
): string[] => [
  `${ctx.colors.bold('syncline demo')} in ${arg}: ${demo.DEMO_PROFILES} generated profiles (people.jsonl, ` +
    `${p.events.length} events; groups: ${[...p.groups].map(([g, n]) => `${g} ${n}`).join(', ')}), ` +
    `a store (${where.shown}) and ${server === undefined ? 'three SQLite destinations' : serverWords(server).intro}:`,
  table(
    ctx,
    ['destination', 'mode', 'who', 'where'],
    server === undefined
      ? demo.destinationRows(p)
      : demo.destinationRows(p, server.destinations, serverWords(server).place),
  ),
];

export const outcomeLines = (ctx: CliContext, tables: readonly TableView[]): string[] =>
  tables.flatMap((t) => [
    '',
    `${ctx.colors.bold(t.destinationId)}: ${demo.WHY[t.destinationId] ?? ''}`,
    `${t.where}: ${plural(t.rows, 'row')}` +
      (t.tagged > 0 ? `, ${t.tagged} still tagged ${demo.UNMANAGED_TAG}` : '') +
      '; the records with the most lists:',
    table(ctx, t.head, t.sample),
  ]);

export const jsonDocument = (
  dir: string,
  p: demo.DemoPopulation,
  runs: Runs,
  tables: readonly TableView[],
) => ({
  dir,
  profiles: demo.DEMO_PROFILES,
  seeded: { contacts: p.contacts.length, tagged: p.tagged },
  runs: [
    { phase: 'first', destinations: runs.first.map(summaryJson) },
    { phase: 'after changes', destinations: runs.second.map(summaryJson) },
  ],
  tables: tables.map((t) => ({
    destinationId: t.destinationId,
    ...t.at,
    table: t.table,
    rows: t.rows,
    tagged: t.tagged,
  })),
});

/** When the config names the connection through a variable, the hints need it set. */
export const variableLines = (server: DemoServer | undefined): string[] =>
  server === undefined || server.password === ''
    ? []
    : [
        `The config names the connection as {"env": "${CONNECTION_VARIABLE}"}, so that the password is ` +
          `written nowhere: set ${CONNECTION_VARIABLE} to the URL you gave --destinations before the commands below.`,
      ];
