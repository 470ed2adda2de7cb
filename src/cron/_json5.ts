/**
 * A small JSON5 reader for crontab payloads (graphile-worker reads them as
 * JSON5): comments, unquoted keys, single-quoted strings, trailing commas,
 * hexadecimal numbers, leading/trailing decimal points, `+`, `Infinity`,
 * `NaN`. Errors carry the 0-based offset of the problem.
 */
import { PositionedProblem } from "./fields.ts";

const ESCAPES: Readonly<Record<string, string>> = {
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "0": "\0",
};
const ID_START = /[$_\p{L}]/u;
const ID_PART = /[$_\p{L}\p{N}\u200c\u200d]/u;
const NUMBER =
  /^[+-]?(?:Infinity|NaN|0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/;

class Reader {
  pos = 0;
  constructor(readonly text: string, readonly base: number) {}

  fail(expected: string): never {
    const ch = this.text[this.pos];
    throw new PositionedProblem(
      this.base + this.pos,
      expected,
      ch === undefined ? "the end of the payload" : JSON.stringify(ch),
    );
  }

  skip(): void {
    const t = this.text;
    for (;;) {
      const ch = t[this.pos];
      if (ch === undefined) return;
      if (/\s|\uFEFF/.test(ch)) this.pos++;
      else if (t.startsWith("//", this.pos)) {
        while (this.pos < t.length && t[this.pos] !== "\n") this.pos++;
      } else if (t.startsWith("/*", this.pos)) {
        const end = t.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail("the end of a /* comment */");
        this.pos = end + 2;
      } else return;
    }
  }

  value(): unknown {
    this.skip();
    const ch = this.text[this.pos];
    if (ch === "{") return this.object();
    if (ch === "[") return this.array();
    if (ch === '"' || ch === "'") return this.string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (
        this.text.startsWith(word, this.pos) &&
        !ID_PART.test(this.text[this.pos + word.length] ?? "")
      ) {
        this.pos += word.length;
        return v;
      }
    }
    const m = NUMBER.exec(this.text.slice(this.pos));
    if (m) {
      this.pos += m[0].length;
      const sign = m[0][0] === "-" ? -1 : 1;
      const body = m[0].replace(/^[+-]/, "");
      if (body === "Infinity") return sign * Infinity;
      if (body === "NaN") return NaN;
      return sign * (/^0[xX]/.test(body) ? parseInt(body, 16) : Number(body));
    }
    return this.fail("a JSON5 value");
  }

  object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    for (;;) {
      this.skip();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return out;
      }
      const key = this.key();
      this.skip();
      if (this.text[this.pos] !== ":") this.fail('":" after an object key');
      this.pos++;
      Object.defineProperty(out, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skip();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] !== "}") this.fail('"," or "}" in an object');
    }
  }

  key(): string {
    const ch = this.text[this.pos];
    if (ch === '"' || ch === "'") return this.string();
    if (ch !== undefined && ID_START.test(ch)) {
      const start = this.pos++;
      while (ID_PART.test(this.text[this.pos] ?? "")) this.pos++;
      return this.text.slice(start, this.pos);
    }
    return this.fail("an object key (a name or a quoted string) or }");
  }

  array(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    for (;;) {
      this.skip();
      if (this.text[this.pos] === "]") {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.skip();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] !== "]") this.fail('"," or "]" in an array');
    }
  }

  string(): string {
    const quote = this.text[this.pos++];
    let out = "";
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined || ch === "\n" || ch === "\r") this.fail(`a closing ${quote}`);
      this.pos++;
      if (ch === quote) return out;
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const esc = this.text[this.pos++];
      if (esc === undefined) this.fail("an escape character");
      if (esc === "u" || esc === "x") {
        const len = esc === "u" ? 4 : 2;
        const hex = this.text.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`${len} hex digits`);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += len;
      } else if (esc === "\n" || esc === "\u2028" || esc === "\u2029") {
        // line continuation
      } else {
        out += ESCAPES[esc] ?? esc;
      }
    }
  }
}

/** Parse JSON5 `text`; problems are reported at `base + offset`. */
export function parseJson5(text: string, base = 0): unknown {
  const reader = new Reader(text, base);
  const value = reader.value();
  reader.skip();
  if (reader.pos < text.length) reader.fail("the end of the payload");
  return value;
}
