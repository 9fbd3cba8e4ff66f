// A folder of plain documents as self-play material, through the real launcher: `spell data
// stats` reads it, bad files stop it with one line, and `spell train` plays one step on it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FAST, spell as spellAsync } from '../train/helpers.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'spell-text-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spell(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'spell.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small library: two topic folders of short articles and one loose long-ish file. */
function library(): string {
  const docs = join(dir, 'library');
  const write = (rel: string, text: string): void => {
    mkdirSync(join(docs, rel, '..'), { recursive: true });
    writeFileSync(join(docs, rel), text);
  };
  write(
    'rivers/danube.md',
    '# Danube\n\nThe Danube flows through Vienna and Budapest.\n\nIt ends in the Black Sea.\n',
  );
  write('rivers/rhine.txt', 'The Rhine rises in the Swiss Alps and reaches the North Sea.\n');
  write('birds/crow.txt', 'Crows live in large family groups and remember faces.\n');
  write('birds/owl.md', 'Most owls hunt at night; the barn owl finds mice by sound alone.\n');
  write(
    'handbook.md',
    Array.from(
      { length: 12 },
      (_, i) => `## Rule ${i + 1}\n\nRule ${i + 1} says every member brings ${i + 2} chairs.`,
    ).join('\n\n'),
  );
  return docs;
}

describe('text folders through the CLI', () => {
  const docs = library();

  test('spell data stats reads a text folder and routes it to qa and mc', () => {
    const r = spell(
      'data',
      'stats',
      docs,
      '--json',
      '--text-document-chars',
      '150',
      '--text-cluster-chars',
      '300',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.stdout);
    // birds, rivers, and the handbook cut into 6 documents of two rules, 3 clusters of two
    expect(stats.clusters).toBe(5);
    expect(stats.documentsPerCluster).toMatchObject({ min: 2, max: 2 });
    expect(stats.byTask.docmath).toBe(0);
    expect(stats.byTask.qa + stats.byTask.mc).toBe(stats.clusters);
    expect(stats.unrouted).toBe(0);
    expect(stats.problems).toEqual([]);
    const human = spell('data', 'stats', docs);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/clusters\s+3/);
  }, 240_000);

  test('a file that is not UTF-8 stops stats with one line naming it; --skip-bad counts it', () => {
    const bad = join(dir, 'bad-docs');
    mkdirSync(bad);
    writeFileSync(join(bad, 'good.txt'), 'Fine text.');
    writeFileSync(join(bad, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    const strict = spell('data', 'stats', bad);
    expect(strict.code).toBe(2);
    expect(strict.stderr.trim().split('\n')).toEqual([
      `spell: DataError: ${join(bad, 'latin1.txt')}: not UTF-8 text: byte 0xE9, not valid UTF-8 at line 1 (byte offset 3)`,
    ]);
    const lenient = spell('data', 'stats', bad, '--skip-bad');
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/not_text\s+1/);
  }, 240_000);

  test('a folder mixing JSONL and text is refused with exit code 2', () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'a.jsonl'), '{"id":"a","documents":["x"]}\n');
    writeFileSync(join(mixed, 'notes.txt'), 'n');
    const r = spell('data', 'stats', mixed);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mixes corpus files (a.jsonl) and text documents (notes.txt)');
  }, 120_000);

  test('spell train plays one step on the bundled model over the text folder', async () => {
    const run = join(dir, 'run');
    const { stderr } = await spellAsync([
      'train',
      '--steps',
      '1',
      '--run-dir',
      run,
      '--no-progress',
      `data.paths=${JSON.stringify([docs])}`,
      ...FAST,
    ]);
    expect(stderr).toContain('the corpus routes no clusters to docmath');
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(metrics.map((l) => (JSON.parse(l) as { step: number }).step)).toEqual([1]);
    const rollouts = readFileSync(join(run, 'rollouts', 'step-000001.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { role: string; cluster_id: string; task: string });
    const questioners = rollouts.filter((r) => r.role === 'questioner');
    expect(questioners).toHaveLength(3);
    for (const q of questioners) {
      expect(q.cluster_id).toMatch(/^library\/(birds|rivers|handbook\.md)/);
      expect(['qa', 'mc']).toContain(q.task);
    }
  }, 300_000);
});
