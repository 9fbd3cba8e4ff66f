/**
 * A TEST PEER for the OpenAI-compatible HTTP protocol: a tiny node:http server that plays the
 * three SPELL roles deterministically from the prompts it is shown, so a test can check that
 * kept questions flow end to end (the bundled random model only produces format errors). It is
 * not a stand-in for any part of spell: spell's own prompts, parsing, checks and bookkeeping all
 * run unchanged against it.
 *
 * - questioner: builds a valid JSON question from words of the documents it was shown; every
 *   third questioner call on a task repeats that task's previous question (to exercise the
 *   near-duplicate check);
 * - grounding (documents "Empty"): answers correctly for questions whose hash is 0 mod 5, else
 *   "unknown";
 * - responder: of n answers, the first k are right, k = hash(question) mod (n + 1);
 * - verifier: [[YES]] when Answer 1 equals Answer 2, else [[NO]].
 * `/tokenize` is not offered (404), as on many hosted APIs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Made {
  readonly answer: string;
  readonly task: 'docmath' | 'qa' | 'mc';
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export class RolePeer {
  readonly questions = new Map<string, Made>();
  readonly calls = { questioner: 0, grounding: 0, responder: 0, verifier: 0 };
  private readonly lastByTask = new Map<string, { question: string; json: string }>();
  private perTask = new Map<string, number>();
  private server: Server | undefined;

  private questioner(content: string): string {
    const task = content.includes('multiple-choice')
      ? 'mc'
      : content.includes('numerical reasoning')
        ? 'docmath'
        : 'qa';
    const n = (this.perTask.get(task) ?? 0) + 1;
    this.perTask.set(task, n);
    const last = this.lastByTask.get(task);
    if (n % 3 === 0 && last !== undefined) return `Same again.\n\`\`\`json\n${last.json}\n\`\`\``;
    const docs = /<text>\n([\s\S]*?)\n<\/text>/.exec(content)?.[1] ?? '';
    const words = [...new Set(docs.match(/\b[A-Z][a-z]{3,}\b/g) ?? ['Nothing'])];
    const pick = (i: number): string => words[(n * 7 + i * 13) % words.length];
    const question = `Considering ${pick(0)}, ${pick(1)} and ${pick(2)} (case ${task}-${n}), which name links ${pick(3)} with ${pick(4)}?`;
    let json: string;
    let answer: string;
    if (task === 'mc') {
      answer = /The correct option MUST be ([A-D])/.exec(content)?.[1] ?? 'A';
      json = JSON.stringify({
        question,
        options: { A: pick(5), B: pick(6), C: pick(7), D: pick(8) },
        answer,
      });
    } else if (task === 'docmath') {
      answer = String(n + 0.5);
      json = JSON.stringify({ question, answer: n + 0.5 });
    } else {
      answer = pick(9);
      json = JSON.stringify({ question, answer });
    }
    this.questions.set(question, { answer, task });
    this.lastByTask.set(task, { question, json });
    return `Reasoning: the documents mention these names.\n\`\`\`json\n${json}\n\`\`\``;
  }

  private find(content: string): [string, Made] | undefined {
    for (const entry of this.questions) if (content.includes(entry[0])) return entry;
    return undefined;
  }

  private say(made: Made, right: boolean): string {
    const value = right
      ? made.answer
      : made.task === 'mc'
        ? made.answer === 'A'
          ? 'B'
          : 'A'
        : made.task === 'docmath'
          ? '987654'
          : 'Zzyzx';
    return made.task === 'docmath'
      ? `Therefore, the answer is (${value}).`
      : `The correct answer is (${value}).`;
  }

  private reply(content: string, n: number): string[] {
    if (content.includes('## Principles')) {
      this.calls.questioner++;
      return [this.questioner(content)];
    }
    if (content.includes('## TASK')) {
      this.calls.verifier++;
      const a1 = /Answer 1: (.*)/.exec(content)?.[1].trim();
      const a2 = /Answer 2: (.*)/.exec(content)?.[1].trim();
      const verdict = a1 === a2 ? 'Decision: [[YES]]' : 'Decision: [[NO]]';
      return Array.from({ length: n }, () => `Explanation: compared.\n${verdict}`);
    }
    const found = this.find(content);
    if (content.includes('<text>\nEmpty\n</text>')) {
      this.calls.grounding++;
      const leak = found !== undefined && hash(found[0]) % 5 === 0;
      return [found && leak ? this.say(found[1], true) : 'The correct answer is (unknown).'];
    }
    this.calls.responder++;
    if (found === undefined) return Array.from({ length: n }, () => 'I cannot tell.');
    const k = hash(found[0]) % (n + 1);
    return Array.from({ length: n }, (_, i) => this.say(found[1], i < k));
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `no route ${req.url ?? ''}` } }));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          model: string;
          n?: number;
          messages: { content: string }[];
        };
        const content = body.messages[body.messages.length - 1].content;
        const texts = this.reply(content, body.n ?? 1);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'peer',
            object: 'chat.completion',
            created: 0,
            model: body.model,
            choices: texts.map((t, index) => ({
              index,
              message: { role: 'assistant', content: t },
              finish_reason: 'stop',
            })),
            usage: {
              prompt_tokens: Math.ceil(content.length / 4),
              completion_tokens: texts.reduce((s, t) => s + Math.ceil(t.length / 4), 0),
              total_tokens: 0,
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/v1`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
