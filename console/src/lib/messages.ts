// Decoding, filtering and exporting browsed records.
import type { Message, Shown } from "../api/client";

/** How the browser shows keys and values: the server's formats plus hex (from base64). */
export type ViewFormat = "text" | "json" | "base64" | "hex";

/** The server format to ask for, for a view format. */
export function serverFormat(view: ViewFormat): "text" | "json" | "base64" {
  return view === "hex" ? "base64" : view;
}

export function base64ToHex(b64: string): string {
  const bin = atob(b64);
  let out = "";
  for (let i = 0; i < bin.length; i++) {
    out += bin.charCodeAt(i).toString(16).padStart(2, "0");
    if (i % 2 === 1 && i + 1 < bin.length) out += " ";
  }
  return out;
}

/** A key, value or header value as a display string; null stays null. */
export function showValue(shown: Shown | null | undefined, view: ViewFormat, pretty = false): string | null {
  if (!shown) return null;
  const data = shown.data as unknown;
  if (shown.encoding === "json") return JSON.stringify(data, null, pretty ? 2 : undefined);
  if (shown.encoding === "base64" && view === "hex") return base64ToHex(String(data));
  return String(data);
}

export interface MessageFilter {
  /** Substring the key must contain. */
  key: string;
  /** Substring that the key, value or a header must contain. */
  text: string;
}

export function matches(m: Message, f: MessageFilter, view: ViewFormat): boolean {
  const key = showValue(m.key, view) ?? "";
  if (f.key && !key.includes(f.key)) return false;
  if (!f.text) return true;
  const haystack = [key, showValue(m.value, view) ?? "", ...m.headers.map((h) => `${h.key}=${showValue(h.value, view) ?? ""}`)];
  return haystack.some((s) => s.includes(f.text));
}

/** Adds records not seen yet (by partition and offset), newest last, keeping at most `cap`. */
export function mergeMessages(old: Message[], incoming: Message[], cap = 1000): Message[] {
  const seen = new Set(old.map((m) => `${m.partition}:${m.offset}`));
  const merged = [...old];
  for (const m of incoming) {
    const id = `${m.partition}:${m.offset}`;
    if (!seen.has(id)) {
      seen.add(id);
      merged.push(m);
    }
  }
  merged.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
  return merged.slice(-cap);
}

function csvCell(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header row: partition, offset, timestamp, key, value, headers (as JSON). */
export function toCsv(messages: Message[], view: ViewFormat): string {
  const rows = [["partition", "offset", "timestamp", "key", "value", "headers"].join(",")];
  for (const m of messages) {
    const headers = JSON.stringify(Object.fromEntries(m.headers.map((h) => [h.key, showValue(h.value, view)])));
    rows.push(
      [m.partition, m.offset, new Date(m.timestamp).toISOString(), showValue(m.key, view), showValue(m.value, view), m.headers.length ? headers : ""]
        .map(csvCell)
        .join(","),
    );
  }
  return `${rows.join("\n")}\n`;
}

/** JSON export: the records as the API returned them. */
export function toJson(messages: Message[]): string {
  return `${JSON.stringify(messages, null, 2)}\n`;
}

export function download(filename: string, body: string, type: string) {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
