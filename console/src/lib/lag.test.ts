import { describe, expect, it } from "vitest";
import { classifyLag } from "./lag";

describe("lag classification", () => {
  it("is red above 1000, yellow above 100, green otherwise", () => {
    expect(classifyLag(0)).toBe("ok");
    expect(classifyLag(100)).toBe("ok");
    expect(classifyLag(101)).toBe("warn");
    expect(classifyLag(1000)).toBe("warn");
    expect(classifyLag(1001)).toBe("critical");
    expect(classifyLag(null)).toBe("ok");
  });
  it("follows custom thresholds", () => {
    expect(classifyLag(50, { warn: 10, critical: 40 })).toBe("critical");
    expect(classifyLag(20, { warn: 10, critical: 40 })).toBe("warn");
  });
});
