import { describe, expect, it } from "vitest";
import { partitionsError, retentionHoursError, topicNameError } from "./validate";
import { parseSettings } from "./settings";

describe("form validation", () => {
  it("checks topic names like Kafka", () => {
    expect(topicNameError("orders.v1_x-y")).toBeNull();
    expect(topicNameError("")).toMatch(/required/);
    expect(topicNameError("..")).not.toBeNull();
    expect(topicNameError("a b")).not.toBeNull();
    expect(topicNameError("x".repeat(250))).not.toBeNull();
  });
  it("checks partitions and retention", () => {
    expect(partitionsError("3")).toBeNull();
    expect(partitionsError("0")).not.toBeNull();
    expect(partitionsError("1.5")).not.toBeNull();
    expect(retentionHoursError("")).toBeNull();
    expect(retentionHoursError("-1")).toBeNull();
    expect(retentionHoursError("24")).toBeNull();
    expect(retentionHoursError("-5")).not.toBeNull();
  });
  it("reads saved settings, falling back to defaults", () => {
    expect(parseSettings(null)).toEqual({ refreshMs: 5000, lag: { warn: 100, critical: 1000 }, theme: "dark" });
    expect(parseSettings('{"refreshMs":30000,"theme":"light","lag":{"warn":5,"critical":50}}')).toEqual({
      refreshMs: 30000,
      lag: { warn: 5, critical: 50 },
      theme: "light",
    });
    expect(parseSettings('{"refreshMs":1234,"lag":{"warn":50,"critical":5}}').refreshMs).toBe(5000);
    expect(parseSettings("not json").theme).toBe("dark");
  });
});
