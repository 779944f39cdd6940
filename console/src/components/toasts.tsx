// Toast notifications for critical live events (lag over threshold, agent down).
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export type ToastKind = "info" | "warn" | "error" | "success";
interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: string;
}

const ToastContext = createContext<(kind: ToastKind, title: string, body?: string) => void>(() => {});

export function useToast() {
  return useContext(ToastContext);
}

const STYLE: Record<ToastKind, string> = {
  info: "border-sky-500",
  warn: "border-amber-500",
  error: "border-red-500",
  success: "border-emerald-500",
};

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const push = useCallback(
    (kind: ToastKind, title: string, body?: string) => {
      const id = next.current++;
      setToasts((t) => [...t.slice(-4), { id, kind, title, body }]);
      setTimeout(() => dismiss(id), kind === "error" ? 10000 : 6000);
    },
    [dismiss],
  );
  const value = useMemo(() => push, [push]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div
        aria-live="polite"
        role="status"
        className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-80 max-w-[calc(100vw-2rem)] flex-col gap-2"
      >
        {toasts.map((t) => (
          <div
            key={t.id}
            data-testid="toast"
            className={`pointer-events-auto rounded-md border-l-4 bg-white p-3 text-sm shadow-lg dark:bg-slate-800 ${STYLE[t.kind]}`}
          >
            <div className="flex items-start justify-between gap-2">
              <p className="font-medium">{t.title}</p>
              <button
                type="button"
                aria-label="Dismiss notification"
                className="text-slate-500 hover:text-slate-900 dark:hover:text-white"
                onClick={() => dismiss(t.id)}
              >
                ×
              </button>
            </div>
            {t.body && <p className="mt-1 text-slate-600 dark:text-slate-300">{t.body}</p>}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
