// Loaded ahead of the syncline executable by the bench (`node --import`): when the process exits, it
// writes its peak resident set size in bytes to the file BENCH_PEAK_RSS_FILE names, if any.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_PEAK_RSS_FILE;
if (file !== undefined && file !== '')
  process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
