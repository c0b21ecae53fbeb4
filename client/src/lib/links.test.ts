import { describe, expect, it } from "vitest";
import { safeHref, splitLinks } from "./links";

describe("splitLinks", () => {
  it("makes http and https links, leaving the words around them as text", () => {
    expect(splitLinks("filing at https://sec.gov/x?q=1 and http://example.com today")).toEqual([
      { kind: "text", text: "filing at " },
      { kind: "link", text: "https://sec.gov/x?q=1", href: "https://sec.gov/x?q=1" },
      { kind: "text", text: " and " },
      { kind: "link", text: "http://example.com", href: "http://example.com/" },
      { kind: "text", text: " today" },
    ]);
  });

  it("leaves a sentence's punctuation and an unopened parenthesis out of the link", () => {
    const links = (t: string) => splitLinks(t).filter((s) => s.kind === "link").map((s) => s.text);
    expect(links("see https://example.com/a.")).toEqual(["https://example.com/a"]);
    expect(links("(https://example.com/a)")).toEqual(["https://example.com/a"]);
    expect(links("https://en.wikipedia.org/wiki/Apple_(company)!")).toEqual(["https://en.wikipedia.org/wiki/Apple_(company)"]);
  });

  it("never links other schemes, and gives the text back exactly", () => {
    for (const text of ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://x.org", "www.example.com", 'https://"onmouseover=x']) {
      const segments = splitLinks(text);
      expect(segments.map((s) => s.text).join("")).toBe(text);
      for (const s of segments) if (s.kind === "link") expect(s.href).toMatch(/^https?:\/\//);
    }
    expect(splitLinks("javascript:alert(1)")).toEqual([{ kind: "text", text: "javascript:alert(1)" }]);
  });

  it("accepts only http(s) as a safe href", () => {
    expect(safeHref("https://example.com")).toBe("https://example.com/");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("not a url")).toBeNull();
  });
});
