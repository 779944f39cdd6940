import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, type BrowseParams, type Message } from "../api/client";
import { Badge, Button, Card, PageHeader, Table, TableState, cx, inputClass, td, th } from "../components/ui";
import { formatNumber, formatTimestamp } from "../lib/format";
import { download, matches, mergeMessages, serverFormat, showValue, toCsv, toJson, type ViewFormat } from "../lib/messages";
import { useTopics } from "../lib/queries";

type Start = "earliest" | "latest" | "offset" | "timestamp";
const TAIL_MS = 2000;

function toLocalInput(ms: number) {
  const d = new Date(ms - new Date().getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

export function MessagesPage() {
  const { name } = useParams();
  const navigate = useNavigate();
  const topics = useTopics();
  const topicName = name ?? topics.data?.items[0]?.name ?? "";
  const topic = topics.data?.items.find((t) => t.name === topicName);

  const [partition, setPartition] = useState<string>("all");
  const [start, setStart] = useState<Start>("earliest");
  const [offset, setOffset] = useState("0");
  const [timestamp, setTimestamp] = useState(() => toLocalInput(Date.now() - 3600_000));
  const [limit, setLimit] = useState(100);
  const [view, setView] = useState<ViewFormat>("text");
  const [keyFilter, setKeyFilter] = useState("");
  const [textFilter, setTextFilter] = useState("");
  const [tail, setTail] = useState(false);
  const [tailed, setTailed] = useState<Message[]>([]);
  const [expanded, setExpanded] = useState<string | null>(null);

  const query: BrowseParams = useMemo(() => {
    const q: BrowseParams = { limit, format: serverFormat(view) };
    if (partition !== "all") q.partition = Number(partition);
    if (tail || start === "latest") q.from = "latest";
    else if (start === "offset") q.offset = Math.max(0, Number(offset) || 0);
    else if (start === "timestamp") q.timestamp = new Date(timestamp).getTime();
    else q.from = "earliest";
    return q;
  }, [partition, start, offset, timestamp, limit, view, tail]);

  const browse = useQuery({
    queryKey: ["messages", topicName, query],
    queryFn: () => api.browse(topicName, query),
    enabled: !!topicName,
    // Live tail: poll the newest records and keep what arrives.
    refetchInterval: tail ? TAIL_MS : false,
  });

  useEffect(() => {
    if (!tail) setTailed([]);
  }, [tail, topicName, partition, view]);
  useEffect(() => {
    if (tail && browse.data) setTailed((old) => mergeMessages(old, browse.data));
  }, [tail, browse.data]);

  const all = tail ? tailed : (browse.data ?? []);
  const shown = all.filter((m) => matches(m, { key: keyFilter, text: textFilter }, view));
  const exportName = `${topicName}-${new Date().toISOString().replace(/[:.]/g, "-")}`;

  return (
    <div className="space-y-4">
      <PageHeader
        title="Message browser"
        subtitle={topic ? `${topic.name}: ${topic.partitions} partitions, ${formatNumber(topic.records)} records` : undefined}
        actions={
          <>
            <Button disabled={!shown.length} onClick={() => download(`${exportName}.json`, toJson(shown), "application/json")}>
              Export JSON
            </Button>
            <Button disabled={!shown.length} onClick={() => download(`${exportName}.csv`, toCsv(shown, view), "text/csv")}>
              Export CSV
            </Button>
          </>
        }
      />
      <Card>
        <form className="flex flex-wrap items-end gap-3" onSubmit={(e) => e.preventDefault()} aria-label="Browse options">
          <label className="text-sm">
            <span className="mb-1 block text-xs text-slate-500">Topic</span>
            <select
              className={inputClass}
              value={topicName}
              aria-label="Topic"
              onChange={(e) => {
                setPartition("all");
                navigate(`/topics/${encodeURIComponent(e.target.value)}/messages`);
              }}
            >
              {!topics.data?.items.length && <option value="">no topics</option>}
              {topics.data?.items.map((t) => (
                <option key={t.name}>{t.name}</option>
              ))}
            </select>
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-xs text-slate-500">Partition</span>
            <select className={inputClass} value={partition} onChange={(e) => setPartition(e.target.value)} aria-label="Partition">
              <option value="all">all</option>
              {Array.from({ length: topic?.partitions ?? 0 }, (_, i) => (
                <option key={i} value={i}>
                  {i}
                </option>
              ))}
            </select>
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-xs text-slate-500">From</span>
            <select className={inputClass} value={start} onChange={(e) => setStart(e.target.value as Start)} disabled={tail} aria-label="Start from">
              <option value="earliest">earliest</option>
              <option value="latest">latest</option>
              <option value="offset">offset</option>
              <option value="timestamp">timestamp</option>
            </select>
          </label>
          {start === "offset" && !tail && (
            <label className="text-sm">
              <span className="mb-1 block text-xs text-slate-500">Offset</span>
              <input className={cx(inputClass, "w-28")} inputMode="numeric" value={offset} onChange={(e) => setOffset(e.target.value)} aria-label="Offset" />
            </label>
          )}
          {start === "timestamp" && !tail && (
            <label className="text-sm">
              <span className="mb-1 block text-xs text-slate-500">Timestamp</span>
              <input type="datetime-local" className={inputClass} value={timestamp} onChange={(e) => setTimestamp(e.target.value)} aria-label="Timestamp" />
            </label>
          )}
          <label className="text-sm">
            <span className="mb-1 block text-xs text-slate-500">Limit</span>
            <select className={inputClass} value={limit} onChange={(e) => setLimit(Number(e.target.value))} aria-label="Limit">
              {[20, 50, 100, 500].map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-xs text-slate-500">Show as</span>
            <select className={inputClass} value={view} onChange={(e) => setView(e.target.value as ViewFormat)} aria-label="Format">
              <option value="text">text</option>
              <option value="json">JSON</option>
              <option value="base64">base64</option>
              <option value="hex">hex</option>
            </select>
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-xs text-slate-500">Key contains</span>
            <input className={cx(inputClass, "w-36")} value={keyFilter} onChange={(e) => setKeyFilter(e.target.value)} aria-label="Filter by key" />
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-xs text-slate-500">Contains</span>
            <input className={cx(inputClass, "w-44")} value={textFilter} onChange={(e) => setTextFilter(e.target.value)} aria-label="Filter by substring" />
          </label>
          <label className="flex items-center gap-2 pb-1.5 text-sm">
            <input type="checkbox" checked={tail} onChange={(e) => setTail(e.target.checked)} aria-label="Live tail" />
            Live tail {tail && <Badge tone="sky">polling every {TAIL_MS / 1000}s</Badge>}
          </label>
          <Button onClick={() => void browse.refetch()} disabled={!topicName}>
            Refresh
          </Button>
        </form>
      </Card>
      <p className="text-xs text-slate-500" data-testid="message-count">
        Showing {shown.length} of {all.length} records{keyFilter || textFilter ? " (filtered)" : ""}
      </p>
      <Table label="Messages">
        <thead>
          <tr>
            <th className={th}>Partition</th>
            <th className={th}>Offset</th>
            <th className={th}>Timestamp</th>
            <th className={th}>Key</th>
            <th className={th}>Value</th>
            <th className={th}>Headers</th>
          </tr>
        </thead>
        <tbody>
          <TableState
            colSpan={6}
            isLoading={!!topicName && browse.isLoading}
            error={browse.error}
            retry={() => void browse.refetch()}
            isEmpty={shown.length === 0}
            empty={!topicName ? "No topics yet." : all.length ? "No record matches the filter." : "No records in this range."}
          />
          {shown.map((m) => {
            const id = `${m.partition}:${m.offset}`;
            const open = expanded === id;
            const value = showValue(m.value, view, open);
            return (
              <tr key={id} data-testid="message-row" className="align-top">
                <td className={td}>{m.partition}</td>
                <td className={cx(td, "tabular-nums")}>{m.offset}</td>
                <td className={cx(td, "whitespace-nowrap text-xs")}>{formatTimestamp(m.timestamp)}</td>
                <td className={cx(td, "font-mono text-xs")} data-testid="message-key">
                  {showValue(m.key, view) ?? <span className="text-slate-400">null</span>}
                </td>
                <td className={cx(td, "max-w-xl font-mono text-xs")}>
                  <button type="button" className="w-full text-left" aria-expanded={open} onClick={() => setExpanded(open ? null : id)} data-testid="message-value">
                    {value === null ? (
                      <span className="text-slate-400">null (tombstone)</span>
                    ) : open ? (
                      <pre className="whitespace-pre-wrap break-all">{value}</pre>
                    ) : (
                      <span className="line-clamp-2 break-all">{value}</span>
                    )}
                  </button>
                </td>
                <td className={cx(td, "font-mono text-xs")}>
                  {m.headers.map((h) => (
                    <div key={h.key}>
                      {h.key}={showValue(h.value, view) ?? "null"}
                    </div>
                  ))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </Table>
    </div>
  );
}
