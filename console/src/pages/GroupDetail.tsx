import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { api, type ResetOffset } from "../api/client";
import { TimeChart } from "../components/charts";
import { Badge, Button, Card, ConfirmDialog, ErrorBox, LagBadge, PageHeader, Spinner, Stat, Table, TableState, cx, td, th } from "../components/ui";
import { useToast } from "../components/toasts";
import { formatNumber } from "../lib/format";
import { useHistory } from "../lib/queries";
import { useRefetchInterval, useSettings } from "../lib/settings";
import { stateTone } from "./Groups";

export function GroupDetailPage() {
  const { id = "" } = useParams();
  const refetchInterval = useRefetchInterval();
  const history = useHistory();
  const [settings] = useSettings();
  const [resetTo, setResetTo] = useState<"earliest" | "latest" | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [lastReset, setLastReset] = useState<ResetOffset[] | null>(null);
  const queryClient = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const reset = useMutation({
    mutationFn: (to: "earliest" | "latest") => api.resetGroup(id, { to }),
    onSuccess: async (offsets, to) => {
      setResetTo(null);
      setLastReset(offsets);
      toast("success", `Offsets of ${id} reset to ${to}`, `${offsets.length} partitions`);
      await queryClient.invalidateQueries({ queryKey: ["groups"] });
    },
  });
  const remove = useMutation({
    mutationFn: () => api.deleteGroup(id),
    onSuccess: async () => {
      setDeleting(false);
      toast("success", `Group ${id} deleted`);
      navigate("/consumer-groups");
      await queryClient.invalidateQueries({ queryKey: ["groups"], exact: true });
    },
  });
  const group = useQuery({ queryKey: ["groups", id], queryFn: () => api.group(id), refetchInterval, enabled: !remove.isSuccess });

  if (group.isLoading) return <Spinner />;
  if (group.error) return <ErrorBox error={group.error} retry={() => void group.refetch()} />;
  const g = group.data;
  if (!g) return null;
  const trend = (history.data?.samples ?? []).filter((s) => id in s.group_lag).map((s) => ({ t: s.at_ms, lag: s.group_lag[id] ?? 0 }));
  const topics = [...new Set(g.partitions.map((p) => p.topic))];
  const hasMembers = g.members.length > 0;

  return (
    <div className="space-y-6">
      <PageHeader
        title={
          <>
            <span className="text-slate-500">Consumer group:</span> {g.group_id}
          </>
        }
        subtitle={`Topics: ${topics.join(", ") || "none"}`}
        actions={
          <>
            <Button onClick={() => setResetTo("earliest")}>Reset to earliest</Button>
            <Button onClick={() => setResetTo("latest")}>Reset to latest</Button>
            <Button variant="danger" onClick={() => setDeleting(true)}>
              Delete group
            </Button>
          </>
        }
      />
      <div className="grid grid-cols-2 gap-4 lg:grid-cols-4">
        <Stat label="State" value={<Badge tone={stateTone(g.state)}>{g.state}</Badge>} hint={g.protocol ? `assignor ${g.protocol}, generation ${g.generation}` : `generation ${g.generation}`} />
        <Stat label="Members" value={g.members.length} />
        <Stat label="Total lag" value={<span data-testid="group-total-lag">{formatNumber(g.total_lag)}</span>} hint={<LagBadge lag={g.total_lag} thresholds={settings.lag} />} />
        <Stat label="Partitions" value={g.partitions.length} />
      </div>
      <Card title="Lag trend">
        <TimeChart label={`Lag trend of ${g.group_id}`} data={trend} series={[{ key: "lag", label: "lag", color: "#f59e0b" }]} unit=" records" />
      </Card>
      <Card title="Partition lag">
        <Table label="Partition lag">
          <thead>
            <tr>
              <th className={th}>Topic</th>
              <th className={th}>Partition</th>
              <th className={th}>Committed</th>
              <th className={th}>Log end</th>
              <th className={th}>Lag</th>
              <th className={th}>Member</th>
            </tr>
          </thead>
          <tbody>
            <TableState colSpan={6} isLoading={false} error={null} isEmpty={g.partitions.length === 0} empty="No committed offsets." />
            {g.partitions.map((p) => (
              <tr key={`${p.topic}:${p.partition}`} data-testid="partition-lag-row">
                <td className={td}>{p.topic}</td>
                <td className={td}>{p.partition}</td>
                <td className={cx(td, "tabular-nums")} data-testid="committed-offset">
                  {p.committed_offset ?? "—"}
                </td>
                <td className={cx(td, "tabular-nums")}>{formatNumber(p.log_end_offset)}</td>
                <td className={cx(td, "tabular-nums")}>
                  {formatNumber(p.lag)} <LagBadge lag={p.lag} thresholds={settings.lag} />
                </td>
                <td className={cx(td, "max-w-[14rem] truncate font-mono text-xs")} title={p.member_id ?? ""}>
                  {p.member_id ?? "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>
      <Card title="Members">
        <Table label="Members">
          <thead>
            <tr>
              <th className={th}>Member</th>
              <th className={th}>Client</th>
              <th className={th}>Host</th>
              <th className={th}>Assignment</th>
            </tr>
          </thead>
          <tbody>
            <TableState colSpan={4} isLoading={false} error={null} isEmpty={!hasMembers} empty="No active members (offsets can be reset)." />
            {g.members.map((m) => (
              <tr key={m.member_id}>
                <td className={cx(td, "max-w-[16rem] truncate font-mono text-xs")} title={m.member_id}>
                  {m.member_id}
                  {m.instance_id ? <Badge tone="sky">static {m.instance_id}</Badge> : null}
                </td>
                <td className={td}>{m.client_id}</td>
                <td className={td}>{m.client_host}</td>
                <td className={cx(td, "text-xs")}>{m.assignment.map((a) => `${a.topic}-${a.partition}`).join(", ") || "—"}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>
      {lastReset && (
        <Card title="Last reset">
          <ul className="text-sm" data-testid="reset-result">
            {lastReset.map((o) => (
              <li key={`${o.topic}:${o.partition}`}>
                {o.topic}-{o.partition} → offset {o.offset}
              </li>
            ))}
          </ul>
        </Card>
      )}
      <ConfirmDialog
        open={resetTo !== null}
        title={`Reset ${g.group_id} to ${resetTo ?? ""}?`}
        body={
          <div className="space-y-2">
            <p>
              {resetTo === "earliest"
                ? "The group will re-read every stored record of its topics."
                : "The group will skip every record stored now and read only new ones."}
            </p>
            {hasMembers && <p className="text-amber-600 dark:text-amber-400">The group has active members: the agent refuses resets until they stop.</p>}
          </div>
        }
        confirmLabel={`Reset to ${resetTo ?? ""}`}
        busy={reset.isPending}
        error={reset.error}
        onConfirm={() => resetTo && reset.mutate(resetTo)}
        onClose={() => {
          setResetTo(null);
          reset.reset();
        }}
      />
      <ConfirmDialog
        open={deleting}
        title={`Delete group ${g.group_id}?`}
        body={<p>This deletes the group and its committed offsets.</p>}
        confirmLabel="Delete group"
        requireText={g.group_id}
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setDeleting(false)}
      />
    </div>
  );
}
