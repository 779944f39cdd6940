// End-to-end: the real agent binary, a real headless Chromium (playwright-core driving
// Debian's chromium), real Kafka clients (kcat and confluent-kafka). Needs
// STREAMHOUSE_BIN; writes screenshots of every page to e2e/artifacts/, and with
// UPDATE_DOCS_SCREENSHOT=1 also docs/console-dashboard.png.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startAgent } from "../scripts/agent.mjs";
import { render } from "../scripts/gen-api.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const artifacts = `${here}artifacts/`;
const bin = process.env.STREAMHOUSE_BIN;
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOPIC = "e2e-orders";
const GROUP = "e2e-group";
const KEYS = Array.from({ length: 10 }, (_, i) => `key-${i}`);

let agent;
let browser;
let page;
const pageErrors = [];

async function rest(path, init) {
  const res = await fetch(`${agent.http}${path}`, init);
  const body = await res.json().catch(() => null);
  return { status: res.status, body };
}

function kcatProduce(lines) {
  execFileSync("kcat", ["-P", "-b", agent.kafka, "-t", TOPIC, "-K:"], { input: `${lines.join("\n")}\n` });
}

async function shot(name) {
  const path = `${artifacts}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until fn() returns a truthy value (polling REST), or fails after `ms`. */
async function eventually(what, fn, ms = 20_000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

before(async () => {
  assert.ok(bin, "set STREAMHOUSE_BIN to the streamhouse binary (cargo builds it as target/debug/streamhouse)");
  assert.ok(existsSync(chromiumPath), `no Chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  assert.equal(spawnSync("kcat", ["-V"]).status, 0, "kcat is missing: apt-get install -y kcat");
  mkdirSync(artifacts, { recursive: true });
  agent = await startAgent(bin, ["--http-metrics-interval", "1s", "--http-lag-alert-threshold", "100"]);
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(`${m.text()} (${m.location().url})`);
  });
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

test("the committed OpenAPI document and generated types match the live server", async () => {
  const res = await fetch(`${agent.http}/api/v1/openapi.json`);
  const out = await render(await res.json());
  const committedDoc = readFileSync(`${here}../src/api/openapi.json`, "utf8");
  const committedTypes = readFileSync(`${here}../src/api/schema.d.ts`, "utf8");
  assert.equal(out.doc, committedDoc, "src/api/openapi.json drifted from the server: run npm run gen:api");
  assert.equal(out.types, committedTypes, "src/api/schema.d.ts drifted from the server: run npm run gen:api");
});

test("the agent serves the console with SPA fallback", async () => {
  for (const path of ["/", "/topics/anything", "/consumer-groups/x"]) {
    const res = await fetch(`${agent.http}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /<div id="root">/, `${path} should be the built console, not the not-built page`);
  }
  const api404 = await fetch(`${agent.http}/api/v1/nope`);
  assert.equal(api404.status, 404);
  assert.match(api404.headers.get("content-type") ?? "", /application\/json/);
});

test("dashboard loads, live feed connects", async () => {
  await page.goto(agent.http);
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.locator('[data-testid="ws-status"][data-status="open"]').waitFor();
  await page.getByText("Health: OK").waitFor();
  assert.equal(await page.getByTestId("stat-agents").locator("p").nth(1).textContent(), "1 / 1");
});

test("create a topic in the UI, with validation", async () => {
  await page.getByRole("link", { name: "Topics" }).click();
  await page.getByText("No topics yet").waitFor();
  await page.getByRole("button", { name: "+ Create topic" }).click();
  const dialog = page.getByRole("dialog", { name: "Create topic" });
  await dialog.getByLabel("Name").fill("bad name!");
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.getByText("Only letters, digits").waitFor();
  await dialog.getByLabel("Name").fill(TOPIC);
  await dialog.getByLabel("Partitions").fill("3");
  await shot("topic-create");
  await dialog.getByRole("button", { name: "Create" }).click();
  await page.getByRole("heading", { name: `Topic: ${TOPIC}` }).waitFor();
  const { status, body } = await rest(`/api/v1/topics/${TOPIC}`);
  assert.equal(status, 200);
  assert.equal(body.partitions.length, 3);
});

test("records produced with kcat show in the message browser with their keys and values", async () => {
  kcatProduce(KEYS.map((k, i) => `${k}:{"n":${i},"key":"${k}"}`));
  const topic = await eventually("10 records", async () => {
    const { body } = await rest(`/api/v1/topics/${TOPIC}`);
    return body.records === 10 ? body : null;
  });
  // The keys are fixed, so murmur2 spreads them the same way every run: over all three.
  assert.ok(topic.partitions.every((p) => p.records > 0), JSON.stringify(topic.partitions));

  await page.getByRole("link", { name: "Browse messages" }).click();
  await page.getByRole("heading", { name: "Message browser" }).waitFor();
  await page.getByTestId("message-count").getByText("Showing 10 of 10 records").waitFor();
  const keys = await page.getByTestId("message-key").allTextContents();
  assert.deepEqual([...keys].sort(), [...KEYS].sort());
  const rows = await page.getByTestId("message-row").all();
  for (const row of rows) {
    const key = await row.getByTestId("message-key").textContent();
    const value = await row.getByTestId("message-value").textContent();
    assert.deepEqual(JSON.parse(value), { n: KEYS.indexOf(key), key });
  }
  await page.getByLabel("Format").selectOption("json");
  await page.getByLabel("Filter by key").fill("key-7");
  await page.getByTestId("message-count").getByText("Showing 1 of 10 records (filtered)").waitFor();
  assert.equal(await page.getByTestId("message-key").textContent(), "key-7");
  await page.getByLabel("Filter by key").fill("");
  await page.getByLabel("Filter by substring").fill('"n":3');
  await page.getByTestId("message-count").getByText("Showing 1 of 10 records (filtered)").waitFor();
  await page.getByLabel("Filter by substring").fill("");
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const csvPath = `${artifacts}messages.csv`;
  await (await download).saveAs(csvPath);
  const csv = readFileSync(csvPath, "utf8").trim().split("\n");
  assert.equal(csv.length, 11);
  assert.equal(csv[0], "partition,offset,timestamp,key,value,headers");
  await shot("messages");
});

test("a consumer group's lag shows in the list and on its page, and resets from the UI", async () => {
  // A real consumer group reads everything, commits and leaves...
  const read = execFileSync("python3", [`${here}consume.py`, agent.kafka, TOPIC, GROUP, "10"], { encoding: "utf8" });
  assert.equal(read.trim().split("\n").length, 10);
  // ...then 150 more records arrive: lag 150, above the yellow threshold (100).
  await page.getByRole("link", { name: "Consumer groups" }).click();
  await page.locator(`[data-group="${GROUP}"]`).waitFor();
  kcatProduce(Array.from({ length: 150 }, (_, i) => `bulk-${i}:v${i}`));
  const group = await eventually("lag 150", async () => {
    const { body } = await rest(`/api/v1/consumer-groups/${GROUP}`);
    return body?.total_lag === 150 ? body : null;
  });
  assert.equal(group.partitions.length, 3);
  // The live feed raises a toast when the lag crosses the agent's alert threshold.
  await page.getByTestId("toast").filter({ hasText: `Consumer lag alert: ${GROUP}` }).waitFor({ timeout: 15_000 });
  const row = page.locator(`[data-group="${GROUP}"]`);
  await row.getByTestId("group-lag").getByText("150", { exact: true }).waitFor();
  await row.getByTestId("lag-warn").waitFor();
  await shot("consumer-groups");

  await row.getByRole("link", { name: GROUP }).click();
  await page.getByRole("heading", { name: `Consumer group: ${GROUP}` }).waitFor();
  await page.getByTestId("group-total-lag").getByText("150", { exact: true }).waitFor();
  assert.equal(await page.getByTestId("partition-lag-row").count(), 3);
  const before = group.partitions.map((p) => p.committed_offset);
  assert.deepEqual(before, [...group.partitions.map((p) => p.log_end_offset - p.lag)]);
  await shot("consumer-group-detail");

  await page.getByRole("button", { name: "Reset to earliest" }).click();
  const dialog = page.getByRole("dialog", { name: `Reset ${GROUP} to earliest?` });
  await dialog.getByRole("button", { name: "Reset to earliest" }).click();
  await page.getByTestId("reset-result").waitFor();
  const after = (await rest(`/api/v1/consumer-groups/${GROUP}`)).body;
  assert.deepEqual(
    after.partitions.map((p) => p.committed_offset),
    after.partitions.map(() => 0),
  );
  assert.notDeepEqual(after.partitions.map((p) => p.committed_offset), before);
  assert.equal(after.total_lag, 160);
  await page.getByTestId("group-total-lag").getByText("160", { exact: true }).waitFor();
});

test("every page renders against real data (screenshots)", async () => {
  const pages = [
    ["dashboard", "/", "Dashboard"],
    ["topics", "/topics", "Topics"],
    ["topic-detail", `/topics/${TOPIC}`, `Topic: ${TOPIC}`],
    ["producers", "/producers", "Producer performance"],
    ["storage", "/storage", "Storage & cache"],
    ["agents", "/agents", "Cluster agents"],
    ["settings", "/settings", "Settings"],
  ];
  for (const [name, path, heading] of pages) {
    await page.goto(`${agent.http}${path}`);
    await page.getByRole("heading", { name: heading }).waitFor();
    if (name === "dashboard") {
      // Wait for the throughput chart to have drawn the produce burst.
      await page.locator(".recharts-line-curve").first().waitFor();
      await page.getByText("Consumer lag").waitFor();
    }
    if (name === "producers") {
      // Rates need two scrapes of /metrics; the page takes the second after a second.
      await page.getByRole("row", { name: new RegExp(TOPIC) }).getByText(/rec\/s/).waitFor();
    }
    if (name === "storage") await page.getByText(/\d ops\/s/).first().waitFor();
    await page.waitForTimeout(1200);
    const path_ = await shot(name);
    if (name === "dashboard" && process.env.UPDATE_DOCS_SCREENSHOT === "1") {
      copyFileSync(path_, `${here}../../docs/console-dashboard.png`);
    }
  }
  // A narrow window: the navigation collapses behind a menu button.
  await page.setViewportSize({ width: 420, height: 860 });
  await page.goto(`${agent.http}/consumer-groups`);
  await page.getByRole("button", { name: "Open navigation" }).waitFor();
  await shot("narrow-consumer-groups");
  await page.setViewportSize({ width: 1280, height: 860 });
  // The light theme, from the header toggle, survives a reload (local storage).
  await page.getByRole("button", { name: "Switch to light theme" }).click();
  await page.reload();
  await page.getByRole("button", { name: "Switch to dark theme" }).waitFor();
  await shot("light-dashboard");
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
});

test("delete the topic from the UI, with confirmation", async () => {
  await page.goto(`${agent.http}/topics/${TOPIC}`);
  await page.getByRole("button", { name: "Delete topic" }).click();
  const dialog = page.getByRole("dialog", { name: `Delete topic ${TOPIC}?` });
  const confirm = dialog.getByRole("button", { name: "Delete topic" });
  assert.equal(await confirm.isDisabled(), true, "delete needs the name typed");
  await dialog.getByLabel("Confirmation").fill(TOPIC);
  await confirm.click();
  await page.getByRole("heading", { name: "Topics" }).waitFor();
  await page.getByText("No topics yet").waitFor();
  assert.equal((await rest(`/api/v1/topics/${TOPIC}`)).status, 404);
});

test("no errors in the browser console", () => {
  assert.deepEqual(pageErrors, []);
});
