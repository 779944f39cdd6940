// A small component kit: cards, buttons, badges, tables with loading/empty/error states,
// and an accessible confirmation dialog.
import { useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type ReactNode } from "react";
import { classifyLag, LAG_LABEL, type LagThresholds } from "../lib/lag";
import { formatNumber } from "../lib/format";

export function cx(...parts: (string | false | null | undefined)[]) {
  return parts.filter(Boolean).join(" ");
}

export function PageHeader({ title, actions, subtitle }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-center justify-between gap-3">
      <div className="min-w-0">
        <h1 className="truncate text-2xl font-semibold">{title}</h1>
        {subtitle && <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{subtitle}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}

export function Card({ title, children, className, actions }: { title?: ReactNode; children: ReactNode; className?: string; actions?: ReactNode }) {
  return (
    <section className={cx("rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900", className)}>
      {(title || actions) && (
        <div className="mb-3 flex items-center justify-between gap-2">
          {title && <h2 className="text-sm font-semibold text-slate-600 uppercase tracking-wide dark:text-slate-300">{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value, hint, testId }: { label: string; value: ReactNode; hint?: ReactNode; testId?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900" data-testid={testId}>
      <p className="text-xs font-medium text-slate-500 uppercase tracking-wide dark:text-slate-400">{label}</p>
      <p className="mt-1 text-2xl font-semibold tabular-nums">{value}</p>
      {hint && <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p>}
    </div>
  );
}

type Variant = "primary" | "secondary" | "danger" | "ghost";
const VARIANT: Record<Variant, string> = {
  primary: "bg-sky-600 text-white hover:bg-sky-500 disabled:bg-sky-900",
  secondary:
    "border border-slate-300 bg-white text-slate-800 hover:bg-slate-100 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700",
  danger: "bg-red-600 text-white hover:bg-red-500 disabled:bg-red-900",
  ghost: "text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800",
};

export function Button({ variant = "secondary", className, ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return (
    <button
      type="button"
      {...props}
      className={cx(
        "inline-flex items-center justify-center gap-1 rounded-md px-3 py-1.5 text-sm font-medium transition-colors disabled:cursor-not-allowed disabled:opacity-60",
        VARIANT[variant],
        className,
      )}
    />
  );
}

export const inputClass =
  "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-950 focus:border-sky-500";

type Tone = "green" | "yellow" | "red" | "slate" | "sky";
const TONE: Record<Tone, string> = {
  green: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300",
  yellow: "bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300",
  red: "bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300",
  slate: "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
  sky: "bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300",
};

export function Badge({ tone = "slate", children, testId }: { tone?: Tone; children: ReactNode; testId?: string }) {
  return (
    <span data-testid={testId} className={cx("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium", TONE[tone])}>
      {children}
    </span>
  );
}

export function LagBadge({ lag, thresholds }: { lag: number | null | undefined; thresholds: LagThresholds }) {
  const level = classifyLag(lag, thresholds);
  const tone: Tone = level === "critical" ? "red" : level === "warn" ? "yellow" : "green";
  return (
    <Badge tone={tone} testId={`lag-${level}`}>
      <span aria-hidden className={cx("mr-1 inline-block h-2 w-2 rounded-full", level === "critical" ? "bg-red-500" : level === "warn" ? "bg-amber-500" : "bg-emerald-500")} />
      {LAG_LABEL[level]}
    </Badge>
  );
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <span role="status" className="inline-flex items-center gap-2 text-sm text-slate-500">
      <span aria-hidden className="h-4 w-4 animate-spin rounded-full border-2 border-slate-400 border-t-transparent" />
      {label}…
    </span>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="flex flex-wrap items-center gap-3 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950/50 dark:text-red-300">
      <span>Could not load: {message}</span>
      {retry && (
        <Button onClick={retry} variant="secondary">
          Retry
        </Button>
      )}
    </div>
  );
}

/**
 * A table body that shows loading, error and empty states in place of rows.
 * `colSpan` is the number of columns.
 */
export function TableState({ isLoading, error, isEmpty, colSpan, empty, retry }: {
  isLoading: boolean;
  error: unknown;
  isEmpty: boolean;
  colSpan: number;
  empty: ReactNode;
  retry?: () => void;
}) {
  let content: ReactNode = null;
  if (isLoading) content = <Spinner />;
  else if (error) content = <ErrorBox error={error} retry={retry} />;
  else if (isEmpty) content = <span className="text-sm text-slate-500">{empty}</span>;
  if (!content) return null;
  return (
    <tr>
      <td colSpan={colSpan} className="px-3 py-6 text-center">
        {content}
      </td>
    </tr>
  );
}

export function Table({ children, label }: { children: ReactNode; label: string }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
      <table aria-label={label} className="w-full min-w-[36rem] text-left text-sm">
        {children}
      </table>
    </div>
  );
}

export const th = "bg-slate-50 px-3 py-2 text-xs font-semibold text-slate-600 uppercase tracking-wide dark:bg-slate-900 dark:text-slate-400";
export const td = "border-t border-slate-100 px-3 py-2 dark:border-slate-800";

export function SortHeader<K extends string>({ label, field, sort, onSort, className }: {
  label: string;
  field: K;
  sort: { field: K; dir: "asc" | "desc" };
  onSort: (field: K) => void;
  className?: string;
}) {
  const active = sort.field === field;
  return (
    <th className={cx(th, className)} aria-sort={active ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" className="inline-flex items-center gap-1 uppercase hover:text-slate-900 dark:hover:text-white" onClick={() => onSort(field)}>
        {label}
        <span aria-hidden>{active ? (sort.dir === "asc" ? "▲" : "▼") : "↕"}</span>
      </button>
    </th>
  );
}

/** A modal dialog: focus moves in, Escape closes, focus returns on close. */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      className="m-auto w-[32rem] max-w-[calc(100vw-2rem)] rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-black/50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
    >
      {open && (
        <div className="p-5">
          <h2 id={titleId} className="mb-3 text-lg font-semibold">
            {title}
          </h2>
          {children}
        </div>
      )}
    </dialog>
  );
}

export function ConfirmDialog({ open, title, body, confirmLabel, onConfirm, onClose, busy, error, requireText }: {
  open: boolean;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  busy?: boolean;
  error?: unknown;
  /** If set, the user must type this to enable the button (for destructive actions). */
  requireText?: string;
}) {
  const [typed, setTyped] = useState("");
  useEffect(() => {
    if (open) setTyped("");
  }, [open]);
  const ok = !requireText || typed === requireText;
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <div className="space-y-3 text-sm">
        <div>{body}</div>
        {requireText && (
          <label className="block">
            <span className="mb-1 block text-slate-600 dark:text-slate-300">
              Type <code className="font-mono font-semibold">{requireText}</code> to confirm
            </span>
            <input
              autoFocus
              value={typed}
              className={cx(inputClass, "w-full")}
              aria-label="Confirmation"
              onChange={(e) => setTyped(e.target.value)}
            />
          </label>
        )}
        {error ? <ErrorBox error={error} /> : null}
        <div className="flex justify-end gap-2 pt-2">
          <Button onClick={onClose} autoFocus={!requireText}>
            Cancel
          </Button>
          <Button variant="danger" disabled={!ok || busy} onClick={onConfirm}>
            {busy ? "Working…" : confirmLabel}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}

export function Num({ value }: { value: number | null | undefined }) {
  return <span className="tabular-nums">{formatNumber(value)}</span>;
}
