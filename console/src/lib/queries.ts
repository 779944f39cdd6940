// Shared queries, so pages and the live feed agree on keys.
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { HISTORY_KEY, useLiveStatus } from "./live";
import { parsePrometheus, sum } from "./prometheus";
import { useRefetchInterval } from "./settings";

export function useHistory() {
  const live = useLiveStatus();
  const interval = useRefetchInterval();
  // The WebSocket appends samples while it is open; poll only as a fallback.
  return useQuery({ queryKey: HISTORY_KEY, queryFn: () => api.metricsHistory(), refetchInterval: live === "open" ? false : interval });
}

export function useCluster() {
  return useQuery({ queryKey: ["cluster"], queryFn: api.cluster, refetchInterval: useRefetchInterval() });
}

export function useTopics() {
  return useQuery({ queryKey: ["topics"], queryFn: api.listTopics, refetchInterval: useRefetchInterval() });
}

export function useGroups() {
  return useQuery({ queryKey: ["groups"], queryFn: api.listGroups, refetchInterval: useRefetchInterval() });
}

export function useAgents() {
  return useQuery({ queryKey: ["agents"], queryFn: api.agents, refetchInterval: useRefetchInterval() });
}

/** One scrape of /metrics. */
export interface Scrape {
  at: number;
  families: ReturnType<typeof parsePrometheus>;
}

/** Scrapes taken since the console was opened (for rates and short trends). */
const scrapes: Scrape[] = [];
const MAX_SCRAPES = 180;

export function usePrometheus() {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: ["prometheus"],
    queryFn: async (): Promise<Scrape> => {
      const scrape = { at: Date.now(), families: parsePrometheus(await api.prometheus()) };
      scrapes.push(scrape);
      if (scrapes.length > MAX_SCRAPES) scrapes.shift();
      return scrape;
    },
    // A second scrape a second after the first, so rates show without waiting a full
    // interval (also when polling is off); then the user's interval.
    refetchInterval: () => (scrapes.length < 2 ? 1000 : interval),
    // Keep the very object pushed above, so useScrapePair can find it in `scrapes`.
    structuralSharing: false,
  });
}

/** The latest scrape, the one before it (for counter rates) and all kept so far. */
export function useScrapePair() {
  const q = usePrometheus();
  const i = q.data ? scrapes.lastIndexOf(q.data) : -1;
  return {
    current: q.data,
    previous: i > 0 ? scrapes[i - 1] : undefined,
    series: i >= 0 ? scrapes.slice(0, i + 1) : [],
    isLoading: q.isLoading,
    error: q.error,
    refetch: () => void q.refetch(),
  };
}

/** Per-second rate of a counter between two scrapes (0 after a reset). */
export function counterRate(current: Scrape | undefined, previous: Scrape | undefined, metric: string, match: Record<string, string> = {}) {
  if (!current || !previous) return undefined;
  const dt = (current.at - previous.at) / 1000;
  if (dt <= 0) return undefined;
  return Math.max(0, (sum(current.families, metric, match) - sum(previous.families, metric, match)) / dt);
}
