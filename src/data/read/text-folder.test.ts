import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DataError } from '../../core/errors.ts';
import { DEFAULT_ROUTING, routeClusters } from '../routing.ts';
import { readCorpus } from './corpus.ts';
import { MAX_TEXT_FILE_BYTES } from './text-folder.ts';

const root = mkdtempSync(join(tmpdir(), 'spell-text-corpus-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Write `files` (relative path → content) under a fresh folder named `name`; returns its path. */
function tree(name: string, files: Record<string, string | Uint8Array>): string {
  const dir = join(mkdtempSync(join(root, 'case-')), name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const para = (n: number, words = 30): string =>
  Array.from({ length: words }, (_, i) => `word${n}_${i}`).join(' ') + '.';

describe('text folders', () => {
  const docs = tree('my-docs', {
    'notes.md': `# Notes\n\n${para(1)}\n\n${para(2)}\n`,
    'zeta.txt': para(3),
    'europe/france.txt': `Paris is the capital of France.\n\n${para(4)}`,
    'europe/spain.md': 'Madrid is the capital of Spain.',
    'europe/east/poland.txt': 'Warsaw is the capital of Poland.',
    'docmath/reports/q1.txt': 'Revenue was 120 in Q1 and 150 in Q2.',
    '.git/HEAD.txt': 'hidden: skipped',
    '.hidden.md': 'hidden: skipped',
    'europe/map.png': 'not a document: ignored',
  });

  test('loose files and subfolders become clusters with stable ids, sources and tasks', async () => {
    const read = await readCorpus([docs]);
    expect(read.clusters).toEqual([
      {
        id: 'my-docs/docmath/reports',
        source: 'text/my-docs/docmath/reports',
        task: 'docmath',
        documents: ['Revenue was 120 in Q1 and 150 in Q2.'],
      },
      {
        id: 'my-docs/europe/east',
        source: 'text/my-docs/europe/east',
        documents: ['Warsaw is the capital of Poland.'],
      },
      {
        id: 'my-docs/europe',
        source: 'text/my-docs/europe',
        documents: [
          `Paris is the capital of France.\n\n${para(4)}`,
          'Madrid is the capital of Spain.',
        ],
      },
      {
        id: 'my-docs/notes.md',
        source: 'text/my-docs',
        documents: [`# Notes\n\n${para(1)}\n\n${para(2)}`],
      },
      { id: 'my-docs/zeta.txt', source: 'text/my-docs', documents: [para(3)] },
    ]);
    expect(read.rows).toBe(5);
    expect(read.skipped).toEqual({});
  });

  test('the same folder read by another path (relative, trailing slash) gives the same clusters', async () => {
    const a = await readCorpus([docs]);
    const b = await readCorpus([`${relative(process.cwd(), docs)}/`]);
    expect(b).toEqual(a);
  });

  test('text clusters route to qa and mc, unless a task folder says otherwise', async () => {
    const { byTask, unrouted } = routeClusters(
      (await readCorpus([docs])).clusters,
      DEFAULT_ROUTING,
      3,
    );
    expect(unrouted).toEqual([]);
    expect(byTask.docmath.map((c) => c.id)).toEqual(['my-docs/docmath/reports']);
    expect(byTask.qa.length + byTask.mc.length).toBe(4);
    expect(Math.abs(byTask.qa.length - byTask.mc.length)).toBeLessThanOrEqual(1);
  });

  test('a long file becomes numbered clusters within the bounds given', async () => {
    const dir = tree('long', {
      'book.txt': Array.from({ length: 30 }, (_, i) => para(i, 10)).join('\n\n'),
    });
    const text = { documentChars: 300, clusterChars: 1000 };
    const read = await readCorpus([dir], { text });
    expect(read.clusters.length).toBe(3);
    read.clusters.forEach((c, i) => {
      expect(c.id).toBe(`long/book.txt#${i + 1}`);
      for (const d of c.documents) expect(d.length).toBeLessThanOrEqual(300);
      expect(c.documents.join('\n').length).toBeLessThanOrEqual(1000);
    });
    const words = read.clusters.flatMap((c) => c.documents.join(' ').split(/\s+/));
    expect(words).toHaveLength(30 * 10);
  });

  test('a single text file is one unit named after the file', async () => {
    const dir = tree('single', { 'story.md': 'Once upon a time.\n\nThe end.' });
    expect((await readCorpus([join(dir, 'story.md')])).clusters).toEqual([
      { id: 'story.md', source: 'text/story.md', documents: ['Once upon a time.\n\nThe end.'] },
    ]);
  });
});

describe('bad text input', () => {
  test.each([
    [
      'non-UTF-8',
      Uint8Array.from([0x63, 0x61, 0x66, 0xe9]),
      'not_text',
      /bad\.txt: not UTF-8 text: byte 0xE9/,
    ],
    [
      'binary',
      Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x00]),
      'not_text',
      /bad\.txt: not UTF-8 text: a NUL byte/,
    ],
    ['empty', '', 'empty_document', /bad\.txt: the file is empty/],
    ['whitespace only', ' \n\n\t\n', 'empty_document', /bad\.txt: the file is empty/],
  ])(
    '%s file: one DataError naming it, or skipped and counted',
    async (_n, content, reason, message) => {
      const dir = tree('docs', {
        'a/good.txt': 'Fine.',
        'a/bad.txt': content,
        'b.md': 'Also fine.',
      });
      await expect(readCorpus([dir])).rejects.toThrow(DataError);
      await expect(readCorpus([dir])).rejects.toThrow(message);
      const read = await readCorpus([dir], { skipBad: true });
      expect(read.clusters.map((c) => [c.id, c.documents])).toEqual([
        ['docs/a', ['Fine.']],
        ['docs/b.md', ['Also fine.']],
      ]);
      expect(read.skipped).toEqual({ [reason]: 1 });
      expect(read.problems).toMatchObject([{ reason, file: join(dir, 'a', 'bad.txt') }]);
    },
  );

  test('a file over the size limit is refused before it is read', async () => {
    const dir = tree('docs', { 'ok.txt': 'Fine.' });
    const giant = join(dir, 'giant.txt');
    writeFileSync(giant, '');
    truncateSync(giant, MAX_TEXT_FILE_BYTES + 1); // sparse: no disk used
    await expect(readCorpus([dir])).rejects.toThrow(
      /giant\.txt: 16777217 bytes, over the 16 MiB limit of a text file/,
    );
    expect((await readCorpus([dir], { skipBad: true })).skipped).toEqual({ too_large: 1 });
  });

  test('a folder mixing corpus files and text documents at its top is refused', async () => {
    const dir = tree('mixed', { 'a.jsonl': '{"id":"a","documents":["x"]}\n', 'notes.txt': 'n' });
    await expect(readCorpus([dir])).rejects.toThrow(
      /mixed: mixes corpus files \(a\.jsonl\) and text documents \(notes\.txt\)/,
    );
  });

  test('a text folder with corpus files below its top is refused, naming one', async () => {
    const dir = tree('hf', { 'README.md': '# A dataset', 'data/train.parquet': 'PAR1' });
    await expect(readCorpus([dir])).rejects.toThrow(
      /hf: holds text documents \(README\.md\) and corpus files \(data\/train\.parquet\) below its top level/,
    );
  });

  test('a symlink loop is named, not followed forever', async () => {
    const dir = tree('loop', { 'a/x.txt': 'x' });
    symlinkSync('..', join(dir, 'a', 'up'));
    await expect(readCorpus([dir])).rejects.toThrow(
      /loop\/a\/up: leads back to .*loop \(a symlink loop/,
    );
  });

  test('a dangling link where a document would be is named', async () => {
    const dir = tree('dangling', { 'x.txt': 'x' });
    symlinkSync(join(dir, 'gone.txt'), join(dir, 'y.txt'));
    await expect(readCorpus([dir])).rejects.toThrow(/y\.txt: a link to a file that does not exist/);
  });

  test('a folder with no documents at all says what it looked for', async () => {
    const dir = tree('empty', { 'image.png': 'x', '.notes.md': 'hidden' });
    await expect(readCorpus([dir])).rejects.toThrow(
      /empty: folder holds no \.jsonl, \.parquet, \.txt or \.md files/,
    );
  });

  test('the same text folder passed twice is a duplicate id', async () => {
    const dir = tree('twice', { 'x.txt': 'x' });
    await expect(readCorpus([dir, dir])).rejects.toThrow(/cluster id 'twice\/x\.txt' already used/);
  });
});
