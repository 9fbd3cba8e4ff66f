/**
 * A Tinker client session: `create_session` once, then `session_heartbeat` every 10 s for as long
 * as the client lives (SkyRL unloads the models of a session that stays silent for 300 s).
 * The timer is unref'd, so a forgotten `close()` never keeps the process alive.
 */
import { RemoteEngineError } from '../../core/errors.ts';
import type { TinkerHttp } from './http.ts';
import { WIRE_SDK_VERSION, createSessionResultSchema } from './wire.ts';

export class TinkerSession {
  /** Heartbeats that failed in a row (a warning sign; the next call usually fails too). */
  failedBeats = 0;
  lastBeatError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private modelSeq = 0;
  private samplingSeq = 0;

  private constructor(
    private readonly http: TinkerHttp,
    readonly sessionId: string,
  ) {}

  /** Open a session and start heartbeats every `heartbeatMs` (default 10 000; 0 disables). */
  static async open(
    http: TinkerHttp,
    tags: readonly string[],
    heartbeatMs = 10_000,
  ): Promise<TinkerSession> {
    const endpoint = '/api/v1/create_session';
    const res = await http.call('POST', endpoint, {
      tags: [...tags],
      user_metadata: null,
      sdk_version: WIRE_SDK_VERSION,
      type: 'create_session',
    });
    const parsed = createSessionResultSchema.safeParse(res.body);
    if (!parsed.success) {
      throw new RemoteEngineError(
        'create_session answered without a session_id',
        endpoint,
        res.status,
        res.body,
      );
    }
    const session = new TinkerSession(http, parsed.data.session_id);
    session.startBeats(heartbeatMs);
    return session;
  }

  /** Drive an existing session id (no create_session call); heartbeats as in `open`. */
  static attach(http: TinkerHttp, sessionId: string, heartbeatMs = 10_000): TinkerSession {
    const session = new TinkerSession(http, sessionId);
    session.startBeats(heartbeatMs);
    return session;
  }

  private startBeats(heartbeatMs: number): void {
    if (heartbeatMs > 0) {
      this.timer = setInterval(() => void this.beat(), heartbeatMs);
      this.timer.unref();
    }
  }

  /** Next `model_seq_id` (per session, from 0). */
  nextModelSeq(): number {
    return this.modelSeq++;
  }

  /** Next `sampling_session_seq_id` (per session, from 0; shared with ephemeral saves). */
  nextSamplingSeq(): number {
    return this.samplingSeq++;
  }

  /** One heartbeat; failures are recorded, never thrown (the timer must not crash the process). */
  async beat(): Promise<void> {
    try {
      await this.http.call('POST', '/api/v1/session_heartbeat', {
        session_id: this.sessionId,
        type: 'session_heartbeat',
      });
      this.failedBeats = 0;
      this.lastBeatError = undefined;
    } catch (err) {
      this.failedBeats++;
      this.lastBeatError = err instanceof Error ? err.message : String(err);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
