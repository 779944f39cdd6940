import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { NavLink, Route, Routes, useNavigate } from "react-router-dom";
import { api } from "./api/client";
import { cx, inputClass } from "./components/ui";
import { useLiveStatus } from "./lib/live";
import { useRefetchInterval, useSettings } from "./lib/settings";
import { Dashboard } from "./pages/Dashboard";
import { TopicsPage } from "./pages/Topics";
import { TopicDetailPage } from "./pages/TopicDetail";
import { MessagesPage } from "./pages/Messages";
import { GroupsPage } from "./pages/Groups";
import { GroupDetailPage } from "./pages/GroupDetail";
import { AgentsPage } from "./pages/Agents";
import { StoragePage } from "./pages/Storage";
import { ProducersPage } from "./pages/Producers";
import { SettingsPage } from "./pages/Settings";

const NAV = [
  { to: "/", label: "Dashboard", icon: "▦" },
  { to: "/topics", label: "Topics", icon: "☰" },
  { to: "/messages", label: "Messages", icon: "✉" },
  { to: "/consumer-groups", label: "Consumer groups", icon: "⇶" },
  { to: "/producers", label: "Producers", icon: "↗" },
  { to: "/storage", label: "Storage & cache", icon: "⛁" },
  { to: "/agents", label: "Agents", icon: "⚙" },
  { to: "/settings", label: "Settings", icon: "✎" },
];

function ConnectionIndicator() {
  const status = useLiveStatus();
  const label = status === "open" ? "Live" : status === "connecting" ? "Connecting" : "Offline (polling)";
  const color = status === "open" ? "bg-emerald-500" : status === "connecting" ? "bg-amber-500" : "bg-red-500";
  return (
    <span className="inline-flex items-center gap-1.5 text-xs" data-testid="ws-status" data-status={status} title="Live updates over WebSocket">
      <span aria-hidden className={cx("h-2 w-2 rounded-full", color)} />
      {label}
    </span>
  );
}

function HealthIndicator() {
  const refetchInterval = useRefetchInterval();
  const { data, isError } = useQuery({ queryKey: ["health"], queryFn: api.health, refetchInterval });
  const ok = data?.ready && !isError;
  const title = data?.problems.join("; ") || (isError ? "agent unreachable" : "ready");
  return (
    <span className="inline-flex items-center gap-1.5 text-xs" data-testid="health" title={title}>
      <span aria-hidden className={cx("h-2 w-2 rounded-full", data === undefined && !isError ? "bg-slate-400" : ok ? "bg-emerald-500" : "bg-red-500")} />
      Health: {data === undefined && !isError ? "…" : ok ? "OK" : "Unavailable"}
    </span>
  );
}

function ThemeToggle() {
  const [settings, save] = useSettings();
  const dark = settings.theme === "dark";
  return (
    <button
      type="button"
      className="rounded-md px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
      aria-label={dark ? "Switch to light theme" : "Switch to dark theme"}
      onClick={() => save({ ...settings, theme: dark ? "light" : "dark" })}
    >
      {dark ? "☾" : "☀"}
    </button>
  );
}

/** Searches topics, groups and agents by name; Enter opens the first match. */
function GlobalSearch() {
  const [q, setQ] = useState("");
  const navigate = useNavigate();
  const topics = useQuery({ queryKey: ["topics"], queryFn: api.listTopics, enabled: q.length > 0 });
  const groups = useQuery({ queryKey: ["groups"], queryFn: api.listGroups, enabled: q.length > 0 });
  const agents = useQuery({ queryKey: ["agents"], queryFn: api.agents, enabled: q.length > 0 });
  const results = useMemo(() => {
    const needle = q.trim().toLowerCase();
    if (!needle) return [];
    const out: { kind: string; name: string; to: string }[] = [];
    for (const t of topics.data?.items ?? [])
      if (t.name.toLowerCase().includes(needle)) out.push({ kind: "topic", name: t.name, to: `/topics/${encodeURIComponent(t.name)}` });
    for (const g of groups.data?.items ?? [])
      if (g.group_id.toLowerCase().includes(needle))
        out.push({ kind: "group", name: g.group_id, to: `/consumer-groups/${encodeURIComponent(g.group_id)}` });
    for (const a of agents.data ?? [])
      if (a.agent_id.toLowerCase().includes(needle)) out.push({ kind: "agent", name: a.agent_id, to: `/agents?id=${encodeURIComponent(a.agent_id)}` });
    return out.slice(0, 8);
  }, [q, topics.data, groups.data, agents.data]);
  const go = (to: string) => {
    setQ("");
    navigate(to);
  };
  return (
    <div className="relative w-full max-w-xs">
      <input
        type="search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && results[0]) go(results[0].to);
          if (e.key === "Escape") setQ("");
        }}
        placeholder="Search topics, groups, agents…"
        aria-label="Global search"
        className={cx(inputClass, "w-full")}
      />
      {results.length > 0 && (
        <ul className="absolute z-40 mt-1 w-full overflow-hidden rounded-md border border-slate-200 bg-white shadow-lg dark:border-slate-700 dark:bg-slate-900" role="listbox" aria-label="Search results">
          {results.map((r) => (
            <li key={`${r.kind}:${r.name}`}>
              <button type="button" className="flex w-full items-center gap-2 px-3 py-2 text-left text-sm hover:bg-slate-100 dark:hover:bg-slate-800" onClick={() => go(r.to)}>
                <span className="w-12 text-xs text-slate-500">{r.kind}</span>
                <span className="truncate">{r.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function App() {
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div className="flex min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:z-50 focus:bg-sky-600 focus:p-2 focus:text-white">
        Skip to content
      </a>
      <nav
        aria-label="Main"
        className={cx(
          "fixed inset-y-0 left-0 z-30 w-56 shrink-0 border-r border-slate-200 bg-slate-50 p-3 transition-transform md:static md:translate-x-0 dark:border-slate-800 dark:bg-slate-900",
          menuOpen ? "translate-x-0" : "-translate-x-full",
        )}
      >
        <div className="mb-6 flex items-center gap-2 px-2 pt-1 text-lg font-semibold">
          <img src="/favicon.svg" alt="" className="h-6 w-6" /> StreamHouse
        </div>
        <ul className="space-y-1">
          {NAV.map((item) => (
            <li key={item.to}>
              <NavLink
                to={item.to}
                end={item.to === "/"}
                onClick={() => setMenuOpen(false)}
                className={({ isActive }) =>
                  cx(
                    "flex items-center gap-2 rounded-md px-2 py-1.5 text-sm",
                    isActive ? "bg-sky-600 text-white" : "text-slate-700 hover:bg-slate-200 dark:text-slate-300 dark:hover:bg-slate-800",
                  )
                }
              >
                <span aria-hidden className="w-4 text-center">
                  {item.icon}
                </span>
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      {menuOpen && <div className="fixed inset-0 z-20 bg-black/40 md:hidden" onClick={() => setMenuOpen(false)} aria-hidden />}
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="sticky top-0 z-10 flex items-center gap-3 border-b border-slate-200 bg-white/90 px-4 py-2 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
          <button type="button" className="rounded-md px-2 py-1 md:hidden" aria-label="Open navigation" aria-expanded={menuOpen} onClick={() => setMenuOpen((o) => !o)}>
            ☰
          </button>
          <GlobalSearch />
          <div className="ml-auto flex items-center gap-4">
            <HealthIndicator />
            <ConnectionIndicator />
            <ThemeToggle />
          </div>
        </header>
        <main id="main" className="min-w-0 flex-1 p-4 md:p-6">
          <Routes>
            <Route path="/" element={<Dashboard />} />
            <Route path="/topics" element={<TopicsPage />} />
            <Route path="/topics/:name" element={<TopicDetailPage />} />
            <Route path="/messages" element={<MessagesPage />} />
            <Route path="/topics/:name/messages" element={<MessagesPage />} />
            <Route path="/consumer-groups" element={<GroupsPage />} />
            <Route path="/consumer-groups/:id" element={<GroupDetailPage />} />
            <Route path="/producers" element={<ProducersPage />} />
            <Route path="/storage" element={<StoragePage />} />
            <Route path="/agents" element={<AgentsPage />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </main>
      </div>
    </div>
  );
}

function NotFound() {
  return (
    <div className="py-20 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <NavLink to="/" className="mt-4 inline-block text-sky-600 underline">
        Back to the dashboard
      </NavLink>
    </div>
  );
}
