/**
 * `spell experiment reading`: the reading classes (reading.ts) of each arm's held-out samples,
 * joined with the synthetic eval file that says which documents hold the evidence, written as
 * OUT/reading.md and OUT/reading.json.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic.ts';
import { DataError } from '../core/errors.ts';
import { readEvalSet } from '../data/index.ts';
import { loadResults } from '../eval/store.ts';
import { classifyReading, READING_CLASSES, readingTable, type ReadingRow } from './reading.ts';

export interface ArmReading {
  readonly arm: string;
  readonly rows: readonly ReadingRow[];
}

/**
 * Classify every sample of OUT/eval-<arm>/samples.jsonl for each arm.
 * @throws DataError when an arm's samples are missing or name a question the eval file lacks
 */
export function armReadings(
  outDir: string,
  arms: readonly string[],
  evalFile: string,
): ArmReading[] {
  const questions = new Map(readEvalSet(evalFile).map((q) => [q.id, q]));
  return arms.map((arm) => {
    const file = join(outDir, `eval-${arm}`, 'samples.jsonl');
    const { records } = loadResults(file);
    if (records.size === 0) {
      throw new DataError(`${file}: no samples (run spell eval for arm "${arm}" first)`, { file });
    }
    const items = [...records.values()].map((r) => {
      const q = questions.get(r.id);
      if (q === undefined) {
        throw new DataError(`${file}: question ${r.id} is not in ${evalFile}`, { file });
      }
      return {
        task: r.task,
        pred: r.pred,
        cls: classifyReading(q, { pred: r.pred, correct: r.ruleAsDescribed >= 1 }),
      };
    });
    return { arm, rows: readingTable(items) };
  });
}

const pct = (x: number): string => (100 * x).toFixed(1);

/** Write OUT/reading.md and OUT/reading.json; returns the markdown. */
export function writeReadingTable(
  outDir: string,
  arms: readonly string[],
  evalFile: string,
): string {
  const readings = armReadings(outDir, arms, evalFile);
  const head = ['arm', 'task', 'samples', ...READING_CLASSES, 'commonest answer (share)'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const { arm, rows } of readings) {
    for (const r of rows) {
      const top = r.topAnswer ? `${r.topAnswer.answer} (${pct(r.topAnswer.share)})` : '-';
      const cells = [
        arm,
        r.task,
        String(r.samples),
        ...READING_CLASSES.map((c) => pct(r.shares[c])),
        top,
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  const md =
    '# What the responder reads\n\n' +
    'Share of held-out samples (percent) whose answer is right; a value found in an evidence ' +
    'document but wrong; a value found only in another document of the cluster (distractor); ' +
    'a value in no document (absent: a guess, or a wrongly computed docmath number); or none.\n\n' +
    `${lines.join('\n')}\n`;
  writeFileAtomic(join(outDir, 'reading.md'), md);
  writeFileAtomic(join(outDir, 'reading.json'), `${JSON.stringify(readings, null, 2)}\n`);
  return md;
}
