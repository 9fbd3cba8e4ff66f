/** The dashboard's JSON API and event stream, typed as the server sends them. */
import type { ChartSpec } from '../../report/chart-specs.ts';

export type MetricsRow = Record<string, number>;

export interface Facets {
  readonly roles: Record<string, number>;
  readonly tasks: Record<string, number>;
  readonly labels: Record<string, number>;
}

export interface RunInfo {
  readonly id: number;
  readonly name: string;
  readonly root: string;
  steps: number[];
  facets: Facets;
  metricKeys: string[];
}

export interface RunsAnswer {
  readonly charts: ChartSpec[];
  readonly runs: RunInfo[];
}

export interface SampleRow {
  readonly step: number;
  readonly line: number;
  readonly role: string;
  readonly task: string;
  readonly label: string | null;
  readonly reward: number | null;
  readonly advantage: number | null;
  readonly trained: boolean;
  readonly uid: string;
  readonly snippet: string;
  readonly detail: Record<string, unknown>;
}

export interface SamplePage {
  readonly total: number;
  readonly offset: number;
  readonly rows: SampleRow[];
}

export type Rec = Record<string, unknown>;

export interface QuestionStory {
  readonly step: number;
  readonly uid: string;
  readonly questioner: Rec | null;
  readonly responders: Rec[];
  readonly verifiers: Rec[];
  readonly cluster:
    | { id: string; ok: true; documents: string[] }
    | { id: string; ok: false; reason: string }
    | null;
}

export interface MetricsEvent {
  readonly run: number;
  readonly reset: boolean;
  readonly rows: MetricsRow[];
}

export interface StepsEvent {
  readonly run: number;
  readonly steps: number[];
  readonly changed: number[];
  readonly facets: Facets;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `${path}: HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}
