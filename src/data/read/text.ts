/**
 * Plain-text documents as clusters, without touching the file system: decode bytes as UTF-8,
 * split a text at blank-line section boundaries, pack the sections into documents of at most
 * `documentChars` characters, and group a unit's documents (one loose file, or the files of one
 * folder) into clusters of at most `clusterChars` characters.
 *
 * Bounds are in characters because the reader has no tokenizer. The defaults fit the default run:
 * the bundled model's small tokenizer reads English prose at about 2.2 characters per token, so a
 * 3000-character cluster is at most about 1.4K tokens, under the local preset's `maxPromptTokens` (2048)
 * with room for the prompt around it (a cluster over the budget would be refused at every draw, so
 * a long unit becomes several clusters). A real model's tokenizer (about 4.5 characters per token)
 * reads the same cluster as about 650 tokens; raise `data.text.clusterChars` for longer contexts.
 */
import type { Cluster, TextBounds } from '../cluster.ts';
import { parseTask, type Task } from '../../spell/task.ts';

export const DEFAULT_TEXT_BOUNDS: TextBounds = { documentChars: 1000, clusterChars: 3000 };

/** File name extensions read as text documents (compared lower-cased). */
export const TEXT_EXTENSIONS: readonly string[] = ['.txt', '.md'];

/** The result of decoding a file's bytes: its text, or why it is not UTF-8 text. */
export type Decoded = { readonly text: string } | { readonly problem: string };

/**
 * The byte offset of the first byte that breaks UTF-8 (overlong forms, surrogates and code
 * points past U+10FFFF included), or -1 when all of `bytes` is valid UTF-8.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min, cp] = [1, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [need, min, cp] = [2, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [need, min, cp] = [3, 0x10000, b & 0x07];
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Decode a text file's bytes: UTF-8 (a leading byte-order mark is dropped), line ends as `\n`.
 * Not text: invalid UTF-8 (with the line and byte offset of the first bad byte), a UTF-16
 * byte-order mark, or a NUL byte (binary data saved under a text name).
 */
export function decodeText(bytes: Uint8Array): Decoded {
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  ) {
    return {
      problem: 'not UTF-8 text (it starts with a UTF-16 byte-order mark); save it as UTF-8',
    };
  }
  const bad = firstInvalidUtf8(bytes);
  const nul = bytes.indexOf(0);
  const at = bad === -1 ? nul : nul === -1 ? bad : Math.min(bad, nul);
  if (at !== -1) {
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    const hex = bytes[at].toString(16).toUpperCase().padStart(2, '0');
    const what = at === nul ? 'a NUL byte (binary data?)' : `byte 0x${hex}, not valid UTF-8`;
    return { problem: `not UTF-8 text: ${what} at line ${line} (byte offset ${at})` };
  }
  const text = new TextDecoder('utf-8').decode(bytes).replace(/\r\n?/g, '\n');
  return { text: text.startsWith('\uFEFF') ? text.slice(1) : text };
}

/** Sections of a text: runs of lines between blank (whitespace-only) lines, trimmed at the ends. */
export function splitSections(text: string): string[] {
  return text
    .split(/\n[ \t\f\v]*\n/)
    .map((s) => s.replace(/^\s*\n/, '').trimEnd())
    .filter((s) => s.trim() !== '');
}

/**
 * Cut one section longer than `max` into pieces of at most `max` characters: at the last line
 * break that leaves a piece of at least half the bound, else the last space, else exactly at the
 * bound (stepping back off a surrogate pair so no character is split).
 */
export function cutLong(section: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = section;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = window.lastIndexOf('\n');
    if (cut < max / 2) cut = Math.max(window.lastIndexOf(' '), window.lastIndexOf('\t'));
    let next: number;
    if (cut >= max / 2) {
      next = cut + 1;
    } else {
      cut = max;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--;
      next = cut;
    }
    const piece = rest.slice(0, cut).trimEnd();
    if (piece.trim() !== '') pieces.push(piece);
    rest = rest.slice(next).replace(/^\s+/, '');
  }
  if (rest.trim() !== '') pieces.push(rest);
  return pieces;
}

/**
 * Pack a text's sections into documents of at most `max` characters, in order: sections are
 * joined by a blank line while they fit; a section longer than `max` is cut (see cutLong).
 */
export function packDocuments(text: string, max: number): string[] {
  const docs: string[] = [];
  let current = '';
  for (const section of splitSections(text)) {
    for (const piece of section.length > max ? cutLong(section, max) : [section]) {
      if (current === '') current = piece;
      else if (current.length + 2 + piece.length <= max) current = `${current}\n\n${piece}`;
      else {
        docs.push(current);
        current = piece;
      }
    }
  }
  if (current !== '') docs.push(current);
  return docs;
}

/**
 * Group documents into clusters whose newline-joined length is at most `max`, in order (a
 * document alone is always a cluster, whatever its length).
 */
export function groupDocuments(docs: readonly string[], max: number): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const doc of docs) {
    const grown = current.length === 0 ? doc.length : length + 1 + doc.length;
    if (current.length > 0 && grown > max) {
      groups.push(current);
      current = [doc];
      length = doc.length;
    } else {
      current.push(doc);
      length = grown;
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** A unit of text files that becomes one cluster (or several, when it is longer than the bound). */
export interface TextUnit {
  /** The unit's path relative to the corpus folder's parent, `/`-separated: its cluster id. */
  readonly id: string;
  readonly source: string;
  readonly task?: Task;
}

/**
 * The clusters of one unit from its files' texts (in file name order): each file is packed into
 * documents on its own, then the unit's documents are grouped. One cluster keeps the unit's id;
 * several are `<id>#1`, `<id>#2`, ... in order.
 */
export function unitClusters(
  unit: TextUnit,
  texts: readonly string[],
  bounds: TextBounds,
): Cluster[] {
  const docs = texts.flatMap((t) => packDocuments(t, bounds.documentChars));
  const groups = groupDocuments(docs, bounds.clusterChars);
  return groups.map((documents, i) => ({
    id: groups.length === 1 ? unit.id : `${unit.id}#${i + 1}`,
    source: unit.source,
    ...(unit.task === undefined ? {} : { task: unit.task }),
    documents,
  }));
}

/** A unit and its files (paths relative to the corpus folder, `/`-separated, in reading order). */
export interface PlannedUnit {
  readonly unit: TextUnit;
  readonly files: readonly string[];
}

/**
 * Group a text folder's files into units: a file directly in the folder is a unit of its own;
 * the files directly inside one subfolder (at any depth) form one unit. Ids and sources are the
 * folder's name plus the relative path, so they do not depend on where the folder lives. The
 * nearest folder on the way (the corpus folder included) named after a task (`docmath`, `qa`,
 * `mc`, or the reference spellings) sets the task of every cluster below it.
 * @param folderName the corpus folder's own name
 * @param files relative paths in a deterministic order (the walk's sorted order)
 */
export function planUnits(folderName: string, files: readonly string[]): PlannedUnit[] {
  const units = new Map<string, { unit: TextUnit; files: string[] }>();
  for (const file of files) {
    const slash = file.lastIndexOf('/');
    const dir = slash === -1 ? undefined : file.slice(0, slash);
    const id = `${folderName}/${dir ?? file}`;
    let planned = units.get(id);
    if (planned === undefined) {
      const folders = [folderName, ...(dir === undefined ? [] : dir.split('/'))];
      const task = folders
        .map((f) => parseTask(f))
        .reverse()
        .find((t) => t !== undefined);
      const source = dir === undefined ? `text/${folderName}` : `text/${folderName}/${dir}`;
      planned = { unit: { id, source, ...(task === undefined ? {} : { task }) }, files: [] };
      units.set(id, planned);
    }
    planned.files.push(file);
  }
  return [...units.values()];
}
