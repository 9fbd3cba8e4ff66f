/**
 * Thinking-model handling shared by every extractor: an unfinished `<think>` block means "no
 * answer", otherwise only the text after the last `</think>` counts. Also the per-task answer
 * region (the text the answer parser reads), which adds trigger words and a tail fallback.
 */
import { lastCodePoints, pyStrip } from '../../text/normalize.ts';

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';

/** The literal the reference returns for an unfinished thinking block; parses to no answer. */
export const UNFINISHED_THINKING = 'Empty';

/**
 * The final solution text of a (possibly thinking) model response.
 * - `<think>` present but no `</think>` → the literal "Empty";
 * - otherwise the text after the last `</think>`, stripped (the whole text if there is none).
 * @example extractSolution('<think>hm</think>\n Answer: 4 ') === 'Answer: 4'
 */
export function extractSolution(text: string): string {
  if (text.includes(THINK_OPEN) && !text.includes(THINK_CLOSE)) return UNFINISHED_THINKING;
  const at = text.lastIndexOf(THINK_CLOSE);
  return pyStrip(at < 0 ? text : text.slice(at + THINK_CLOSE.length));
}

/**
 * The text an answer parser reads, as each reference scorer picks it:
 * unfinished thinking → "Empty"; else if the response contains `</think>` or one of `triggers`
 * → {@link extractSolution}; else the last `tailChars` characters. When that region is empty the
 * reference falls back to the whole response ("Empty" is not empty, so it never falls back).
 */
export function answerRegion(
  response: string,
  triggers: readonly string[],
  tailChars: number,
): string {
  let region: string;
  if (response.includes(THINK_OPEN) && !response.includes(THINK_CLOSE)) {
    region = UNFINISHED_THINKING;
  } else if (response.includes(THINK_CLOSE) || triggers.some((t) => response.includes(t))) {
    region = extractSolution(response);
  } else {
    region = lastCodePoints(response, tailChars);
  }
  return region.length > 0 ? region : response;
}
