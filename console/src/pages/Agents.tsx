import { useQueries } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import { Badge, Card, PageHeader, Table, TableState, cx, td, th } from "../components/ui";
import { formatDuration, formatTimestamp } from "../lib/format";
import { useAgents, useTopics } from "../lib/queries";

/** Topics whose leaders are read for the assignment view (one request each). */
const MAX_TOPICS_FOR_MAP = 50;

export function AgentsPage() {
  const agents = useAgents();
  const topics = useTopics();
  const [params] = useSearchParams();
  const selected = params.get("id");
  const details = useQueries({
    queries: (topics.data?.items ?? []).slice(0, MAX_TOPICS_FOR_MAP).map((t) => ({
      queryKey: ["topic", t.name],
      queryFn: () => api.topic(t.name),
    })),
  });
  const led = new Map<string, string[]>();
  for (const d of details) {
    for (const p of d.data?.partitions ?? []) {
      if (!p.leader) continue;
      const list = led.get(p.leader) ?? [];
      list.push(`${d.data?.name}-${p.partition}`);
      led.set(p.leader, list);
    }
  }
  const list = agents.data ?? [];
  const racks = new Map<string, typeof list>();
  for (const a of list) {
    const rack = a.rack ?? "no rack";
    racks.set(rack, [...(racks.get(rack) ?? []), a]);
  }
  return (
    <div className="space-y-6">
      <PageHeader title="Cluster agents" subtitle={`${list.filter((a) => a.status === "live").length} live of ${list.length}`} />
      <Table label="Agents">
        <thead>
          <tr>
            <th className={th}>Agent</th>
            <th className={th}>Address</th>
            <th className={th}>Rack</th>
            <th className={th}>Status</th>
            <th className={th}>Partitions</th>
            <th className={th}>Uptime</th>
            <th className={th}>Last heartbeat</th>
          </tr>
        </thead>
        <tbody>
          <TableState colSpan={7} isLoading={agents.isLoading} error={agents.error} retry={() => void agents.refetch()} isEmpty={list.length === 0} empty="No agents registered." />
          {list.map((a) => (
            <tr key={a.agent_id} data-testid="agent-row" className={cx(selected === a.agent_id && "bg-sky-50 dark:bg-sky-950/40")}>
              <td className={cx(td, "font-mono text-xs")}>{a.agent_id}</td>
              <td className={td}>{a.address}</td>
              <td className={td}>{a.rack ?? "—"}</td>
              <td className={td}>
                <Badge tone={a.status === "live" ? "green" : "red"}>{a.status === "live" ? "● live" : `● ${a.status}`}</Badge>
              </td>
              <td className={cx(td, "tabular-nums")}>{a.partitions}</td>
              <td className={td}>{formatDuration(a.uptime_ms / 1000)}</td>
              <td className={cx(td, "text-xs")}>{formatTimestamp(a.heartbeat_at_ms)}</td>
            </tr>
          ))}
        </tbody>
      </Table>
      <Card title="Cluster map">
        {list.length === 0 ? (
          <p className="text-sm text-slate-500">No agents.</p>
        ) : (
          <div className="grid gap-4 md:grid-cols-[repeat(auto-fit,minmax(14rem,1fr))]">
            {[...racks.entries()].map(([rack, members]) => (
              <div key={rack} className="rounded-md border border-dashed border-slate-300 p-3 dark:border-slate-700">
                <p className="mb-2 text-xs font-semibold text-slate-500 uppercase">{rack}</p>
                <div className="flex flex-wrap gap-2">
                  {members.map((a) => (
                    <div key={a.agent_id} className={cx("rounded-md border p-2 text-xs", a.status === "live" ? "border-emerald-500" : "border-red-500")}>
                      <p className="max-w-[12rem] truncate font-mono" title={a.agent_id}>
                        {a.agent_id}
                      </p>
                      <p>{a.partitions} partitions</p>
                      <div className="mt-1 flex h-2 w-32 overflow-hidden rounded bg-slate-200 dark:bg-slate-800" aria-hidden>
                        <div className="bg-sky-500" style={{ width: `${Math.min(100, (a.partitions / Math.max(1, ...list.map((x) => x.partitions))) * 100)}%` }} />
                      </div>
                    </div>
                  ))}
                </div>
              </div>
            ))}
          </div>
        )}
      </Card>
      <Card title="Partition leases">
        {list.map((a) => {
          const parts = led.get(a.agent_id) ?? [];
          return (
            <div key={a.agent_id} className="mb-3 text-sm">
              <p className="font-mono text-xs text-slate-500">{a.agent_id}</p>
              <p className="mt-1 flex flex-wrap gap-1">
                {parts.length ? parts.map((p) => <Badge key={p}>{p}</Badge>) : <span className="text-slate-500">none</span>}
              </p>
            </div>
          );
        })}
        {(topics.data?.total ?? 0) > MAX_TOPICS_FOR_MAP && <p className="text-xs text-slate-500">Showing the first {MAX_TOPICS_FOR_MAP} topics.</p>}
      </Card>
    </div>
  );
}
