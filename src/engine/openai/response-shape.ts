/**
 * The shape of a completion body, checked before anything reads it. The SDK parses JSON but does
 * not validate it, and a server (or a proxy in front of one) can answer HTTP 200 with `{}`, an
 * error object, `null`, or choices of the wrong kind. Each of those becomes a RemoteEngineError
 * that names the endpoint and what was wrong, so callers count it like any failed request instead
 * of crashing on a TypeError — or, worse, scoring a missing answer as an empty one.
 */
import { RemoteEngineError } from '../../core/errors.ts';

/** One choice as read from the wire: its index, text (chat: null content is "") and finish reason. */
export interface RawChoice {
  readonly index: number;
  readonly text: string;
  readonly finishReason: unknown;
  readonly reasoning?: string;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function describe(x: unknown): string {
  if (x === undefined) return 'missing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a list';
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

/**
 * The choices of a `/chat/completions` (`kind` "chat") or `/completions` ("text") body.
 * @throws RemoteEngineError naming the endpoint and the first field that is missing or wrong
 */
export function readChoices(body: unknown, endpoint: string, kind: 'chat' | 'text'): RawChoice[] {
  const bad = (what: string): never => {
    throw new RemoteEngineError(`${endpoint} answered HTTP 200 but ${what}`, endpoint, 200, body);
  };
  if (!isObject(body)) return bad(`the body is ${describe(body)}, not a completion object`);
  const { choices } = body;
  if (!Array.isArray(choices)) {
    const error = isObject(body.error) ? body.error.message : body.error;
    return bad(
      choices === undefined
        ? `without "choices"${typeof error === 'string' ? ` (error: ${error.slice(0, 200)})` : ''}`
        : `"choices" is ${describe(choices)}, not a list`,
    );
  }
  return choices.map((c: unknown, i): RawChoice => {
    if (!isObject(c)) return bad(`choices[${i}] is ${describe(c)}, not an object`);
    const index = c.index ?? i;
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      return bad(`choices[${i}].index is ${JSON.stringify(index)}, not an integer`);
    }
    if (kind === 'text') {
      if (typeof c.text !== 'string')
        return bad(`choices[${i}].text is ${describe(c.text)}, not a string`);
      return { index, text: c.text, finishReason: c.finish_reason };
    }
    const message = c.message;
    if (!isObject(message))
      return bad(`choices[${i}].message is ${describe(message)}, not an object`);
    const content = message.content ?? '';
    if (typeof content !== 'string') {
      return bad(`choices[${i}].message.content is ${describe(content)}, not a string`);
    }
    const reasoning = message.reasoning_content;
    return {
      index,
      text: content,
      finishReason: c.finish_reason,
      ...(typeof reasoning === 'string' ? { reasoning } : {}),
    };
  });
}
