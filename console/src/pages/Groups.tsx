import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import type { GroupSummary } from "../api/client";
import { Badge, LagBadge, PageHeader, SortHeader, Table, TableState, cx, inputClass, td } from "../components/ui";
import { formatNumber } from "../lib/format";
import { classifyLag } from "../lib/lag";
import { useGroups } from "../lib/queries";
import { useSettings } from "../lib/settings";

type Field = "group_id" | "state" | "members" | "total_lag";

export function stateTone(state: string) {
  return state === "Stable" ? "green" : state === "Empty" ? "slate" : state === "Dead" ? "red" : "yellow";
}

export function GroupsPage() {
  const groups = useGroups();
  const [settings] = useSettings();
  const [q, setQ] = useState("");
  const [onlyLagging, setOnlyLagging] = useState(false);
  const [sort, setSort] = useState<{ field: Field; dir: "asc" | "desc" }>({ field: "total_lag", dir: "desc" });
  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (groups.data?.items ?? [])
      .filter((g) => g.group_id.toLowerCase().includes(needle))
      .filter((g) => !onlyLagging || classifyLag(g.total_lag, settings.lag) !== "ok")
      .sort((a: GroupSummary, b: GroupSummary) => {
        const x = a[sort.field];
        const y = b[sort.field];
        const c = x < y ? -1 : x > y ? 1 : 0;
        return sort.dir === "asc" ? c : -c;
      });
  }, [groups.data, q, onlyLagging, sort, settings.lag]);
  const onSort = (field: Field) => setSort((s) => ({ field, dir: s.field === field && s.dir === "desc" ? "asc" : "desc" }));
  return (
    <div>
      <PageHeader title="Consumer groups" subtitle={`Lag: red above ${formatNumber(settings.lag.critical)}, yellow above ${formatNumber(settings.lag.warn)} (Settings)`} />
      <div className="mb-4 flex flex-wrap items-center gap-4">
        <input type="search" className={cx(inputClass, "w-full max-w-sm")} placeholder="Search groups…" aria-label="Search groups" value={q} onChange={(e) => setQ(e.target.value)} />
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={onlyLagging} onChange={(e) => setOnlyLagging(e.target.checked)} /> Only lagging
        </label>
      </div>
      <Table label="Consumer groups">
        <thead>
          <tr>
            <SortHeader label="Group" field="group_id" sort={sort} onSort={onSort} />
            <SortHeader label="State" field="state" sort={sort} onSort={onSort} />
            <SortHeader label="Members" field="members" sort={sort} onSort={onSort} />
            <SortHeader label="Lag" field="total_lag" sort={sort} onSort={onSort} />
            <th className="bg-slate-50 px-3 py-2 text-xs font-semibold text-slate-600 uppercase dark:bg-slate-900 dark:text-slate-400">Status</th>
          </tr>
        </thead>
        <tbody>
          <TableState
            colSpan={5}
            isLoading={groups.isLoading}
            error={groups.error}
            retry={() => void groups.refetch()}
            isEmpty={rows.length === 0}
            empty={q || onlyLagging ? "No group matches." : "No consumer groups yet. They appear when a consumer joins or commits offsets."}
          />
          {rows.map((g) => (
            <tr key={g.group_id} data-testid="group-row" data-group={g.group_id}>
              <td className={td}>
                <Link className="font-medium text-sky-600 hover:underline dark:text-sky-400" to={`/consumer-groups/${encodeURIComponent(g.group_id)}`}>
                  {g.group_id}
                </Link>
              </td>
              <td className={td}>
                <Badge tone={stateTone(g.state)}>{g.state}</Badge>
              </td>
              <td className={cx(td, "tabular-nums")}>{g.members}</td>
              <td className={cx(td, "tabular-nums")} data-testid="group-lag">
                {formatNumber(g.total_lag)}
              </td>
              <td className={td}>
                <LagBadge lag={g.total_lag} thresholds={settings.lag} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
    </div>
  );
}
