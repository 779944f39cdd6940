import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ApiError, makeApi } from "./client";
import { appendSample } from "../lib/live";

/** A fetch that records requests and answers from a table. */
function fakeFetch(answers: Record<string, { status: number; body: unknown }>) {
  const calls: { method: string; url: string; body: string | null }[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(new URL(String(input), "http://agent"), init);
    const url = new URL(req.url);
    const body = req.method === "GET" ? null : await req.text();
    calls.push({ method: req.method, url: url.pathname + url.search, body });
    const answer = answers[`${req.method} ${url.pathname}`] ?? { status: 404, body: { error_code: "not_found", message: "no such route" } };
    return new Response(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "content-type": typeof answer.body === "string" ? "text/plain" : "application/json" },
    });
  };
  return { calls, impl: impl as typeof fetch };
}

describe("API client", () => {
  it("builds paths, query strings and bodies from the OpenAPI types", async () => {
    const f = fakeFetch({
      "GET /api/v1/topics/a%20b/messages": { status: 200, body: [] },
      "POST /api/v1/topics": { status: 201, body: { name: "t", partitions: [] } },
      "POST /api/v1/consumer-groups/g1/reset": { status: 200, body: [{ topic: "t", partition: 0, offset: 0 }] },
    });
    const api = makeApi("http://agent", f.impl);
    await api.browse("a b", { partition: 2, from: "latest", limit: 10, format: "json" });
    expect(f.calls[0]).toMatchObject({ method: "GET", url: "/api/v1/topics/a%20b/messages?partition=2&from=latest&limit=10&format=json" });
    await api.createTopic({ name: "t", partitions: 3, configs: {} });
    expect(JSON.parse(f.calls[1]!.body!)).toEqual({ name: "t", partitions: 3, configs: {} });
    const reset = await api.resetGroup("g1", { to: "earliest" });
    expect(reset).toEqual([{ topic: "t", partition: 0, offset: 0 }]);
  });

  it("turns error bodies into ApiError with the stable code", async () => {
    const f = fakeFetch({ "GET /api/v1/topics/nope": { status: 404, body: { error_code: "unknown_topic", message: "topic nope does not exist" } } });
    const api = makeApi("http://agent", f.impl);
    const err = await api.topic("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: "unknown_topic", message: "topic nope does not exist" });
  });

  it("reads Prometheus text and readiness", async () => {
    const f = fakeFetch({
      "GET /metrics": { status: 200, body: "streamhouse_cache_size_bytes 1\n" },
      "GET /ready": { status: 503, body: { status: "unavailable", problems: ["object store"] } },
    });
    const api = makeApi("http://agent", f.impl);
    expect(await api.prometheus()).toContain("streamhouse_cache_size_bytes");
    expect(await api.health()).toEqual({ ready: false, status: "unavailable", problems: ["object store"] });
  });

  it("uses every path the committed OpenAPI document declares for the console", () => {
    const doc = JSON.parse(readFileSync(new URL("./openapi.json", import.meta.url), "utf8")) as { paths: Record<string, unknown> };
    for (const path of [
      "/api/v1/cluster",
      "/api/v1/topics",
      "/api/v1/topics/{name}",
      "/api/v1/topics/{name}/configs",
      "/api/v1/topics/{name}/messages",
      "/api/v1/consumer-groups",
      "/api/v1/consumer-groups/{id}",
      "/api/v1/consumer-groups/{id}/reset",
      "/api/v1/agents",
      "/api/v1/metrics",
      "/metrics",
      "/ready",
      "/ws",
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });

  it("appends live samples to the history once, bounded by its window", () => {
    const sample = (at_ms: number) => ({
      at_ms,
      produce_records_per_sec: 1,
      produce_bytes_per_sec: 1,
      consume_records_per_sec: 0,
      consume_bytes_per_sec: 0,
      total_lag: 0,
      group_lag: {},
      live_agents: 1,
      partitions_led: 1,
    });
    const h = { interval_ms: 1000, history_ms: 2000, samples: [sample(1000)] };
    const once = appendSample(h, sample(2000));
    expect(appendSample(once, sample(2000))?.samples).toHaveLength(2);
    expect(appendSample(once, sample(3000))?.samples.map((s) => s.at_ms)).toEqual([2000, 3000]);
    expect(appendSample(undefined, sample(1))).toBeUndefined();
  });
});
