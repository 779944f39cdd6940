import { describe, expect, it } from "vitest";
import type { Message } from "../api/client";
import { base64ToHex, matches, mergeMessages, showValue, toCsv } from "./messages";

const msg = (partition: number, offset: number, key: string | null, value: unknown, encoding: "text" | "json" | "base64" = "text"): Message => ({
  partition,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  key: key === null ? null : { encoding: "text", data: key },
  value: { encoding, data: value },
  headers: [],
});

describe("message decoding, filtering and export", () => {
  it("shows JSON, text and hex", () => {
    expect(showValue({ encoding: "json", data: { n: 1 } }, "json")).toBe('{"n":1}');
    expect(showValue({ encoding: "text", data: "hi" }, "text")).toBe("hi");
    expect(showValue({ encoding: "base64", data: "AAEC/w==" }, "hex")).toBe("0001 02ff");
    expect(base64ToHex("aGk=")).toBe("6869");
    expect(showValue(null, "text")).toBeNull();
  });
  it("filters by key and by substring anywhere", () => {
    const m = msg(0, 1, "user-42", "clicked buy");
    expect(matches(m, { key: "42", text: "" }, "text")).toBe(true);
    expect(matches(m, { key: "43", text: "" }, "text")).toBe(false);
    expect(matches(m, { key: "", text: "buy" }, "text")).toBe(true);
    expect(matches(m, { key: "", text: "user-4" }, "text")).toBe(true);
    expect(matches(m, { key: "", text: "sell" }, "text")).toBe(false);
  });
  it("merges tailed records without duplicates, bounded", () => {
    const a = [msg(0, 0, "a", "1"), msg(1, 0, "b", "2")];
    const merged = mergeMessages(a, [msg(1, 0, "b", "2"), msg(0, 1, "c", "3")]);
    expect(merged.map((m) => `${m.partition}:${m.offset}`)).toEqual(["0:0", "1:0", "0:1"]);
    expect(mergeMessages(merged, [], 2)).toHaveLength(2);
  });
  it("exports CSV with quoting", () => {
    const csv = toCsv([msg(0, 5, "k", 'say "hi", ok')], "text");
    const [header, row] = csv.trim().split("\n");
    expect(header).toBe("partition,offset,timestamp,key,value,headers");
    expect(row).toBe(`0,5,${new Date(1_700_000_000_005).toISOString()},k,"say ""hi"", ok",`);
  });
});
