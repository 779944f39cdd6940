// Client-side checks that mirror the server's (the server still has the last word).

/** Why a topic name is refused, or null if it is fine. Kafka's rule: 1..=249 of [a-zA-Z0-9._-], not "." or "..". */
export function topicNameError(name: string): string | null {
  if (!name) return "Name is required";
  if (name.length > 249) return "At most 249 characters";
  if (name === "." || name === "..") return "Cannot be \".\" or \"..\"";
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return "Only letters, digits, '.', '_' and '-'";
  return null;
}

/** Why a partition count is refused, or null. */
export function partitionsError(raw: string, max = 10000): string | null {
  if (!/^\d+$/.test(raw.trim())) return "A whole number";
  const n = Number(raw);
  if (n < 1) return "At least 1";
  if (n > max) return `At most ${max}`;
  return null;
}

/** Retention: empty (default), -1 (forever) or a positive number of hours. */
export function retentionHoursError(raw: string): string | null {
  const s = raw.trim();
  if (!s || s === "-1") return null;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) return "Positive hours, or -1 to keep forever";
  return null;
}
