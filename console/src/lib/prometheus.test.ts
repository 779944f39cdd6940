import { describe, expect, it } from "vitest";
import { buckets, deltaBuckets, histogramQuantile, parsePrometheus, quantile, sum, sumBy } from "./prometheus";

// Shaped like the agent's /metrics (prometheus-client's OpenMetrics text).
const TEXT = `# HELP streamhouse_producer_records Records appended, by topic.
# TYPE streamhouse_producer_records counter
streamhouse_producer_records_total{topic="orders"} 5
streamhouse_producer_records_total{topic="logs"} 7
# HELP streamhouse_s3_request_duration_seconds Object-store request latency, by operation.
# TYPE streamhouse_s3_request_duration_seconds histogram
streamhouse_s3_request_duration_seconds_sum{operation="put"} 0.3
streamhouse_s3_request_duration_seconds_count{operation="put"} 10
streamhouse_s3_request_duration_seconds_bucket{le="0.01",operation="put"} 2
streamhouse_s3_request_duration_seconds_bucket{le="0.1",operation="put"} 8
streamhouse_s3_request_duration_seconds_bucket{le="1.0",operation="put"} 10
streamhouse_s3_request_duration_seconds_bucket{le="+Inf",operation="put"} 10
streamhouse_s3_request_duration_seconds_bucket{le="+Inf",operation="get"} 0
# TYPE streamhouse_cache_size_bytes gauge
streamhouse_cache_size_bytes 1024
streamhouse_build_info{version="0.1.0",note="a \\"quoted\\", value"} 1
# EOF
`;

describe("Prometheus text parsing", () => {
  const f = parsePrometheus(TEXT);
  it("groups samples into families with types and help", () => {
    const producer = f.get("streamhouse_producer_records");
    expect(producer?.type).toBe("counter");
    expect(producer?.samples).toHaveLength(2);
    expect(f.get("streamhouse_s3_request_duration_seconds")?.type).toBe("histogram");
    expect(f.get("streamhouse_s3_request_duration_seconds")?.samples).toHaveLength(7);
  });
  it("parses labels with escapes and values", () => {
    const info = f.get("streamhouse_build_info")?.samples[0];
    expect(info?.labels).toEqual({ version: "0.1.0", note: 'a "quoted", value' });
    expect(sum(f, "streamhouse_cache_size_bytes")).toBe(1024);
  });
  it("sums by label", () => {
    expect(sum(f, "streamhouse_producer_records_total")).toBe(12);
    expect(sum(f, "streamhouse_producer_records_total", { topic: "logs" })).toBe(7);
    expect(Object.fromEntries(sumBy(f, "streamhouse_producer_records_total", "topic"))).toEqual({ orders: 5, logs: 7 });
  });
  it("computes histogram quantiles like PromQL", () => {
    // rank 5 of 10 falls in (0.01, 0.1] holding ranks 3..8: 0.01 + 0.09 * 3/6.
    expect(histogramQuantile(f, "streamhouse_s3_request_duration_seconds", 0.5, { operation: "put" })).toBeCloseTo(0.055);
    expect(histogramQuantile(f, "streamhouse_s3_request_duration_seconds", 0.95, { operation: "put" })).toBeCloseTo(0.775);
    expect(histogramQuantile(f, "streamhouse_s3_request_duration_seconds", 0.5, { operation: "get" })).toBeNaN();
  });
  it("subtracts bucket counts between scrapes", () => {
    const now = buckets(f, "streamhouse_s3_request_duration_seconds", { operation: "put" });
    const before = new Map([
      [0.01, 2],
      [0.1, 2],
      [1, 2],
      [Infinity, 2],
    ]);
    const d = deltaBuckets(now, before);
    expect(d.get(0.01)).toBe(0);
    expect(d.get(Infinity)).toBe(8);
    expect(quantile(d, 0.5)).toBeCloseTo(0.01 + 0.09 * (4 / 6));
  });
});
