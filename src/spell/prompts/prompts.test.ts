import { describe, expect, test } from 'vitest';
import { Rng } from '../../core/rng.ts';
import type { Task } from '../task.ts';
import type { QuestionerPromptInput } from './questioner.ts';
import { drawTargetLetter, joinDocuments, questionerPrompt, renderExamples } from './questioner.ts';
import { groundingPrompt, responderPrompt } from './responder.ts';
import { verifierPrompt } from './verifier.ts';
import { ruleScore } from '../rules/index.ts';

const DOCS = 'Paragraph one.\nParagraph two.';
const EXAMPLES = [
  { question: 'First old question?', answer: '12' },
  { question: 'Second old question?', answer: 'Paris' },
];

function questionerInputs(): QuestionerPromptInput[] {
  const out: QuestionerPromptInput[] = [];
  for (const examples of [[], EXAMPLES]) {
    out.push({ task: 'docmath', documents: DOCS, examples });
    out.push({ task: 'qa', documents: DOCS, examples });
    out.push({ task: 'mc', documents: DOCS, examples, targetLetter: 'C' });
  }
  return out;
}

function jsonBlocks(text: string): string[] {
  return [...text.matchAll(/```json([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('questioner prompts', () => {
  test.each(questionerInputs())(
    'every questioner template ($task) holds its documents and a strict-JSON output contract',
    (input) => {
      const prompt = questionerPrompt(input);
      expect(prompt).toContain(`<text>\n${DOCS}\n</text>`);
      const blocks = jsonBlocks(prompt);
      expect(blocks).toHaveLength(1);
      const example: unknown = JSON.parse(blocks[0]); // strict: would throw on a trailing comma
      expect(example).toEqual(expect.objectContaining({ question: expect.any(String) }));
      expect(Object.keys(example as object)).toContain('answer');
      if (input.task === 'mc') {
        expect(example).toEqual(
          expect.objectContaining({
            answer: 'C',
            options: {
              A: expect.any(String),
              B: expect.any(String),
              C: expect.any(String),
              D: expect.any(String),
            },
          }),
        );
        expect(prompt).toContain('MUST be C');
      }
    },
  );

  test('the history form lists examples oldest first after the documents and asks for harder questions', () => {
    for (const task of ['docmath', 'qa'] as const) {
      const plain = questionerPrompt({ task, documents: DOCS });
      const withHistory = questionerPrompt({ task, documents: DOCS, examples: EXAMPLES });
      expect(plain).not.toContain('Previous Examples');
      expect(withHistory).toContain('## Previous Examples');
      expect(withHistory).toContain('harder');
      const first = withHistory.indexOf('### Example 1\nQuestion: First old question?\nAnswer: 12');
      const second = withHistory.indexOf(
        '### Example 2\nQuestion: Second old question?\nAnswer: Paris',
      );
      expect(first).toBeGreaterThan(withHistory.indexOf('</text>'));
      expect(second).toBeGreaterThan(first);
    }
  });

  test('examples render as "### Example k" / Question / Answer blocks separated by blank lines', () => {
    expect(renderExamples(EXAMPLES)).toBe(
      '### Example 1\nQuestion: First old question?\nAnswer: 12\n\n' +
        '### Example 2\nQuestion: Second old question?\nAnswer: Paris',
    );
  });

  test('target letters are drawn uniformly from A-D by the caller rng', () => {
    const rng = new Rng(7);
    const counts: Record<string, number> = { A: 0, B: 0, C: 0, D: 0 };
    for (let i = 0; i < 4000; i++) counts[drawTargetLetter(rng)]++;
    for (const c of Object.values(counts)) expect(c).toBeGreaterThan(900);
    expect(Object.keys(counts).sort()).toEqual(['A', 'B', 'C', 'D']);
  });

  test('documents are joined in ascending index order, one per line', () => {
    expect(joinDocuments(['a', 'b', 'c', 'd'], [3, 0, 2])).toBe('a\nc\nd');
    expect(() => joinDocuments(['a'], [1])).toThrow(/outside the cluster/);
  });
});

describe('responder and grounding prompts', () => {
  const tasks: Task[] = ['docmath', 'qa', 'mc'];

  test.each(tasks)(
    'the %s responder prompt demands the answer sentence its rule check parses',
    (task) => {
      const prompt = responderPrompt({ task, documents: DOCS, question: 'Q?' });
      expect(prompt).toContain(`<text>\n${DOCS}\n</text>`);
      if (task === 'docmath') {
        expect(prompt).toContain('Therefore, the answer is (');
        expect(prompt).toContain('Question: Q?');
      } else {
        expect(prompt).toContain('The correct answer is (');
      }
      if (task === 'qa') expect(prompt).toContain('Question: Q?');
      if (task === 'mc') expect(prompt).not.toContain('Question:');
    },
  );

  test.each(tasks)('the %s grounding prompt puts "Empty" in the document slot', (task) => {
    const prompt = groundingPrompt({ task, question: 'Q?' });
    expect(prompt).toContain('<text>\nEmpty\n</text>');
    expect(prompt).toBe(responderPrompt({ task, documents: 'Empty', question: 'Q?' }));
  });
});

describe('verifier prompt', () => {
  test('has TASK / Instruction / Input Data / Output Format in order and the [[YES]]/[[NO]] contract', () => {
    const p = verifierPrompt({ problem: 'How many?', prediction: '12', reference: '12.0' });
    const at = ['## TASK', '## Instruction', '## Input Data', '## Output Format'].map((h) =>
      p.indexOf(h),
    );
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(p).toContain('[[YES]]');
    expect(p).toContain('[[NO]]');
    expect(p).toContain('Problem: How many?\n\nAnswer 1: 12\n\nAnswer 2: 12.0');
    expect(p).toContain('Decision:');
  });
});

describe('responder contract meets the rule check', () => {
  test.each([
    ['docmath', 'Step 1 ... Therefore, the answer is (12.5).', '12.5'],
    ['qa', 'The text says so. The correct answer is (Paris).', 'Paris'],
    ['mc', 'Option B fits. The correct answer is (B).', 'B'],
  ] as const)('a %s reply in the demanded format scores 1', (task, reply, reference) => {
    expect(ruleScore(task, reply, reference).score).toBe(1);
  });
});
