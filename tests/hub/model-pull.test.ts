/**
 * `spell model pull` against a hub-shaped server on 127.0.0.1: the HF cache layout (blobs,
 * snapshots with relative symlinks, refs), reuse of a cached snapshot, a resumed partial download,
 * a private repo with HF_TOKEN, a missing repo's one-line error, and the snapshot loading in the
 * embedded engine.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalEngine } from '../../src/engine/local/index.ts';
import { HubError, chooseFiles, hubCacheDir, pullModel, shardsOf } from '../../src/hub/index.ts';
import { promisify } from 'node:util';
import { ROOT, SPELL, tempDir } from '../train/helpers.ts';
import { HubServer } from './hub-server.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const model = (f: string): Buffer => readFileSync(join(ROOT, 'assets', 'model', f));
const files = {
  'config.json': model('config.json'),
  'model.safetensors': model('model.safetensors'),
  'tokenizer.json': model('tokenizer.json'),
  'tokenizer_config.json': model('tokenizer_config.json'),
  'README.md': Buffer.from('# tiny\n'),
  'pytorch_model.bin': Buffer.from('not used'),
  'onnx/model.onnx': Buffer.from('not used either'),
};
const hub = new HubServer({
  'spell-test/tiny': { commit: COMMIT, files },
  'spell-test/private': { commit: COMMIT.replace('0', 'f'), files, token: 'hf_secret' },
});
let endpoint = '';

beforeAll(async () => {
  endpoint = await hub.start();
});
afterAll(() => hub.close());

const envFor = (cache: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  HF_ENDPOINT: endpoint,
  HF_HUB_CACHE: cache,
  ...extra,
});
/** The CLI with the hub variables set (and no token or HF_HOME of the machine leaking in). */
const spell = (args: readonly string[], timeout: number, env: NodeJS.ProcessEnv) =>
  promisify(execFile)(process.execPath, [SPELL, ...args], {
    cwd: ROOT,
    timeout,
    env: {
      ...process.env,
      HF_TOKEN: '',
      HUGGING_FACE_HUB_TOKEN: '',
      HF_HOME: tempDir('hf-home-'),
      ...env,
    },
  });
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('spell model pull', () => {
  test('writes the HF cache layout, prints the snapshot, and the engine loads it', async () => {
    const cache = tempDir('spell-hub-');
    const res = await spell(['model', 'pull', 'spell-test/tiny'], 120_000, envFor(cache));
    const snap = join(cache, 'models--spell-test--tiny', 'snapshots', COMMIT);
    expect(res.stdout.trim()).toBe(snap);
    expect(readdirSync(snap).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    // LFS files are named by their sha256 (X-Linked-Etag), linked relatively from the snapshot.
    const weights = join(snap, 'model.safetensors');
    expect(lstatSync(weights).isSymbolicLink()).toBe(true);
    expect(readlinkSync(weights)).toBe(`../../blobs/${sha(files['model.safetensors'])}`);
    expect(readFileSync(weights).equals(files['model.safetensors'])).toBe(true);
    const ref = join(cache, 'models--spell-test--tiny', 'refs', 'main');
    expect(readFileSync(ref, 'utf8')).toBe(COMMIT);
    const engine = await LocalEngine.open({ modelDir: snap });
    try {
      expect((await engine.info()).vocabSize).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  }, 120_000);

  test('a second pull reuses the cache without downloading', async () => {
    const cache = tempDir('spell-hub-');
    await pullModel({ repo: 'spell-test/tiny', env: envFor(cache) });
    const before = hub.requests.length;
    const actions: string[] = [];
    await pullModel({
      repo: 'spell-test/tiny',
      env: envFor(cache),
      onFile: (_f, a) => actions.push(a),
    });
    expect(actions.every((a) => a === 'cached')).toBe(true);
    // Only the revision listing was asked for.
    expect(hub.requests.slice(before).map((r) => r.url)).toEqual([
      '/api/models/spell-test/tiny/revision/main',
    ]);
  });

  test('a broken download resumes from the partial file with a Range request', async () => {
    const cache = tempDir('spell-hub-');
    hub.cutNextDownloads = 1;
    await expect(pullModel({ repo: 'spell-test/tiny', env: envFor(cache) })).rejects.toThrow(
      /model\.safetensors.*run the command again to resume/,
    );
    const blob = join(cache, 'models--spell-test--tiny', 'blobs', sha(files['model.safetensors']));
    const partial = statSync(`${blob}.incomplete`).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(files['model.safetensors'].length);
    const before = hub.requests.length;
    const actions: Record<string, string> = {};
    const res = await pullModel({
      repo: 'spell-test/tiny',
      env: envFor(cache),
      onFile: (f, a) => (actions[f] = a),
    });
    expect(actions['model.safetensors']).toBe('resumed');
    const cdn = hub.requests.slice(before).filter((r) => r.server === 'cdn');
    expect(cdn.map((r) => r.range)).toEqual([`bytes=${partial}-`]);
    expect(existsSync(`${blob}.incomplete`)).toBe(false);
    expect(sha(readFileSync(join(res.snapshotDir, 'model.safetensors')))).toBe(
      sha(files['model.safetensors']),
    );
  });

  test('a private repo needs HF_TOKEN, which is sent to the hub but never to the CDN', async () => {
    const cache = tempDir('spell-hub-');
    await expect(pullModel({ repo: 'spell-test/private', env: envFor(cache) })).rejects.toThrow(
      /spell-test\/private needs authentication .*401.*set HF_TOKEN/,
    );
    await expect(
      pullModel({ repo: 'spell-test/private', env: envFor(cache, { HF_TOKEN: 'wrong' }) }),
    ).rejects.toThrow(/refused the token from HF_TOKEN/);
    const before = hub.requests.length;
    const res = await pullModel({
      repo: 'spell-test/private',
      env: envFor(cache, { HF_TOKEN: 'hf_secret' }),
    });
    expect(existsSync(join(res.snapshotDir, 'model.safetensors'))).toBe(true);
    const seen = hub.requests.slice(before);
    expect(
      seen.filter((r) => r.server === 'hub').every((r) => r.authorization === 'Bearer hf_secret'),
    ).toBe(true);
    expect(seen.filter((r) => r.server === 'cdn').length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.server === 'cdn').some((r) => r.authorization)).toBe(false);
  });

  test('a missing repo is a one-line error with exit code 2', async () => {
    const cache = tempDir('spell-hub-');
    const err = await spell(['model', 'pull', 'spell-test/nope'], 60_000, envFor(cache)).then(
      () => undefined,
      (e: unknown) => e as { code?: number; stderr?: string },
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr?.trim()).toBe(
      `spell: HubError: repository spell-test/nope not found at ${endpoint} (404)`,
    );
    await expect(
      pullModel({ repo: 'spell-test/tiny', revision: 'v9', env: envFor(cache) }),
    ).rejects.toThrow(/revision "v9" not found in spell-test\/tiny/);
    await expect(pullModel({ repo: 'not a repo', env: envFor(cache) })).rejects.toThrow(
      /not a hub repo id/,
    );
  });
});

describe('file choice and cache location', () => {
  test('root config, tokenizer, chat template and safetensors; shards from the index', () => {
    const listing = [
      'config.json',
      'generation_config.json',
      'chat_template.jinja',
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'pytorch_model.bin',
      'original/consolidated.pth',
      'README.md',
    ];
    expect(chooseFiles('a/b', listing)).toEqual([
      'config.json',
      'generation_config.json',
      'chat_template.jinja',
      'model.safetensors.index.json',
    ]);
    const index = JSON.stringify({
      weight_map: {
        'a.weight': 'model-00001-of-00002.safetensors',
        'b.weight': 'model-00002-of-00002.safetensors',
        'c.weight': 'model-00001-of-00002.safetensors',
      },
    });
    expect(shardsOf(index, 'i.json')).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect(() => shardsOf('{"weight_map": {"x": "../../etc/passwd"}}', 'i.json')).toThrow(HubError);
    expect(() => chooseFiles('a/b', ['config.json', 'pytorch_model.bin'])).toThrow(
      /no model\.safetensors.*pytorch_model\.bin.*safetensors weights only/,
    );
  });

  test('cache dir: --cache-dir, then HF_HUB_CACHE, then HF_HOME/hub', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }, '/o')).toBe('/o');
    expect(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' })).toBe('/c');
    expect(hubCacheDir({ HF_HOME: '/h' })).toBe('/h/hub');
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
  });
});
