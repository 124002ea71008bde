// Progress bars for long work, shown only when stdout is a terminal and --json is off, so pipes,
// files and machine output never see them.
import cliProgress from 'cli-progress';
import type { CliContext } from './command.js';

export type Progress = { readonly update: (done: number, total: number) => void; readonly stop: () => void };

const silent: Progress = { update: () => undefined, stop: () => undefined };

export const progressBar = (ctx: CliContext, label: string): Progress => {
  if (!ctx.io.interactive || ctx.options.json) return silent;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total}`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
};
