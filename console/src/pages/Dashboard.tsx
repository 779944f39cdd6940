import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import { TimeChart } from "../components/charts";
import { Badge, Card, ErrorBox, LagBadge, PageHeader, Spinner, Stat } from "../components/ui";
import { formatBytes, formatCompact, formatNumber, formatRate } from "../lib/format";
import { classifyLag } from "../lib/lag";
import { useCluster, useGroups, useHistory } from "../lib/queries";
import { useRefetchInterval, useSettings } from "../lib/settings";

export function Dashboard() {
  const cluster = useCluster();
  const history = useHistory();
  const groups = useGroups();
  const [settings] = useSettings();
  const refetchInterval = useRefetchInterval();
  const health = useQuery({ queryKey: ["health"], queryFn: api.health, refetchInterval });

  const samples = history.data?.samples ?? [];
  const data = samples.map((s) => ({
    t: s.at_ms,
    produce: s.produce_records_per_sec,
    consume: s.consume_records_per_sec,
    produceBytes: s.produce_bytes_per_sec,
    consumeBytes: s.consume_bytes_per_sec,
  }));
  const latest = samples.at(-1);
  const peak = samples.reduce((m, s) => Math.max(m, s.produce_records_per_sec), 0);
  const lagging = [...(groups.data?.items ?? [])].sort((a, b) => b.total_lag - a.total_lag).slice(0, 5);
  const alerts = lagging.filter((g) => classifyLag(g.total_lag, settings.lag) === "critical");
  const c = cluster.data;

  return (
    <div className="space-y-6">
      <PageHeader
        title="Dashboard"
        subtitle={c ? `Agent ${c.agent_id} · version ${c.version}` : undefined}
        actions={
          <Link to="/topics?create=1" className="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-500">
            + Create topic
          </Link>
        }
      />
      {cluster.error ? <ErrorBox error={cluster.error} retry={() => void cluster.refetch()} /> : null}
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        <Stat testId="stat-topics" label="Topics" value={c ? formatNumber(c.topics) : "…"} hint={c ? `${formatNumber(c.consumer_groups)} consumer groups` : undefined} />
        <Stat testId="stat-partitions" label="Partitions" value={c ? formatNumber(c.partitions) : "…"} />
        <Stat testId="stat-agents" label="Agents" value={c ? `${c.live_agents} / ${c.agents}` : "…"} hint="live / registered" />
        <Stat testId="stat-records" label="Records" value={c ? formatCompact(c.records) : "…"} hint={c ? `${formatBytes(c.bytes)} stored, all topics` : "stored, all topics"} />
      </div>
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Producer throughput (records/s)">
          <TimeChart label="Producer throughput" data={data} series={[{ key: "produce", label: "produce", color: "#0ea5e9" }]} unit=" rec/s" />
          <p className="mt-2 text-xs text-slate-500">
            Current: {formatRate(latest?.produce_records_per_sec)} · Peak: {formatRate(peak)} · {formatRate(latest?.produce_bytes_per_sec, "B")}
          </p>
        </Card>
        <Card title="Consumer throughput (records/s)">
          <TimeChart label="Consumer throughput" data={data} series={[{ key: "consume", label: "consume", color: "#10b981" }]} unit=" rec/s" />
          <p className="mt-2 text-xs text-slate-500">
            Current: {formatRate(latest?.consume_records_per_sec)} · {formatRate(latest?.consume_bytes_per_sec, "B")}
          </p>
        </Card>
      </div>
      <div className="grid gap-4 lg:grid-cols-3">
        <Card title={`Consumer lag${alerts.length ? ` · ${alerts.length} alert${alerts.length > 1 ? "s" : ""}` : ""}`} className="lg:col-span-2">
          {groups.isLoading ? (
            <Spinner />
          ) : groups.error ? (
            <ErrorBox error={groups.error} retry={() => void groups.refetch()} />
          ) : lagging.length === 0 ? (
            <p className="text-sm text-slate-500">No consumer groups yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Top lagging consumer groups">
              {lagging.map((g) => (
                <li key={g.group_id} className="flex items-center justify-between gap-2 py-2 text-sm">
                  <Link className="truncate text-sky-600 hover:underline dark:text-sky-400" to={`/consumer-groups/${encodeURIComponent(g.group_id)}`}>
                    {g.group_id}
                  </Link>
                  <span className="flex items-center gap-3">
                    <span className="tabular-nums">{formatNumber(g.total_lag)} behind</span>
                    <LagBadge lag={g.total_lag} thresholds={settings.lag} />
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Health">
          {health.isLoading ? (
            <Spinner />
          ) : (
            <div className="space-y-2 text-sm">
              <p className="flex items-center gap-2">
                Readiness:{" "}
                <Badge tone={health.data?.ready ? "green" : "red"} testId="health-badge">
                  {health.data?.ready ? "ready" : "not ready"}
                </Badge>
              </p>
              {health.data?.problems.map((p) => (
                <p key={p} className="text-red-600 dark:text-red-400">
                  {p}
                </p>
              ))}
              <p>
                Agents live: {c ? `${c.live_agents} of ${c.agents}` : "…"}{" "}
                {c && c.live_agents < c.agents ? <Badge tone="red">agent down</Badge> : null}
              </p>
              <p>Total lag: {formatNumber(latest?.total_lag)}</p>
              <p>Partitions led here: {formatNumber(latest?.partitions_led)}</p>
            </div>
          )}
        </Card>
      </div>
    </div>
  );
}
