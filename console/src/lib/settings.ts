// User preferences, kept in localStorage under one key.
import { useSyncExternalStore } from "react";
import { DEFAULT_THRESHOLDS, type LagThresholds } from "./lag";

export type Theme = "dark" | "light";

export interface Settings {
  /** Poll interval in ms; 0 turns polling off (the WebSocket still updates). */
  refreshMs: number;
  lag: LagThresholds;
  theme: Theme;
}

export const REFRESH_CHOICES = [
  { label: "5s", ms: 5000 },
  { label: "10s", ms: 10000 },
  { label: "30s", ms: 30000 },
  { label: "off", ms: 0 },
] as const;

export const DEFAULT_SETTINGS: Settings = { refreshMs: 5000, lag: DEFAULT_THRESHOLDS, theme: "dark" };
const KEY = "streamhouse.settings";

/** Reads saved settings, falling back field by field to the defaults. */
export function parseSettings(raw: string | null): Settings {
  try {
    const s = JSON.parse(raw ?? "{}") as Partial<Settings>;
    const refresh = REFRESH_CHOICES.some((c) => c.ms === s.refreshMs) ? s.refreshMs! : DEFAULT_SETTINGS.refreshMs;
    const warn = Number(s.lag?.warn);
    const critical = Number(s.lag?.critical);
    const lag =
      Number.isFinite(warn) && Number.isFinite(critical) && warn >= 0 && critical >= warn
        ? { warn, critical }
        : DEFAULT_SETTINGS.lag;
    return { refreshMs: refresh, lag, theme: s.theme === "light" ? "light" : "dark" };
  } catch {
    return DEFAULT_SETTINGS;
  }
}

let current: Settings = parseSettings(typeof localStorage === "undefined" ? null : localStorage.getItem(KEY));
const listeners = new Set<() => void>();

function applyTheme(theme: Theme) {
  if (typeof document !== "undefined") document.documentElement.classList.toggle("dark", theme === "dark");
}
applyTheme(current.theme);

export function saveSettings(next: Settings) {
  current = next;
  try {
    localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Private mode or full storage: keep the settings for this tab only.
  }
  applyTheme(next.theme);
  listeners.forEach((l) => l());
}

export function useSettings(): [Settings, (s: Settings) => void] {
  const s = useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => current,
  );
  return [s, saveSettings];
}

/** TanStack Query's refetchInterval for the user's choice. */
export function useRefetchInterval(): number | false {
  const [s] = useSettings();
  return s.refreshMs > 0 ? s.refreshMs : false;
}
