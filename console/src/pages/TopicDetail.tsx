import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/client";
import { Button, Card, ConfirmDialog, ErrorBox, PageHeader, Spinner, Stat, Table, TableState, cx, inputClass, td, th } from "../components/ui";
import { useToast } from "../components/toasts";
import { formatCompact, formatNumber, formatRate, formatTimestamp } from "../lib/format";
import { sum } from "../lib/prometheus";
import { useScrapePair } from "../lib/queries";
import { useRefetchInterval } from "../lib/settings";

export function TopicDetailPage() {
  const { name = "" } = useParams();
  const refetchInterval = useRefetchInterval();
  const scrape = useScrapePair();
  const [deleting, setDeleting] = useState(false);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const remove = useMutation({
    mutationFn: () => api.deleteTopic(name),
    onSuccess: async () => {
      setDeleting(false);
      await queryClient.invalidateQueries({ queryKey: ["topics"] });
      toast("success", `Topic ${name} deleted`);
      navigate("/topics");
    },
  });

  // Once deleted, stop asking for the topic (it would answer 404 until we navigate away).
  const topic = useQuery({ queryKey: ["topic", name], queryFn: () => api.topic(name), refetchInterval, enabled: !remove.isSuccess });

  const rate = (metric: string) => {
    const { current, previous } = scrape;
    if (!current || !previous) return undefined;
    const dt = (current.at - previous.at) / 1000;
    if (dt <= 0) return undefined;
    return Math.max(0, (sum(current.families, metric, { topic: name }) - sum(previous.families, metric, { topic: name })) / dt);
  };

  if (topic.isLoading) return <Spinner />;
  if (topic.error) return <ErrorBox error={topic.error} retry={() => void topic.refetch()} />;
  const t = topic.data;
  if (!t) return null;
  const max = Math.max(1, ...t.partitions.map((p) => p.records));

  return (
    <div className="space-y-6">
      <PageHeader
        title={
          <>
            <span className="text-slate-500">Topic:</span> {t.name}
          </>
        }
        subtitle={`Created ${formatTimestamp(t.created_at_ms)} · id ${t.id}`}
        actions={
          <>
            <Link to={`/topics/${encodeURIComponent(t.name)}/messages`} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800">
              Browse messages
            </Link>
            <Button variant="danger" onClick={() => setDeleting(true)}>
              Delete topic
            </Button>
          </>
        }
      />
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        <Stat label="Partitions" value={t.partitions.length} />
        <Stat label="Records" value={formatCompact(t.records)} testId="topic-records" />
        <Stat label="Write rate" value={formatRate(rate("streamhouse_producer_records_total"))} hint="this agent, from /metrics" />
        <Stat label="Read rate" value={formatRate(rate("streamhouse_consumer_records_total"))} hint="this agent, from /metrics" />
      </div>
      <Card title="Partition distribution">
        <div className="grid grid-cols-[repeat(auto-fill,minmax(5.5rem,1fr))] gap-2" aria-label="Records per partition">
          {t.partitions.map((p) => (
            <div key={p.partition} className="rounded-md border border-slate-200 p-2 text-center text-xs dark:border-slate-800">
              <div className="font-semibold">P{p.partition}</div>
              <div className="tabular-nums">{formatCompact(p.records)}</div>
              <div className="mt-1 h-12 rounded bg-slate-100 dark:bg-slate-800 flex items-end overflow-hidden" aria-hidden>
                <div className="w-full bg-sky-500" style={{ height: `${Math.max(2, (p.records / max) * 100)}%` }} />
              </div>
            </div>
          ))}
        </div>
      </Card>
      <Card title="Partitions">
        <Table label="Partitions">
          <thead>
            <tr>
              <th className={th}>Partition</th>
              <th className={th}>Log start</th>
              <th className={th}>High watermark</th>
              <th className={th}>Records</th>
              <th className={th}>Leader</th>
              <th className={th}>Epoch</th>
            </tr>
          </thead>
          <tbody>
            <TableState colSpan={6} isLoading={false} error={null} isEmpty={t.partitions.length === 0} empty="No partitions." />
            {t.partitions.map((p) => (
              <tr key={p.partition} data-testid="partition-row">
                <td className={td}>{p.partition}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(p.log_start_offset)}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(p.high_watermark)}</td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(p.records)}</td>
                <td className={cx(td, "max-w-[16rem] truncate font-mono text-xs")} title={p.leader ?? ""}>
                  {p.leader ?? <span className="text-amber-600">none</span>}
                </td>
                <td className={td}>{p.leader_epoch}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>
      <ConfigsCard name={t.name} configs={t.configs} />
      <ConfirmDialog
        open={deleting}
        title={`Delete topic ${t.name}?`}
        body={<p>This deletes the topic and all {formatNumber(t.records)} of its records. It cannot be undone.</p>}
        confirmLabel="Delete topic"
        requireText={t.name}
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setDeleting(false)}
      />
    </div>
  );
}

function ConfigsCard({ name, configs }: { name: string; configs: Record<string, string> }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [value, setValue] = useState("");
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (change: Record<string, string | null>) => api.alterConfigs(name, change),
    onSuccess: (topic) => {
      queryClient.setQueryData(["topic", name], topic);
      void queryClient.invalidateQueries({ queryKey: ["topics"] });
      setEditing(null);
    },
  });
  const entries = Object.entries(configs).sort(([a], [b]) => a.localeCompare(b));
  return (
    <Card title="Configs">
      {save.error ? <ErrorBox error={save.error} /> : null}
      <Table label="Topic configs">
        <thead>
          <tr>
            <th className={th}>Name</th>
            <th className={th}>Value</th>
            <th className={th}>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          <TableState colSpan={3} isLoading={false} error={null} isEmpty={entries.length === 0} empty="No configs." />
          {entries.map(([k, v]) => (
            <tr key={k}>
              <td className={cx(td, "font-mono text-xs")}>{k}</td>
              <td className={cx(td, "font-mono text-xs")}>
                {editing === k ? (
                  <form
                    className="flex gap-2"
                    onSubmit={(e) => {
                      e.preventDefault();
                      save.mutate({ [k]: value });
                    }}
                  >
                    <input autoFocus aria-label={`Value of ${k}`} className={inputClass} value={value} onChange={(e) => setValue(e.target.value)} />
                    <Button type="submit" variant="primary" disabled={save.isPending}>
                      Save
                    </Button>
                    <Button onClick={() => setEditing(null)}>Cancel</Button>
                  </form>
                ) : (
                  v
                )}
              </td>
              <td className={cx(td, "text-right")}>
                {editing !== k && (
                  <Button
                    variant="ghost"
                    aria-label={`Edit ${k}`}
                    onClick={() => {
                      setEditing(k);
                      setValue(v);
                    }}
                  >
                    Edit
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </Card>
  );
}
