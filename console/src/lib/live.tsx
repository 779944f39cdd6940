// The live feed: one WebSocket to /ws per tab. metric_update samples are appended to the
// metrics-history query, lag changes refresh the group queries, lag_alert and agent
// down raise toasts. It reconnects with backoff; while it is down, pages poll instead.
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import type { LiveEvent, MetricHistory } from "../api/client";
import { useToast } from "../components/toasts";
import { formatNumber } from "./format";

export type LiveStatus = "connecting" | "open" | "closed";

const LiveContext = createContext<LiveStatus>("connecting");

export function useLiveStatus() {
  return useContext(LiveContext);
}

export const HISTORY_KEY = ["metrics-history"] as const;

/** Adds a sample to a history, keeping it sorted, unique by time and bounded. */
export function appendSample(history: MetricHistory | undefined, sample: MetricHistory["samples"][number]) {
  if (!history) return history;
  if (history.samples.some((s) => s.at_ms === sample.at_ms)) return history;
  const cap = Math.max(1, Math.ceil(history.history_ms / Math.max(1, history.interval_ms)));
  const samples = [...history.samples, sample].sort((a, b) => a.at_ms - b.at_ms).slice(-cap);
  return { ...history, samples };
}

export function wsUrl(loc: Pick<Location, "protocol" | "host">) {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws`;
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const queryClient = useQueryClient();
  const toast = useToast();
  const toastRef = useRef(toast);
  toastRef.current = toast;

  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    const agentState = new Map<string, string>();
    // One sample can carry a lag_update per busy group; refetch the groups once for all
    // of them, not once per event.
    let groupsRefetch: ReturnType<typeof setTimeout> | undefined;
    const refetchGroupsSoon = () => {
      if (groupsRefetch !== undefined) return;
      groupsRefetch = setTimeout(() => {
        groupsRefetch = undefined;
        void queryClient.invalidateQueries({ queryKey: ["groups"] });
      }, 250);
    };

    const onEvent = (event: LiveEvent) => {
      switch (event.type) {
        case "metric_update":
          queryClient.setQueryData<MetricHistory>(HISTORY_KEY, (old) => appendSample(old, event.data));
          break;
        case "lag_update":
          refetchGroupsSoon();
          break;
        case "lag_alert":
          toastRef.current(
            "warn",
            `Consumer lag alert: ${event.data.group}`,
            `${formatNumber(event.data.lag)} records behind (threshold ${formatNumber(event.data.threshold)})`,
          );
          refetchGroupsSoon();
          break;
        case "agent_status": {
          const before = agentState.get(event.data.agent_id);
          agentState.set(event.data.agent_id, event.data.status);
          if (event.data.status === "down" && before !== "down") {
            toastRef.current("error", `Agent down: ${event.data.agent_id}`, `${event.data.address} missed its heartbeats`);
          } else if (event.data.status === "live" && before === "down") {
            toastRef.current("success", `Agent back: ${event.data.agent_id}`);
          }
          void queryClient.invalidateQueries({ queryKey: ["agents"] });
          break;
        }
        case "error":
          // Events were dropped: refetch everything over REST.
          void queryClient.invalidateQueries();
          break;
        case "hello":
          break;
      }
    };

    const connect = () => {
      if (stopped) return;
      setStatus("connecting");
      socket = new WebSocket(wsUrl(window.location));
      socket.onopen = () => {
        attempt = 0;
        setStatus("open");
      };
      socket.onmessage = (m) => {
        try {
          onEvent(JSON.parse(String(m.data)) as LiveEvent);
        } catch {
          // Not JSON: ignore rather than break the feed.
        }
      };
      socket.onclose = () => {
        setStatus("closed");
        if (stopped) return;
        attempt++;
        retry = setTimeout(connect, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)));
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(groupsRefetch);
      socket?.close();
    };
  }, [queryClient]);

  return <LiveContext.Provider value={status}>{children}</LiveContext.Provider>;
}
