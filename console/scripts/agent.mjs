// Starts a real `streamhouse serve` on free loopback ports with a temp data dir, for the
// API type generator and the end-to-end tests.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/**
 * @param {string} bin path to the streamhouse binary
 * @param {string[]} [extraArgs]
 * @returns {Promise<{http: string, kafka: string, stop: () => Promise<void>, pid: number}>}
 */
export async function startAgent(bin, extraArgs = []) {
  const dataDir = mkdtempSync(join(tmpdir(), "streamhouse-console-"));
  const child = spawn(
    bin,
    [
      "serve",
      "--data-dir",
      dataDir,
      "--kafka-listen",
      "127.0.0.1:0",
      "--http-listen",
      "127.0.0.1:0",
      ...extraArgs,
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, STREAMHOUSE_LOG__FILTER: "warn", RUST_LOG: "" },
    },
  );
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("agent not ready within 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`agent exited early with ${code}`)));
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const kafka = /Kafka on ([^;\s]+)/.exec(line);
      const http = /HTTP on ([^;\s]+)/.exec(line);
      if (kafka && http) {
        clearTimeout(timer);
        resolve({ kafka: kafka[1], http: `http://${http[1]}` });
      }
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timeout);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...ready, stop, pid: child.pid ?? 0 };
}
