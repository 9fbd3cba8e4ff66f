/** Named event counters of one training step (bad_format, dropped over-long, invalid votes, ...). */
export class Counters {
  private readonly values = new Map<string, number>();

  add(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** A flat record with every counter under `count/<name>`. */
  toMetrics(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of [...this.values.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      out[`count/${k}`] = v;
    }
    return out;
  }
}
