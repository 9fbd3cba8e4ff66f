import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { referenceKey } from '../../src/spell/repeat-guard.ts';
import type { Task } from '../../src/spell/task.ts';
import { FAST, spell, spawnSpell, tempDir, tinyModelDir, withoutTiming } from './helpers.ts';

function readLines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** One training step of the bundled model with the local preset; returns the run directory. */
async function oneBundledStep(prefix: string, seed: number, overrides: string[]): Promise<string> {
  const run = join(tempDir(prefix), 'r');
  await spell([
    'train',
    '--steps',
    '1',
    '--seed',
    String(seed),
    '--run-dir',
    run,
    '--no-progress',
    ...overrides,
  ]);
  return run;
}

describe('spell train (embedded engine)', () => {
  test('two steps write config, metrics, rollouts and a checkpoint; --resume continues to step 3', async () => {
    const model = await tinyModelDir();
    const run = join(tempDir('spell-run-'), 'r');
    await spell([
      'train',
      '--model',
      model,
      '--steps',
      '2',
      '--run-dir',
      run,
      '--no-progress',
      ...FAST,
    ]);
    const cfg = parseYaml(readFileSync(join(run, 'config.yaml'), 'utf8'));
    expect(cfg.steps).toBe(2);
    expect(cfg.rollout.maxResponseTokens).toBe(12);
    const metrics = readLines(join(run, 'metrics.jsonl'));
    expect(metrics.map((m) => m.step)).toEqual([1, 2]);
    // every questioner output is accounted for by a parse outcome
    for (const m of metrics) {
      const parsed = ['ok', 'format_error', 'invalid_answer', 'unfinished_think']
        .map((k) => Number(m[`count/questioner/parse/${k}`] ?? 0))
        .reduce((a, b) => a + b, 0);
      expect(parsed).toBe(3);
    }
    expect(readdirSync(join(run, 'rollouts')).sort()).toEqual([
      'step-000001.jsonl',
      'step-000002.jsonl',
    ]);
    const rollouts = readLines(join(run, 'rollouts', 'step-000001.jsonl'));
    expect(rollouts.filter((r) => r.role === 'questioner')).toHaveLength(3);
    for (const r of rollouts) expect(r).toHaveProperty('cluster_id');
    expect(existsSync(join(run, 'checkpoints', 'step-000002', 'controller.json'))).toBe(true);

    await spell([
      'train',
      '--model',
      model,
      '--steps',
      '3',
      '--run-dir',
      run,
      '--resume',
      '--no-progress',
      ...FAST,
    ]);
    expect(readLines(join(run, 'metrics.jsonl')).map((m) => m.step)).toEqual([1, 2, 3]);
    expect(readFileSync(join(run, 'checkpoints', 'latest'), 'utf8').trim()).toBe('step-000003');
  }, 300_000);

  test('starting over an existing run without --resume is refused', async () => {
    const model = await tinyModelDir();
    const run = join(tempDir('spell-run-'), 'r');
    await spell([
      'train',
      '--model',
      model,
      '--steps',
      '1',
      '--run-dir',
      run,
      '--no-progress',
      ...FAST,
    ]);
    await expect(
      spell([
        'train',
        '--model',
        model,
        '--steps',
        '2',
        '--run-dir',
        run,
        '--no-progress',
        ...FAST,
      ]),
    ).rejects.toThrow(/--resume/);
  }, 300_000);

  test('the static-RLVR control trains the responder on labeled questions', async () => {
    const model = await tinyModelDir();
    const dir = tempDir('spell-rlvr-');
    const labeled = join(dir, 'labeled.jsonl');
    const docs = ['Ada Vale was born in Kettle.', 'Kettle lies on the river Brisk.'];
    const rows = [
      {
        id: 'l1',
        task: 'qa',
        kind: 'birthplace',
        documents: docs,
        question: 'Where was Ada Vale born?',
        answer: 'Kettle',
        evidence: [0],
      },
      {
        id: 'l2',
        task: 'mc',
        kind: 'river',
        documents: docs,
        question: 'Which river?',
        options: { A: 'Brisk', B: 'Tay', C: 'Ouse', D: 'Nile' },
        answer: 'A',
        evidence: [1],
      },
      {
        id: 'l3',
        task: 'docmath',
        kind: 'sum',
        documents: ['Revenue was 10 in 2020 and 12 in 2021.'],
        question: 'Total revenue?',
        answer: '22',
        evidence: [0],
      },
    ];
    writeFileSync(labeled, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const run = join(dir, 'r');
    await spell([
      'train',
      '--model',
      model,
      '--steps',
      '2',
      '--run-dir',
      run,
      '--no-progress',
      'mode=rlvr',
      `data.labeledPaths=${JSON.stringify([labeled])}`,
      'rollout.responderGroups=2',
      ...FAST,
    ]);
    const metrics = readLines(join(run, 'metrics.jsonl'));
    expect(metrics.map((m) => m.step)).toEqual([1, 2]);
    for (const m of metrics) {
      expect(m['train/mode_rlvr']).toBe(1);
      expect(m['critic/role/responder/count']).toBe(4); // 2 questions x G=2
      expect(m['critic/role/questioner/count']).toBe(0);
      // the reward is the rule score, so rule accuracy equals the mean of the answers' rewards
      const rs = readLines(join(run, 'rollouts', `step-00000${String(m.step)}.jsonl`));
      const mean = rs.reduce((a, r) => a + Number(r.reward), 0) / rs.length;
      expect(m['responder/rule_accuracy']).toBeCloseTo(mean, 12);
    }
    const rollouts = readLines(join(run, 'rollouts', 'step-000001.jsonl'));
    expect(new Set(rollouts.map((r) => r.role))).toEqual(new Set(['responder']));
    await expect(
      spell([
        'train',
        '--model',
        model,
        '--run-dir',
        join(dir, 'r2'),
        'mode=rlvr',
        '--print-config',
      ]),
    ).rejects.toThrow(/labeledPaths/);
  }, 300_000);

  test('maxMinutes stops the run after the step that crosses the budget, with a checkpoint', async () => {
    const model = await tinyModelDir();
    const run = join(tempDir('spell-budget-'), 'r');
    const { stderr } = await spell([
      'train',
      '--model',
      model,
      '--steps',
      '50',
      '--run-dir',
      run,
      '--no-progress',
      'maxMinutes=0.0001',
      'checkpointEvery=100',
      ...FAST,
    ]);
    expect(stderr).toMatch(/time budget of 0.0001 min reached after step 1/);
    expect(readLines(join(run, 'metrics.jsonl')).map((m) => m.step)).toEqual([1]);
    expect(readFileSync(join(run, 'checkpoints', 'latest'), 'utf8').trim()).toBe('step-000001');
  }, 300_000);

  test('mcWrongLetter=swap moves the right option under the letter the prompt required', async () => {
    // The bundled model writes MC questions that mostly ignore the required letter, so one
    // MC-only step shows the swap on real samples (the strict parser rejects them).
    const run = await oneBundledStep('spell-swap-', 3, [
      'data.taskWeights.docmath=0',
      'data.taskWeights.qa=0',
      'algorithm.mcWrongLetter=swap',
    ]);
    const [metrics] = readLines(join(run, 'metrics.jsonl'));
    const swaps = metrics['count/questioner/mc_letter_swapped'];
    expect(swaps).toBeGreaterThan(0);
    const swapped = readLines(join(run, 'rollouts', 'step-000001.jsonl')).filter(
      (r) =>
        r.role === 'questioner' &&
        (r.parse as { swappedFrom?: string } | null)?.swappedFrom !== undefined,
    );
    expect(swapped).toHaveLength(swaps as number);
    for (const r of swapped) {
      const parse = r.parse as { referenceAnswer: string; swappedFrom: string };
      expect(r.task).toBe('mc');
      expect(parse.referenceAnswer).toBe(r.target_letter);
      expect(parse.swappedFrom).not.toBe(r.target_letter);
    }
  }, 300_000);

  test('the repeat guard labels exactly the questions whose reference the window already holds', async () => {
    // limit 1: any qa reference seen earlier in the run is a repeat. The bundled model's
    // favourite names recur within one step when references need not come from the documents,
    // so one qa-only step shows both verdicts.
    const run = await oneBundledStep('spell-repeat-', 6, [
      'data.taskWeights.mc=0',
      'data.taskWeights.docmath=0',
      'algorithm.qaAnswerInDocuments=false',
      'algorithm.repeatWindow=64',
      'algorithm.repeatLimit=1',
    ]);
    const [metrics] = readLines(join(run, 'metrics.jsonl'));
    const questioners = readLines(join(run, 'rollouts', 'step-000001.jsonl')).filter(
      (r) => r.role === 'questioner' && (r.parse as { kind: string }).kind === 'ok',
    );
    const seen = new Set<string>();
    let repeats = 0;
    for (const r of questioners) {
      const key = referenceKey(
        r.task as Task,
        (r.parse as { referenceAnswer: string }).referenceAnswer,
      );
      const expected = key !== undefined && seen.has(`${r.task as string}:${key}`);
      expect(r.label === 'bad_repeat').toBe(expected);
      if (expected) repeats += 1;
      if (key !== undefined) seen.add(`${r.task as string}:${key}`);
    }
    expect(repeats).toBeGreaterThan(0);
    expect(repeats).toBeLessThan(questioners.length);
    expect(metrics['count/questioner/bad_repeat']).toBe(repeats);
    // the window is checkpointed with the run
    const controller = JSON.parse(
      readFileSync(join(run, 'checkpoints', 'step-000001', 'controller.json'), 'utf8'),
    ) as { references: { keys: Record<string, string[]> } };
    const remembered = Object.values(controller.references.keys).flat();
    expect(remembered).toHaveLength(
      questioners.filter(
        (r) =>
          r.task !== 'mc' &&
          referenceKey(r.task as Task, (r.parse as { referenceAnswer: string }).referenceAnswer) !==
            undefined,
      ).length,
    );
  }, 300_000);

  test('a bad config key is a clear error naming the key', async () => {
    const dir = tempDir('spell-cfg-');
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'rollout:\n  groupSzie: 3\n');
    await expect(spell(['train', '--config', file, '--print-config'])).rejects.toThrow(/rollout/);
  }, 300_000);

  test('a run killed with SIGKILL mid-step and resumed matches an uninterrupted run', async () => {
    const model = await tinyModelDir();
    const base = tempDir('spell-kill-');
    const args = (run: string, extra: string[] = []) => [
      'train',
      '--model',
      model,
      '--steps',
      '3',
      '--run-dir',
      run,
      '--no-progress',
      'checkpointEvery=1',
      ...FAST,
      ...extra,
    ];
    const straight = join(base, 'straight');
    await spell(args(straight));

    const killed = join(base, 'killed');
    const child = spawnSpell(args(killed));
    // Wait (bounded) until step 1 is checkpointed, then kill during step 2.
    const deadline = Date.now() + 180_000;
    while (!existsSync(join(killed, 'checkpoints', 'step-000001', 'controller.json'))) {
      if (Date.now() > deadline || child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    expect(existsSync(join(killed, 'checkpoints', 'step-000003'))).toBe(false);
    await spell(args(killed, ['--resume']));

    const a = readLines(join(straight, 'metrics.jsonl')).map(withoutTiming);
    const b = readLines(join(killed, 'metrics.jsonl')).map(withoutTiming);
    expect(b).toEqual(a);
    const wa = readFileSync(
      join(straight, 'checkpoints', 'engine', 'step-000003', 'model.safetensors'),
    );
    const wb = readFileSync(
      join(killed, 'checkpoints', 'engine', 'step-000003', 'model.safetensors'),
    );
    expect(wb.equals(wa)).toBe(true);
    expect(readFileSync(join(killed, 'rollouts', 'step-000003.jsonl'), 'utf8')).toBe(
      readFileSync(join(straight, 'rollouts', 'step-000003.jsonl'), 'utf8'),
    );
  }, 300_000);

  test('engine.loraRank: adapter-only checkpoints, and a resumed run matches an uninterrupted one', async () => {
    const model = await tinyModelDir();
    const base = tempDir('spell-lora-');
    const args = (run: string, steps: number, extra: string[] = []) => [
      'train',
      '--model',
      model,
      '--steps',
      String(steps),
      '--run-dir',
      run,
      '--no-progress',
      'checkpointEvery=1',
      'engine.loraRank=4',
      ...FAST,
      ...extra,
    ];
    const straight = join(base, 'straight');
    await spell(args(straight, 2));
    const resumed = join(base, 'resumed');
    await spell(args(resumed, 1));
    await spell(args(resumed, 2, ['--resume']));
    const engine = (run: string) => join(run, 'checkpoints', 'engine', 'step-000002');
    expect(readdirSync(engine(straight)).sort()).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'optimizer.safetensors',
      'state.json',
    ]);
    const a = readLines(join(straight, 'metrics.jsonl')).map(withoutTiming);
    const b = readLines(join(resumed, 'metrics.jsonl')).map(withoutTiming);
    expect(b).toEqual(a);
    const file = 'adapter_model.safetensors';
    expect(
      readFileSync(join(engine(resumed), file)).equals(readFileSync(join(engine(straight), file))),
    ).toBe(true);
  }, 300_000);
});
