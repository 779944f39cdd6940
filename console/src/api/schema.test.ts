import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module script without types.
import { render } from "../../scripts/gen-api.mjs";

describe("generated API types", () => {
  it("schema.d.ts is what openapi-typescript makes of the committed openapi.json", async () => {
    const doc = JSON.parse(readFileSync(new URL("./openapi.json", import.meta.url), "utf8"));
    const out = await render(doc);
    expect(out.doc).toBe(readFileSync(new URL("./openapi.json", import.meta.url), "utf8"));
    expect(out.types).toBe(readFileSync(new URL("./schema.d.ts", import.meta.url), "utf8"));
  });
});
