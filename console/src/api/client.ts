// The typed API client. Paths, parameters and bodies are checked at compile time against
// schema.d.ts, which `npm run gen:api` generates from the agent's OpenAPI document (and
// `npm run check:api` / the e2e suite compare with the live server).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type TopicSummary = Schemas["TopicSummary"];
export type TopicDetail = Schemas["TopicDetail"];
export type PartitionInfo = Schemas["PartitionInfo"];
export type Message = Schemas["Message"];
export type Shown = Schemas["Shown"];
export type GroupSummary = Schemas["GroupSummary"];
export type GroupDetail = Schemas["GroupDetail"];
export type PartitionLag = Schemas["PartitionLagView"];
export type AgentView = Schemas["AgentView"];
export type Overview = Schemas["Overview"];
export type MetricSample = Schemas["Sample"];
export type MetricHistory = Schemas["History"];
export type ResetOffset = Schemas["ResetOffset"];
export type LiveEvent = Schemas["Event"];
export type BrowseParams = NonNullable<paths["/api/v1/topics/{name}/messages"]["get"]["parameters"]["query"]>;

/** An error answer from the API, with its stable code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Turns openapi-fetch's `{data, error, response}` into data or a thrown ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const body = result.error as { error_code?: string; message?: string } | undefined;
    throw new ApiError(
      result.response.status,
      body?.error_code ?? "http_error",
      body?.message ?? `${result.response.status} ${result.response.statusText}`,
    );
  }
  return result.data as T;
}

export function makeApi(baseUrl = "", fetchImpl: typeof fetch = (...args) => fetch(...args)) {
  const http = createClient<paths>({ baseUrl, fetch: fetchImpl });
  return {
    http,
    cluster: async () => unwrap(await http.GET("/api/v1/cluster")),
    listTopics: async () => unwrap(await http.GET("/api/v1/topics", { params: { query: { limit: 1000 } } })),
    topic: async (name: string) => unwrap(await http.GET("/api/v1/topics/{name}", { params: { path: { name } } })),
    createTopic: async (body: Schemas["NewTopic"]) => unwrap(await http.POST("/api/v1/topics", { body })),
    deleteTopic: async (name: string) =>
      unwrap(await http.DELETE("/api/v1/topics/{name}", { params: { path: { name } } })),
    alterConfigs: async (name: string, configs: Record<string, string | null>) =>
      unwrap(
        await http.PATCH("/api/v1/topics/{name}/configs", {
          params: { path: { name } },
          body: configs,
        }),
      ),
    browse: async (name: string, query: BrowseParams) =>
      unwrap(await http.GET("/api/v1/topics/{name}/messages", { params: { path: { name }, query } })),
    listGroups: async () =>
      unwrap(await http.GET("/api/v1/consumer-groups", { params: { query: { limit: 1000 } } })),
    group: async (id: string) =>
      unwrap(await http.GET("/api/v1/consumer-groups/{id}", { params: { path: { id } } })),
    resetGroup: async (id: string, body: Schemas["ResetRequest"]) =>
      unwrap(await http.POST("/api/v1/consumer-groups/{id}/reset", { params: { path: { id } }, body })),
    deleteGroup: async (id: string) =>
      unwrap(await http.DELETE("/api/v1/consumer-groups/{id}", { params: { path: { id } } })),
    agents: async () => unwrap(await http.GET("/api/v1/agents")),
    agent: async (id: string) => unwrap(await http.GET("/api/v1/agents/{id}", { params: { path: { id } } })),
    metricsHistory: async (sinceMs?: number) =>
      unwrap(await http.GET("/api/v1/metrics", { params: { query: sinceMs ? { since_ms: sinceMs } : {} } })),
    /** The Prometheus exposition text (not JSON, so fetched directly). */
    prometheus: async () => {
      const res = await fetchImpl(`${baseUrl}/metrics`);
      if (!res.ok) throw new ApiError(res.status, "http_error", `GET /metrics: ${res.status}`);
      return res.text();
    },
    health: async () => {
      const res = await fetchImpl(`${baseUrl}/ready`);
      const body = (await res.json().catch(() => ({}))) as { status?: string; problems?: string[] };
      return { ready: res.ok, status: body.status ?? (res.ok ? "ok" : "unavailable"), problems: body.problems ?? [] };
    },
  };
}

export type Api = ReturnType<typeof makeApi>;
export const api: Api = makeApi(typeof window === "undefined" ? "" : window.location.origin);
