import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  cutLong,
  decodeText,
  firstInvalidUtf8,
  groupDocuments,
  packDocuments,
  planUnits,
  splitSections,
  unitClusters,
} from './text.ts';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('firstInvalidUtf8', () => {
  test.each([
    ['ASCII', utf8('plain'), -1],
    ['2, 3 and 4-byte characters', utf8('é€😀'), -1],
    ['a lone continuation byte', bytes(0x61, 0x80), 1],
    ['Latin-1 é', bytes(0x63, 0x61, 0x66, 0xe9), 3],
    ['a truncated 3-byte sequence at the end', bytes(0x61, 0xe2, 0x82), 1],
    ['an overlong encoding of /', bytes(0xc0, 0xaf), 0],
    ['an overlong 3-byte form', bytes(0xe0, 0x80, 0xaf), 0],
    ['a UTF-16 surrogate encoded as UTF-8', bytes(0xed, 0xa0, 0x80), 0],
    ['a code point past U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), 0],
    ['0xFF', bytes(0x61, 0x62, 0xff), 2],
  ])('%s', (_name, input, expected) => {
    expect(firstInvalidUtf8(input)).toBe(expected);
  });
});

describe('decodeText', () => {
  test('drops a UTF-8 byte-order mark and turns CRLF and CR line ends into LF', () => {
    expect(decodeText(utf8('\uFEFFa\r\nb\rc\n'))).toEqual({ text: 'a\nb\nc\n' });
  });

  test('invalid UTF-8 names the line and byte offset of the first bad byte', () => {
    expect(decodeText(bytes(0x61, 0x0a, 0x62, 0x0a, 0x63, 0xe9, 0x0a))).toEqual({
      problem: 'not UTF-8 text: byte 0xE9, not valid UTF-8 at line 3 (byte offset 5)',
    });
  });

  test('a NUL byte is binary data, not text', () => {
    expect(decodeText(bytes(0x61, 0x00, 0x62))).toEqual({
      problem: 'not UTF-8 text: a NUL byte (binary data?) at line 1 (byte offset 1)',
    });
  });

  test('UTF-16 is recognised by its byte-order mark', () => {
    expect(decodeText(bytes(0xff, 0xfe, 0x61, 0x00))).toEqual({
      problem: 'not UTF-8 text (it starts with a UTF-16 byte-order mark); save it as UTF-8',
    });
  });
});

describe('splitSections', () => {
  test('blank and whitespace-only lines separate sections; runs of them count once', () => {
    expect(splitSections('# Title\n\nFirst para\nstill first.\n \t\n\n\nSecond.\n')).toEqual([
      '# Title',
      'First para\nstill first.',
      'Second.',
    ]);
  });

  test('a text of only blank lines has no sections', () => {
    expect(splitSections('\n \n\t\n')).toEqual([]);
  });
});

describe('cutLong', () => {
  test('cuts at the last line break that keeps at least half the bound', () => {
    expect(cutLong('aaaa\nbbbbb\ncc', 10)).toEqual(['aaaa\nbbbbb', 'cc']);
    expect(cutLong('aaa\nbbb\ncc dd eeeeee', 10)).toEqual(['aaa\nbbb', 'cc dd', 'eeeeee']);
    // a break in the first half would leave a tiny piece: cut at the bound instead
    expect(cutLong('aa\nbbbbbbbbbbbb', 10)).toEqual(['aa\nbbbbbbb', 'bbbbb']);
  });

  test('falls back to the last space, then to a hard cut', () => {
    expect(cutLong('one two three four', 10)).toEqual(['one two', 'three four']);
    expect(cutLong('abcdefghijklmnopqrstuvwxy', 10)).toEqual(['abcdefghij', 'klmnopqrst', 'uvwxy']);
  });

  test('never splits a surrogate pair', () => {
    const pieces = cutLong('abcd😀😀😀', 5);
    expect(pieces.join('')).toBe('abcd😀😀😀');
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(5);
      expect(p).toBe(Buffer.from(p, 'utf8').toString('utf8'));
    }
  });
});

describe('packDocuments', () => {
  test('joins sections with a blank line while they fit, then starts a new document', () => {
    expect(packDocuments('aaa\n\nbbb\n\nccc\n\ndddddddd', 8)).toEqual([
      'aaa\n\nbbb',
      'ccc',
      'dddddddd',
    ]);
  });

  test('a section over the bound is cut, and the pieces pack like sections', () => {
    expect(packDocuments('x\n\none two three four', 10)).toEqual(['x\n\none two', 'three four']);
  });

  test('every document respects the bound and no text is lost', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} `.repeat(1 + (i % 7))).join(
      '\n\n',
    );
    const docs = packDocuments(text, 120);
    for (const d of docs) expect(d.length).toBeLessThanOrEqual(120);
    const words = (s: string): string[] => s.split(/\s+/).filter((w) => w !== '');
    expect(docs.flatMap(words)).toEqual(words(text));
  });
});

describe('groupDocuments', () => {
  test('groups while the newline-joined length fits; an oversized document stands alone', () => {
    expect(groupDocuments(['aaa', 'bbb', 'cc', 'dddddddddd', 'e'], 7)).toEqual([
      ['aaa', 'bbb'],
      ['cc'],
      ['dddddddddd'],
      ['e'],
    ]);
  });
});

describe('unitClusters', () => {
  const bounds = { documentChars: 10, clusterChars: 21 };

  test('each file packs on its own; one cluster keeps the unit id', () => {
    expect(
      unitClusters({ id: 'docs/a', source: 'text/docs/a' }, ['one\n\ntwo', 'three'], bounds),
    ).toEqual([{ id: 'docs/a', source: 'text/docs/a', documents: ['one\n\ntwo', 'three'] }]);
  });

  test('a unit over the cluster bound becomes numbered clusters, with its task', () => {
    const text = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].join('\n\n');
    expect(
      unitClusters({ id: 'docs/n.md', source: 'text/docs', task: 'mc' }, [text], bounds),
    ).toEqual([
      {
        id: 'docs/n.md#1',
        source: 'text/docs',
        task: 'mc',
        documents: ['alpha', 'bravo', 'charlie'],
      },
      { id: 'docs/n.md#2', source: 'text/docs', task: 'mc', documents: ['delta', 'echo'] },
    ]);
  });
});

describe('planUnits', () => {
  test('a loose file is its own unit; the files directly in one subfolder form one', () => {
    expect(
      planUnits('docs', ['a/b/x.md', 'a/b/y.txt', 'a/z.txt', 'notes.md', 'readme.txt']),
    ).toEqual([
      { unit: { id: 'docs/a/b', source: 'text/docs/a/b' }, files: ['a/b/x.md', 'a/b/y.txt'] },
      { unit: { id: 'docs/a', source: 'text/docs/a' }, files: ['a/z.txt'] },
      { unit: { id: 'docs/notes.md', source: 'text/docs' }, files: ['notes.md'] },
      { unit: { id: 'docs/readme.txt', source: 'text/docs' }, files: ['readme.txt'] },
    ]);
  });

  test('the nearest folder named after a task sets the task (either spelling)', () => {
    const units = planUnits('mc', [
      'loose.txt',
      'docmath/q1/r.txt',
      'docmath/q1/qa/s.txt',
      'x/y.txt',
    ]);
    expect(units.map((u) => [u.unit.id, u.unit.task])).toEqual([
      ['mc/loose.txt', 'mc'],
      ['mc/docmath/q1', 'docmath'],
      ['mc/docmath/q1/qa', 'qa'],
      ['mc/x', 'mc'],
    ]);
    expect(planUnits('corpus', ['doc_general_qa/a.txt'])[0].unit.task).toBe('qa');
  });
});

describe('properties (random bytes and bounds)', () => {
  // A hard cut may split a word, so compare the text without its whitespace.
  const ink = (s: string): string => s.replace(/\s+/g, '');

  test('decoding never throws, and agrees with a strict UTF-8 decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        let strict: string | undefined;
        try {
          strict = new TextDecoder('utf-8', { fatal: true }).decode(b);
        } catch {
          strict = undefined;
        }
        const valid = strict !== undefined && !strict.includes('\0');
        const utf16 =
          b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff));
        expect('text' in decodeText(b)).toBe(valid && !utf16);
      }),
      { numRuns: 400 },
    );
  });

  test('clusters keep all text in order, no empty document, and respect both bounds', () => {
    const texts = fc.array(
      fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '\t', 'é', '😀'), maxLength: 400 }),
      { minLength: 1, maxLength: 3 },
    );
    fc.assert(
      fc.property(
        texts,
        fc.integer({ min: 4, max: 60 }),
        fc.integer({ min: 0, max: 80 }),
        (ts, doc, extra) => {
          const bounds = { documentChars: doc, clusterChars: doc + extra };
          const clusters = unitClusters({ id: 'u', source: 'text/u' }, ts, bounds);
          const docs = clusters.flatMap((c) => c.documents);
          expect(docs.map(ink).join('')).toBe(ts.map(ink).join(''));
          for (const d of docs) {
            expect(d.trim()).not.toBe('');
            expect(d.length).toBeLessThanOrEqual(doc);
          }
          for (const c of clusters) {
            expect(c.documents.length).toBeGreaterThan(0);
            expect(c.documents.join('\n').length).toBeLessThanOrEqual(bounds.clusterChars);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
