import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, type TopicSummary } from "../api/client";
import { Button, Dialog, ErrorBox, PageHeader, SortHeader, Table, TableState, cx, inputClass, td, th } from "../components/ui";
import { useToast } from "../components/toasts";
import { formatDuration, formatNumber } from "../lib/format";
import { useTopics } from "../lib/queries";
import { partitionsError, retentionHoursError, topicNameError } from "../lib/validate";

type Field = "name" | "partitions" | "records" | "retention";

function retentionMs(t: TopicSummary): number {
  return Number(t.configs["retention.ms"] ?? -1);
}

export function TopicsPage() {
  const topics = useTopics();
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState("");
  const [sort, setSort] = useState<{ field: Field; dir: "asc" | "desc" }>({ field: "name", dir: "asc" });
  const creating = params.get("create") === "1";

  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const list = (topics.data?.items ?? []).filter((t) => t.name.toLowerCase().includes(needle));
    const key = (t: TopicSummary): string | number =>
      sort.field === "name" ? t.name : sort.field === "partitions" ? t.partitions : sort.field === "records" ? t.records : retentionMs(t);
    return list.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return sort.dir === "asc" ? c : -c;
    });
  }, [topics.data, q, sort]);
  const onSort = (field: Field) => setSort((s) => ({ field, dir: s.field === field && s.dir === "asc" ? "desc" : "asc" }));

  return (
    <div>
      <PageHeader
        title="Topics"
        subtitle={topics.data ? `${topics.data.total} topics` : undefined}
        actions={
          <Button variant="primary" onClick={() => setParams({ create: "1" })}>
            + Create topic
          </Button>
        }
      />
      <input type="search" className={cx(inputClass, "mb-4 w-full max-w-sm")} placeholder="Search topics…" aria-label="Search topics" value={q} onChange={(e) => setQ(e.target.value)} />
      <Table label="Topics">
        <thead>
          <tr>
            <SortHeader label="Name" field="name" sort={sort} onSort={onSort} />
            <SortHeader label="Partitions" field="partitions" sort={sort} onSort={onSort} />
            <SortHeader label="Records" field="records" sort={sort} onSort={onSort} />
            <SortHeader label="Retention" field="retention" sort={sort} onSort={onSort} />
            <th className={th}>Cleanup</th>
          </tr>
        </thead>
        <tbody>
          <TableState
            colSpan={5}
            isLoading={topics.isLoading}
            error={topics.error}
            retry={() => void topics.refetch()}
            isEmpty={rows.length === 0}
            empty={q ? `No topic matches "${q}".` : "No topics yet. Create one to get started."}
          />
          {rows.map((t) => (
            <tr key={t.name} className="hover:bg-slate-50 dark:hover:bg-slate-900/60" data-testid="topic-row">
              <td className={td}>
                <Link className="font-medium text-sky-600 hover:underline dark:text-sky-400" to={`/topics/${encodeURIComponent(t.name)}`}>
                  {t.name}
                </Link>
              </td>
              <td className={cx(td, "tabular-nums")}>{t.partitions}</td>
              <td className={cx(td, "tabular-nums")}>{formatNumber(t.records)}</td>
              <td className={td}>{retentionMs(t) < 0 ? "forever" : formatDuration(retentionMs(t) / 1000)}</td>
              <td className={td}>{t.configs["cleanup.policy"] ?? "delete"}</td>
            </tr>
          ))}
        </tbody>
      </Table>
      <CreateTopicDialog open={creating} onClose={() => setParams({})} />
    </div>
  );
}

function CreateTopicDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("3");
  const [retention, setRetention] = useState("");
  const [touched, setTouched] = useState(false);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const errors = { name: topicNameError(name), partitions: partitionsError(partitions), retention: retentionHoursError(retention) };
  const valid = !errors.name && !errors.partitions && !errors.retention;
  const create = useMutation({
    mutationFn: () => {
      const configs: Record<string, string> = {};
      const r = retention.trim();
      if (r) configs["retention.ms"] = r === "-1" ? "-1" : String(Math.round(Number(r) * 3_600_000));
      return api.createTopic({ name, partitions: Number(partitions), configs });
    },
    onSuccess: async (topic) => {
      await queryClient.invalidateQueries({ queryKey: ["topics"] });
      toast("success", `Topic ${topic.name} created`, `${topic.partitions.length} partitions`);
      setName("");
      setTouched(false);
      onClose();
      navigate(`/topics/${encodeURIComponent(topic.name)}`);
    },
  });
  const field = (label: string, id: string, error: string | null, input: React.ReactNode, hint?: string) => (
    <div>
      <label htmlFor={id} className="mb-1 block text-sm font-medium">
        {label}
      </label>
      {input}
      {touched && error ? (
        <p id={`${id}-error`} className="mt-1 text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      ) : hint ? (
        <p className="mt-1 text-xs text-slate-500">{hint}</p>
      ) : null}
    </div>
  );
  return (
    <Dialog open={open} title="Create topic" onClose={onClose}>
      <form
        className="space-y-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setTouched(true);
          if (valid) create.mutate();
        }}
      >
        {field(
          "Name",
          "topic-name",
          errors.name,
          <input id="topic-name" autoFocus className={cx(inputClass, "w-full")} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={touched && !!errors.name} aria-describedby="topic-name-error" />,
          "Letters, digits, '.', '_' and '-'",
        )}
        {field(
          "Partitions",
          "topic-partitions",
          errors.partitions,
          <input id="topic-partitions" inputMode="numeric" className={cx(inputClass, "w-32")} value={partitions} onChange={(e) => setPartitions(e.target.value)} aria-invalid={touched && !!errors.partitions} />,
        )}
        {field(
          "Retention (hours)",
          "topic-retention",
          errors.retention,
          <input id="topic-retention" className={cx(inputClass, "w-32")} placeholder="default" value={retention} onChange={(e) => setRetention(e.target.value)} aria-invalid={touched && !!errors.retention} />,
          "Empty for the default (7 days), -1 to keep forever",
        )}
        {create.error ? <ErrorBox error={create.error} /> : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
