// A small parser for the Prometheus text exposition format (what GET /metrics serves),
// so the Producers and Storage pages can read streamhouse_* families in the browser.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

function parseValue(raw: string): number {
  switch (raw) {
    case "+Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
    case "NaN":
      return NaN;
    default:
      return Number(raw);
  }
}

function parseLabels(body: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    while (body[i] === " " || body[i] === ",") i++;
    const eq = body.indexOf("=", i);
    if (eq < 0) break;
    const key = body.slice(i, eq).trim();
    i = eq + 1;
    if (body[i] !== '"') break;
    i++;
    let value = "";
    while (i < body.length && body[i] !== '"') {
      if (body[i] === "\\" && i + 1 < body.length) {
        const next = body[i + 1];
        value += next === "n" ? "\n" : next;
        i += 2;
      } else {
        value += body[i];
        i++;
      }
    }
    i++;
    labels[key] = value;
  }
  return labels;
}

/** The family a sample line belongs to: strips histogram/summary/counter suffixes. */
function familyOf(name: string, families: Map<string, Family>): string {
  if (families.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count", "_total", "_created"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (families.has(base)) return base;
    }
  }
  return name;
}

/** Parses the exposition text into families keyed by name (in order of appearance). */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const ensure = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: "untyped", help: "", samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (!line || line === "# EOF") continue;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
      if (m) {
        const f = ensure(m[2]!);
        if (m[1] === "TYPE") f.type = m[3]!;
        else f.help = m[3]!;
      }
      continue;
    }
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      const close = line.lastIndexOf("}");
      labels = parseLabels(line.slice(brace + 1, close));
      rest = line.slice(close + 1).trim();
    } else {
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const value = parseValue(rest.split(/\s+/)[0] ?? "NaN");
    ensure(familyOf(name, families)).samples.push({ name, labels, value });
  }
  return families;
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sum(families: Map<string, Family>, name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  }
  return total;
}

/** Samples named `name`, grouped by the value of `label`, summed. */
export function sumBy(families: Map<string, Family>, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const key = s.labels[label] ?? "";
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
  }
  return out;
}

/** A histogram's cumulative bucket counts by upper bound, summed over other labels. */
export function buckets(families: Map<string, Family>, name: string, match: Record<string, string> = {}): Map<number, number> {
  const out = new Map<number, number>();
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== `${name}_bucket`) continue;
      if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
      const le = parseValue(s.labels.le ?? "NaN");
      out.set(le, (out.get(le) ?? 0) + s.value);
    }
  }
  return out;
}

/** Bucket counts observed between two scrapes (a counter reset counts from zero). */
export function deltaBuckets(current: Map<number, number>, previous: Map<number, number> | undefined): Map<number, number> {
  if (!previous) return current;
  const out = new Map<number, number>();
  let reset = false;
  for (const [le, count] of current) if (count < (previous.get(le) ?? 0)) reset = true;
  for (const [le, count] of current) out.set(le, reset ? count : count - (previous.get(le) ?? 0));
  return out;
}

/**
 * The q-quantile (0..1) of cumulative buckets, interpolated linearly inside the bucket
 * like PromQL's histogram_quantile. NaN when there are no observations.
 */
export function quantile(bucketCounts: Map<number, number>, q: number): number {
  const sorted = [...bucketCounts.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!total) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      const inBucket = count - prevCount;
      if (inBucket <= 0) return bound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / inBucket;
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** The q-quantile of a histogram since the agent started. */
export function histogramQuantile(families: Map<string, Family>, name: string, q: number, match: Record<string, string> = {}): number {
  return quantile(buckets(families, name, match), q);
}
