import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { TimeChart } from "../components/charts";
import { Card, ErrorBox, PageHeader, Spinner, Stat, Table, TableState, cx, td, th } from "../components/ui";
import { formatBytes, formatCompact, formatNumber, formatPercent, formatRate, formatSeconds } from "../lib/format";
import { buckets, deltaBuckets, quantile, sum, sumBy } from "../lib/prometheus";
import { counterRate, useScrapePair } from "../lib/queries";

const ACK = "streamhouse_producer_ack_latency_seconds";
const BATCH = "streamhouse_producer_batch_records";

export function ProducersPage() {
  const { current, previous, series, isLoading, error, refetch } = useScrapePair();
  if (isLoading) return <Spinner />;
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (!current) return null;
  const f = current.families;

  const records = sumBy(f, "streamhouse_producer_records_total", "topic");
  const bytes = sumBy(f, "streamhouse_producer_bytes_total", "topic");
  const prevRecords = previous ? sumBy(previous.families, "streamhouse_producer_records_total", "topic") : undefined;
  const prevBytes = previous ? sumBy(previous.families, "streamhouse_producer_bytes_total", "topic") : undefined;
  const dt = previous ? (current.at - previous.at) / 1000 : 0;
  const topics = [...records.keys()].sort().map((topic) => ({
    topic,
    records: records.get(topic) ?? 0,
    bytes: bytes.get(topic) ?? 0,
    recordRate: prevRecords && dt > 0 ? Math.max(0, ((records.get(topic) ?? 0) - (prevRecords.get(topic) ?? 0)) / dt) : undefined,
    byteRate: prevBytes && dt > 0 ? Math.max(0, ((bytes.get(topic) ?? 0) - (prevBytes.get(topic) ?? 0)) / dt) : undefined,
  }));

  const ackAll = buckets(f, ACK);
  const ackRecent = deltaBuckets(ackAll, previous ? buckets(previous.families, ACK) : undefined);
  // Between the last two scrapes; "idle" when nothing was acknowledged in between.
  const recent = (q: number) => {
    const v = quantile(ackRecent, q);
    return Number.isNaN(v) ? "idle" : formatSeconds(v);
  };
  const batchAll = buckets(f, BATCH);
  const batches = sum(f, `${BATCH}_count`);
  const errorsByKind = sumBy(f, "streamhouse_producer_errors_total", "error");
  const errors = [...errorsByKind.values()].reduce((a, b) => a + b, 0);
  const errorRate = counterRate(current, previous, "streamhouse_producer_errors_total");

  // Latency trend: percentiles of what was observed between consecutive scrapes.
  const trend = series.slice(1).flatMap((s, i) => {
    const d = deltaBuckets(buckets(s.families, ACK), buckets(series[i]!.families, ACK));
    const p50 = quantile(d, 0.5);
    if (Number.isNaN(p50)) return [];
    return [{ t: s.at, p50: p50 * 1000, p95: quantile(d, 0.95) * 1000, p99: quantile(d, 0.99) * 1000 }];
  });
  // Batch size histogram: per-bucket (not cumulative) counts.
  const sortedBatch = [...batchAll.entries()].sort((a, b) => a[0] - b[0]);
  const histogram = sortedBatch
    .map(([le, c], i) => ({ le: le === Infinity ? "+Inf" : `≤${formatCompact(le)}`, count: c - (i > 0 ? sortedBatch[i - 1]![1] : 0) }))
    .filter((b, i, all) => b.count > 0 || all.slice(i).some((x) => x.count > 0));

  return (
    <div className="space-y-6">
      <PageHeader title="Producer performance" subtitle="From this agent's /metrics (streamhouse_producer_*), rates between the last two scrapes." />
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        <Stat label="Ack latency p50" value={formatSeconds(quantile(ackRecent, 0.5))} hint={`since start ${formatSeconds(quantile(ackAll, 0.5))}`} />
        <Stat label="Ack latency p95 (now)" value={recent(0.95)} hint={`since start ${formatSeconds(quantile(ackAll, 0.95))}`} />
        <Stat label="Ack latency p99 (now)" value={recent(0.99)} hint={`since start ${formatSeconds(quantile(ackAll, 0.99))}`} />
        <Stat
          label="Batch size"
          value={`p50 ${formatCompact(quantile(batchAll, 0.5))}`}
          hint={`p95 ${formatCompact(quantile(batchAll, 0.95))} records · ${formatNumber(batches)} batches`}
        />
      </div>
      <Card title="Throughput by topic">
        <Table label="Producer throughput by topic">
          <thead>
            <tr>
              <th className={th}>Topic</th>
              <th className={th}>Records/s</th>
              <th className={th}>Bytes/s</th>
              <th className={th}>Records (since start)</th>
              <th className={th}>Bytes (since start)</th>
            </tr>
          </thead>
          <tbody>
            <TableState colSpan={5} isLoading={false} error={null} isEmpty={topics.length === 0} empty="Nothing produced to this agent yet." />
            {topics.map((t) => (
              <tr key={t.topic}>
                <td className={td}>{t.topic}</td>
                <td className={cx(td, "tabular-nums")}>{formatRate(t.recordRate)}</td>
                <td className={cx(td, "tabular-nums")}>{t.byteRate === undefined ? "—" : `${formatBytes(t.byteRate)}/s`}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(t.records)}</td>
                <td className={cx(td, "tabular-nums")}>{formatBytes(t.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>
      <div className="grid gap-4 xl:grid-cols-2">
        <Card title="Ack latency percentiles (ms, since this page opened)">
          <TimeChart
            label="Ack latency percentiles"
          empty="Collecting: points appear with each scrape of /metrics while this page is open."
            data={trend}
            unit=" ms"
            series={[
              { key: "p50", label: "p50", color: "#10b981" },
              { key: "p95", label: "p95", color: "#f59e0b" },
              { key: "p99", label: "p99", color: "#ef4444" },
            ]}
          />
        </Card>
        <Card title="Batch size distribution (records per batch)">
          {histogram.length === 0 ? (
            <p className="text-sm text-slate-500">No batches yet.</p>
          ) : (
            <div style={{ height: 220 }} role="img" aria-label="Batch size histogram">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={histogram}>
                  <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} />
                  <XAxis dataKey="le" fontSize={11} stroke="currentColor" strokeOpacity={0.5} />
                  <YAxis fontSize={11} width={40} stroke="currentColor" strokeOpacity={0.5} allowDecimals={false} />
                  <Tooltip contentStyle={{ background: "rgb(15 23 42)", border: "1px solid rgb(51 65 85)", color: "white", fontSize: 12 }} />
                  <Bar dataKey="count" fill="#0ea5e9" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          )}
        </Card>
      </div>
      <Card title="Errors">
        <p className="mb-3 text-sm">
          Refused batches: {formatNumber(errors)} since start ({formatPercent(batches + errors ? errors / (batches + errors) : 0)} of batches) · now{" "}
          {formatRate(errorRate, "err")}
        </p>
        <Table label="Producer errors by kind">
          <thead>
            <tr>
              <th className={th}>Error</th>
              <th className={th}>Count</th>
            </tr>
          </thead>
          <tbody>
            <TableState colSpan={2} isLoading={false} error={null} isEmpty={errorsByKind.size === 0} empty="No refused batches. ✓" />
            {[...errorsByKind.entries()].map(([kind, n]) => (
              <tr key={kind}>
                <td className={cx(td, "font-mono text-xs")}>{kind}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(n)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>
    </div>
  );
}
