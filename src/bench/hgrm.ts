import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeHistogram } from './recorder.js';
import type { BenchReport } from './report-schema.js';

/**
 * `--hgrm DIR`: one percentile distribution file per operation (HdrHistogram's text format,
 * values in milliseconds), readable by the HdrHistogram plotter and other tools.
 */
export async function writeHgrmFiles(dir: string, report: BenchReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const all: [string, string][] = [...Object.entries(report.operations).map(([op, s]) => [op, s.histogram] as [string, string]), ['schedule_lag', report.schedule.lag.histogram]];
  for (const [name, encoded] of all) {
    const h = decodeHistogram(encoded);
    if (h.totalCount === 0) continue;
    const path = join(dir, `${name}.hgrm`);
    await writeFile(path, h.outputPercentileDistribution(5, 1000));
    written.push(path);
  }
  return written;
}
