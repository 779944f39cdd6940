// Time-series charts on Recharts.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatClock, formatCompact } from "../lib/format";

export interface Series {
  key: string;
  label: string;
  color: string;
}

export function TimeChart({ data, series, height = 220, unit = "", label, empty }: {
  data: Record<string, number>[];
  series: Series[];
  height?: number;
  unit?: string;
  label: string;
  /** What to say while there are no points. */
  empty?: string;
}) {
  if (data.length === 0) {
    return (
      <div className="flex items-center justify-center text-sm text-slate-500" style={{ height }} role="img" aria-label={`${label}: no samples yet`}>
        {empty ?? "No samples yet: the agent samples its metrics every few seconds."}
      </div>
    );
  }
  return (
    <div role="img" aria-label={label} style={{ height }}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 5, right: 10, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} />
          <XAxis dataKey="t" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={formatClock} fontSize={11} stroke="currentColor" strokeOpacity={0.5} />
          <YAxis tickFormatter={(v: number) => formatCompact(v)} fontSize={11} width={48} stroke="currentColor" strokeOpacity={0.5} allowDecimals={false} />
          <Tooltip
            labelFormatter={(v) => formatClock(Number(v))}
            formatter={(v) => `${formatCompact(Number(v))}${unit}`}
            contentStyle={{ background: "rgb(15 23 42)", border: "1px solid rgb(51 65 85)", color: "white", fontSize: 12 }}
          />
          {series.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} />}
          {series.map((s) => (
            <Line key={s.key} type="monotone" dataKey={s.key} name={s.label} stroke={s.color} dot={false} strokeWidth={2} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
