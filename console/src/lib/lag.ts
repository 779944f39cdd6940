// Lag classification: the roadmap's badges (red > 1000, yellow > 100, green otherwise),
// with thresholds the user can change in Settings.

export type LagLevel = "ok" | "warn" | "critical";

export interface LagThresholds {
  /** Lag above this is yellow. */
  warn: number;
  /** Lag above this is red. */
  critical: number;
}

export const DEFAULT_THRESHOLDS: LagThresholds = { warn: 100, critical: 1000 };

export function classifyLag(lag: number | null | undefined, t: LagThresholds = DEFAULT_THRESHOLDS): LagLevel {
  if (lag === null || lag === undefined || lag <= t.warn) return "ok";
  if (lag > t.critical) return "critical";
  return "warn";
}

export const LAG_LABEL: Record<LagLevel, string> = { ok: "OK", warn: "MEDIUM", critical: "HIGH" };
