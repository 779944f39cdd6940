import { describe, expect, it } from "vitest";
import { formatBytes, formatCompact, formatDuration, formatNumber, formatPercent, formatRate, formatSeconds } from "./format";

describe("formatting", () => {
  it("groups and compacts numbers", () => {
    expect(formatNumber(1234567)).toBe("1,234,567");
    expect(formatCompact(999)).toBe("999");
    expect(formatCompact(1_200_000)).toBe("1.2M");
    expect(formatCompact(15_300)).toBe("15.3K");
    expect(formatNumber(null)).toBe("—");
    expect(formatCompact(NaN)).toBe("—");
  });
  it("uses binary byte units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(64 * 1024 * 1024)).toBe("64.0 MiB");
    expect(formatBytes(2.3 * 1024 ** 3)).toBe("2.30 GiB");
  });
  it("formats rates, latencies, ratios and durations", () => {
    expect(formatRate(15_300)).toBe("15.3K rec/s");
    expect(formatRate(0.25)).toBe("0.3 rec/s");
    expect(formatRate(undefined)).toBe("—");
    expect(formatSeconds(0.32)).toBe("320 ms");
    expect(formatSeconds(0.0012)).toBe("1.20 ms");
    expect(formatSeconds(1.25)).toBe("1.25 s");
    expect(formatPercent(0.854)).toBe("85.4%");
    expect(formatDuration(7 * 86400)).toBe("7d 0h");
    expect(formatDuration(3725)).toBe("1h 2m");
    expect(formatDuration(62)).toBe("1m 2s");
  });
});
