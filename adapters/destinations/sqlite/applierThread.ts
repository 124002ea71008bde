// The worker thread SQLite destinations apply commands on, shared by every destination of the process,
// so that writing one batch does not block the thread deciding and recording the next.
import { getPriority, setPriority } from 'node:os';
import { serve } from '../../thread.js';
import { answerApply, type ApplyRequest, type ApplyResponse } from './applier.js';

/**
 * The thread deciding and recording a sync is its critical path: it has work for a core all the time,
 * and every millisecond it waits for one is a millisecond of the run. On two cores it shares them
 * with this writer, the reader and V8's collectors, so the writer yields first: at niceness 10 a
 * first sync of 100k takes 3–4% less time (median of 16 in alternating processes), and a sync of 1%
 * changes, whose end waits for the writer, no longer. The reader is left as it is: its lookups are
 * waited for, and niced too it makes that sync 10% slower. Only on Linux, where a
 * thread's niceness is its own; elsewhere it would be the whole process's. Never lowered below where
 * it stands: only a privileged user could.
 */
const WRITER_NICENESS = 10;
if (process.platform === 'linux') {
  try {
    if (getPriority() < WRITER_NICENESS) setPriority(WRITER_NICENESS);
  } catch {
    // Not allowed here (a sandbox): the writer runs as any thread does.
  }
}

serve<ApplyRequest, ApplyResponse>('the SQLite destination applier', answerApply);
