/**
 * The worker side of TokenizerPool: loads a tokenizer folder and answers encode / chat-render
 * requests, so a long prompt is tokenized off the server's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { renderChat } from '../text/chat.ts';
import { loadTokenizer } from '../text/tokenizer.ts';
import type { TokenizerJob, TokenizerReply } from './tokenizer-pool.ts';

const port = parentPort;
if (!port) throw new Error('tokenizer-worker.ts must run in a worker thread');
const tok = loadTokenizer((workerData as { dir: string }).dir);
let longest = 1;
for (let id = 0; id < tok.vocabSize; id++) {
  const t = tok.idToToken(id);
  if (t !== undefined && t.length > longest) longest = t.length;
}
port.postMessage({ ready: true, longestTokenChars: longest });

port.on('message', (job: TokenizerJob) => {
  let reply: TokenizerReply;
  try {
    const ids =
      job.op === 'encode'
        ? tok.encode(job.text, { addSpecialTokens: job.addSpecialTokens })
        : renderChat(tok, job.messages, job.options).ids;
    reply = { id: job.id, ok: true, ids };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = { id: job.id, ok: false, errorName: e.name, message: e.message };
  }
  port.postMessage(reply);
});
