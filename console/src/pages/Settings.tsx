import { useState } from "react";
import { Button, Card, PageHeader, cx, inputClass } from "../components/ui";
import { REFRESH_CHOICES, useSettings } from "../lib/settings";

export function SettingsPage() {
  const [settings, save] = useSettings();
  const [warn, setWarn] = useState(String(settings.lag.warn));
  const [critical, setCritical] = useState(String(settings.lag.critical));
  const w = Number(warn);
  const c = Number(critical);
  const lagError =
    !/^\d+$/.test(warn) || !/^\d+$/.test(critical) ? "Whole numbers only" : c < w ? "The red threshold must be at least the yellow one" : null;
  return (
    <div className="max-w-2xl space-y-6">
      <PageHeader title="Settings" subtitle="Kept in this browser (local storage)." />
      <Card title="Auto-refresh">
        <div role="radiogroup" aria-label="Refresh interval" className="flex flex-wrap gap-2">
          {REFRESH_CHOICES.map((choice) => (
            <label key={choice.label} className={cx("cursor-pointer rounded-md border px-3 py-1.5 text-sm", settings.refreshMs === choice.ms ? "border-sky-500 bg-sky-600 text-white" : "border-slate-300 dark:border-slate-700")}>
              <input type="radio" name="refresh" className="sr-only" checked={settings.refreshMs === choice.ms} onChange={() => save({ ...settings, refreshMs: choice.ms })} />
              {choice.label}
            </label>
          ))}
        </div>
        <p className="mt-2 text-xs text-slate-500">How often pages poll the REST API. Live WebSocket updates continue either way.</p>
      </Card>
      <Card title="Lag thresholds">
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (!lagError) save({ ...settings, lag: { warn: w, critical: c } });
          }}
        >
          <label className="text-sm">
            <span className="mb-1 block text-xs">Yellow above</span>
            <input className={cx(inputClass, "w-28")} inputMode="numeric" value={warn} onChange={(e) => setWarn(e.target.value)} />
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-xs">Red above</span>
            <input className={cx(inputClass, "w-28")} inputMode="numeric" value={critical} onChange={(e) => setCritical(e.target.value)} />
          </label>
          <Button type="submit" variant="primary" disabled={!!lagError}>
            Save thresholds
          </Button>
        </form>
        {lagError && <p className="mt-2 text-xs text-red-600">{lagError}</p>}
      </Card>
      <Card title="Theme">
        <div role="radiogroup" aria-label="Theme" className="flex gap-2">
          {(["dark", "light"] as const).map((theme) => (
            <label key={theme} className={cx("cursor-pointer rounded-md border px-3 py-1.5 text-sm capitalize", settings.theme === theme ? "border-sky-500 bg-sky-600 text-white" : "border-slate-300 dark:border-slate-700")}>
              <input type="radio" name="theme" className="sr-only" checked={settings.theme === theme} onChange={() => save({ ...settings, theme })} />
              {theme}
            </label>
          ))}
        </div>
      </Card>
    </div>
  );
}
