import { TimeChart } from "../components/charts";
import { Card, ErrorBox, PageHeader, Spinner, Stat, Table, cx, td, th } from "../components/ui";
import { formatBytes, formatNumber, formatPercent, formatRate, formatSeconds } from "../lib/format";
import { histogramQuantile, sum } from "../lib/prometheus";
import { counterRate, useCluster, useScrapePair } from "../lib/queries";

const OPERATIONS = ["put", "get", "list", "delete"] as const;
/** Object-store request prices per 1000 (S3 Standard list prices), as in docs/metrics.md. */
const PRICE_PER_1000 = { put: 0.005, get: 0.0004 };

/** A 0..1 bar; `highIsGood` colours it green when high (a hit rate), else amber when nearly full. */
function Meter({ ratio, label, highIsGood = false }: { ratio: number; label: string; highIsGood?: boolean }) {
  const pct = Math.max(0, Math.min(1, Number.isFinite(ratio) ? ratio : 0)) * 100;
  return (
    <div role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)} className="h-3 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-800">
      <div className={cx("h-full", highIsGood ? (pct >= 80 ? "bg-emerald-500" : pct >= 50 ? "bg-amber-500" : "bg-red-500") : pct > 90 ? "bg-amber-500" : "bg-sky-500")} style={{ width: `${pct}%` }} />
    </div>
  );
}

export function StoragePage() {
  const { current, previous, series, isLoading, error, refetch } = useScrapePair();
  const cluster = useCluster();
  if (isLoading) return <Spinner />;
  if (error) return <ErrorBox error={error} retry={refetch} />;
  if (!current) return null;
  const f = current.families;
  const rate = (metric: string, match: Record<string, string> = {}) => counterRate(current, previous, metric, match);

  const hits = sum(f, "streamhouse_cache_hits_total");
  const misses = sum(f, "streamhouse_cache_misses_total");
  const hitRatio = hits + misses ? hits / (hits + misses) : NaN;
  const hitRate = rate("streamhouse_cache_hits_total");
  const missRate = rate("streamhouse_cache_misses_total");
  const recentRatio = hitRate !== undefined && missRate !== undefined && hitRate + missRate > 0 ? hitRate / (hitRate + missRate) : NaN;
  const size = sum(f, "streamhouse_cache_size_bytes");
  const capacity = sum(f, "streamhouse_cache_capacity_bytes");
  const flushOk = sum(f, "streamhouse_segment_flushes_total", { outcome: "ok" });
  const flushErr = sum(f, "streamhouse_segment_flushes_total", { outcome: "error" });
  const flushBytes = sum(f, "streamhouse_segment_flush_bytes_sum");
  const flushes = sum(f, "streamhouse_segment_flush_bytes_count");
  const putRate = rate("streamhouse_s3_requests_total", { operation: "put" });
  const getRate = rate("streamhouse_s3_requests_total", { operation: "get" });
  const costPerDay =
    putRate === undefined || getRate === undefined ? undefined : ((putRate * PRICE_PER_1000.put + getRate * PRICE_PER_1000.get) * 86400) / 1000;

  const opsTrend = series.slice(1).map((s, i) => {
    const prev = series[i]!;
    const dt = (s.at - prev.at) / 1000 || 1;
    const r = (op: string) => Math.max(0, (sum(s.families, "streamhouse_s3_requests_total", { operation: op }) - sum(prev.families, "streamhouse_s3_requests_total", { operation: op })) / dt);
    return { t: s.at, put: r("put"), get: r("get") };
  });

  return (
    <div className="space-y-6">
      <PageHeader title="Storage & cache" subtitle="Object store (streamhouse_s3_*), flushes and the read cache (streamhouse_cache_*), from this agent's /metrics." />
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        <Stat label="PUTs" value={formatRate(putRate, "ops")} hint={`p95 ${formatSeconds(histogramQuantile(f, "streamhouse_s3_request_duration_seconds", 0.95, { operation: "put" }))}`} />
        <Stat label="GETs" value={formatRate(getRate, "ops")} hint={`p95 ${formatSeconds(histogramQuantile(f, "streamhouse_s3_request_duration_seconds", 0.95, { operation: "get" }))}`} />
        <Stat
          label="Bytes stored"
          value={cluster.data ? formatBytes(cluster.data.bytes) : "…"}
          hint={`record batches, all topics · ${formatBytes(sum(f, "streamhouse_s3_bytes_total", { operation: "put" }))} PUT since start`}
        />
        <Stat label="Est. request cost" value={costPerDay === undefined ? "—" : `$${costPerDay.toFixed(2)}/day`} hint="at the current PUT/GET rates, S3 Standard prices" />
      </div>
      <Card title="Object-store requests (since this page opened)">
        <TimeChart
          label="Object-store requests per second"
          empty="Collecting: points appear with each scrape of /metrics while this page is open."
          data={opsTrend}
          unit=" ops/s"
          series={[
            { key: "put", label: "PUT/s", color: "#0ea5e9" },
            { key: "get", label: "GET/s", color: "#a855f7" },
          ]}
        />
      </Card>
      <Card title="Object-store operations">
        <Table label="Object-store operations">
          <thead>
            <tr>
              <th className={th}>Operation</th>
              <th className={th}>Rate</th>
              <th className={th}>Requests</th>
              <th className={th}>Bytes</th>
              <th className={th}>p50</th>
              <th className={th}>p95</th>
              <th className={th}>Errors</th>
              <th className={th}>Retries</th>
            </tr>
          </thead>
          <tbody>
            {OPERATIONS.map((op) => (
              <tr key={op}>
                <td className={cx(td, "uppercase")}>{op}</td>
                <td className={cx(td, "tabular-nums")}>{formatRate(rate("streamhouse_s3_requests_total", { operation: op }), "ops")}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(sum(f, "streamhouse_s3_requests_total", { operation: op }))}</td>
                <td className={cx(td, "tabular-nums")}>{formatBytes(sum(f, "streamhouse_s3_bytes_total", { operation: op }))}</td>
                <td className={td}>{formatSeconds(histogramQuantile(f, "streamhouse_s3_request_duration_seconds", 0.5, { operation: op }))}</td>
                <td className={td}>{formatSeconds(histogramQuantile(f, "streamhouse_s3_request_duration_seconds", 0.95, { operation: op }))}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(sum(f, "streamhouse_s3_errors_total", { operation: op }))}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(sum(f, "streamhouse_s3_retries_total", { operation: op }))}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Segment flushes">
          <dl className="grid grid-cols-2 gap-2 text-sm">
            <dt>Flushes</dt>
            <dd className="tabular-nums">{formatNumber(flushOk + flushErr)}</dd>
            <dt>Success rate</dt>
            <dd>{flushOk + flushErr ? formatPercent(flushOk / (flushOk + flushErr)) : "—"}</dd>
            <dt>Rate</dt>
            <dd>{formatRate(rate("streamhouse_segment_flushes_total"), "flushes")}</dd>
            <dt>Duration p95</dt>
            <dd>{formatSeconds(histogramQuantile(f, "streamhouse_segment_flush_duration_seconds", 0.95))}</dd>
            <dt>Average object</dt>
            <dd>{flushes ? formatBytes(flushBytes / flushes) : "—"}</dd>
          </dl>
        </Card>
        <Card title="Read cache">
          <div className="space-y-3 text-sm">
            <div>
              <p className="mb-1 flex justify-between">
                <span>Hit rate</span>
                <span data-testid="cache-hit-rate">
                  {formatPercent(hitRatio)} since start · {formatPercent(recentRatio)} now
                </span>
              </p>
              <Meter ratio={hitRatio} label="Cache hit rate" highIsGood />
            </div>
            <div>
              <p className="mb-1 flex justify-between">
                <span>Size</span>
                <span>
                  {formatBytes(size)} / {formatBytes(capacity)} ({capacity ? formatPercent(size / capacity) : "—"})
                </span>
              </p>
              <Meter ratio={capacity ? size / capacity : 0} label="Cache utilisation" />
            </div>
            <p>
              Hits {formatNumber(hits)} (tail {formatNumber(sum(f, "streamhouse_cache_hits_total", { tier: "tail" }))}, segment{" "}
              {formatNumber(sum(f, "streamhouse_cache_hits_total", { tier: "segment" }))}) · misses {formatNumber(misses)}
            </p>
            <p className="text-slate-500">
              Object GETs avoided since start: {formatNumber(hits)} (≈ ${((hits * PRICE_PER_1000.get) / 1000).toFixed(4)})
            </p>
          </div>
        </Card>
      </div>
    </div>
  );
}
