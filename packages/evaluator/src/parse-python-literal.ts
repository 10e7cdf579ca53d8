/**
 * A value read from a metrics file. Python tuples become arrays; `None` becomes `null`.
 * `nan`/`inf` become `NaN`/`±Infinity` so the caller can name the metric that holds them.
 */
export type LiteralValue =
  | number
  | string
  | boolean
  | null
  | LiteralValue[]
  | { [key: string]: LiteralValue };

/** The metrics file is not a literal this parser accepts; `line`/`column` are 1-based. */
export class LiteralSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} (line ${line}, column ${column})`);
    this.name = 'LiteralSyntaxError';
  }
}

const MAX_DEPTH = 32;
const DIGITS = String.raw`\d(?:_?\d)*`;
const NUMBER = new RegExp(
  String.raw`(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?`,
  'y',
);
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
/** `np.float64(0.5)` is what `str()` of a dict holding numpy scalars prints since numpy 2. */
const NUMPY_SCALAR =
  /^(?:np|numpy)\.(?:float(?:16|32|64|128)?|int(?:8|16|32|64)?|uint(?:8|16|32|64)?|double|single|longdouble|intc|intp)$/;
const NUMPY_BOOL = /^(?:np|numpy)\.(?:True_|False_)$/;
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  '/': '/',
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  v: '\v',
  a: '\x07',
};

/**
 * Parse a JSON document or a Python literal (`repr()` of a dict of numbers, lists, tuples,
 * strings, `True`/`False`/`None`, `nan`/`inf`, numpy scalars) without evaluating any code.
 * Throws {@link LiteralSyntaxError} naming the position of the first problem.
 */
export function parsePythonLiteral(text: string): LiteralValue {
  const parser = new LiteralParser(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  return parser.parseDocument();
}

class LiteralParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): LiteralValue {
    this.skipSpace();
    if (this.pos >= this.text.length) this.fail('the file is empty');
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the value`);
    return value;
  }

  private parseValue(depth: number): LiteralValue {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === '{') return this.parseDict(depth);
    if (ch === '[') return this.parseSequence(depth, ']');
    if (ch === '(') return this.parseSequence(depth, ')');
    if (ch === '"' || ch === "'") return this.parseStrings();
    if (ch === '-' || ch === '+') {
      this.pos++;
      this.skipSpace();
      const operand = this.parseValue(depth + 1);
      if (typeof operand !== 'number') this.fail(`"${ch}" must be followed by a number`);
      return ch === '-' ? -operand : operand;
    }
    if (ch !== undefined && /[0-9.]/.test(ch)) return this.parseNumber();
    if (ch !== undefined && /[A-Za-z_]/.test(ch)) return this.parseName(depth);
    return this.fail(`unexpected ${this.describeHere()}`);
  }

  private parseDict(depth: number): { [key: string]: LiteralValue } {
    this.pos++; // {
    const out: { [key: string]: LiteralValue } = {};
    for (;;) {
      this.skipSpace();
      if (this.eat('}')) return out;
      const keyStart = this.pos;
      const key = this.parseValue(depth + 1);
      if (typeof key !== 'string') {
        this.pos = keyStart;
        this.fail('dictionary keys must be strings (metric names in quotes)');
      }
      this.skipSpace();
      if (!this.eat(':')) this.fail(`expected ":" after the key '${key}'`);
      // Object.defineProperty keeps a key named __proto__ an ordinary key.
      Object.defineProperty(out, key, {
        value: this.parseValue(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipSpace();
      if (this.eat('}')) return out;
      if (!this.eat(',')) this.fail(`expected "," or "}" but found ${this.describeHere()}`);
    }
  }

  private parseSequence(depth: number, close: ']' | ')'): LiteralValue[] {
    this.pos++;
    const out: LiteralValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.eat(close)) return out;
      out.push(this.parseValue(depth + 1));
      this.skipSpace();
      if (this.eat(close)) return out;
      if (!this.eat(',')) this.fail(`expected "," or "${close}" but found ${this.describeHere()}`);
    }
  }

  /** One string, or several adjacent ones (Python concatenates `'a' 'b'`). */
  private parseStrings(): string {
    let out = this.parseString();
    for (;;) {
      const save = this.pos;
      this.skipSpace();
      const ch = this.text[this.pos];
      if (ch !== '"' && ch !== "'") {
        this.pos = save;
        return out;
      }
      out += this.parseString();
    }
  }

  private parseString(): string {
    const quote = this.text[this.pos] ?? '';
    if (this.text.startsWith(quote.repeat(3), this.pos)) this.fail('triple-quoted strings are not supported');
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined || ch === '\n') this.fail('unterminated string');
      this.pos++;
      if (ch === quote) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const esc = this.text[this.pos];
      if (esc === undefined) this.fail('unterminated string');
      this.pos++;
      if (esc in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[esc];
      else if (esc === '\n') continue;
      else if (esc === 'x') out += this.hexEscape(2);
      else if (esc === 'u') out += this.hexEscape(4);
      else if (esc === 'U') out += this.hexEscape(8);
      else if (/[0-7]/.test(esc)) {
        const octal = /[0-7]{1,3}/y;
        octal.lastIndex = this.pos - 1;
        const digits = octal.exec(this.text)?.[0] ?? esc;
        this.pos += digits.length - 1;
        out += String.fromCodePoint(Number.parseInt(digits, 8));
      } else out += `\\${esc}`; // Python keeps unknown escapes as written
    }
  }

  private hexEscape(length: number): string {
    const hex = this.text.slice(this.pos, this.pos + length);
    if (!new RegExp(`^[0-9a-fA-F]{${length}}$`).test(hex)) this.fail('invalid escape sequence in a string');
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) this.fail('invalid escape sequence in a string');
    this.pos += length;
    return String.fromCodePoint(code);
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail(`unexpected ${this.describeHere()}`);
    const end = this.pos + match[0].length;
    const next = this.text[end];
    if (next !== undefined && /[A-Za-z0-9_]/.test(next)) {
      this.pos = end;
      if (next === 'j' || next === 'J') this.fail('complex numbers are not metrics');
      this.fail(`unexpected ${this.describeHere()} in a number`);
    }
    this.pos = end;
    return Number(match[0].replaceAll('_', ''));
  }

  private parseName(depth: number): LiteralValue {
    IDENTIFIER.lastIndex = this.pos;
    const start = this.pos;
    const name = IDENTIFIER.exec(this.text)?.[0] ?? '';
    this.pos += name.length;
    switch (name) {
      case 'True':
      case 'true':
        return true;
      case 'False':
      case 'false':
        return false;
      case 'None':
      case 'null':
        return null;
      case 'nan':
      case 'NaN':
        return Number.NaN;
      case 'inf':
      case 'Infinity':
        return Number.POSITIVE_INFINITY;
    }
    if (NUMPY_BOOL.test(name)) return name.endsWith('True_');
    if (NUMPY_SCALAR.test(name)) {
      this.skipSpace();
      if (!this.eat('(')) this.fail(`expected "(" after ${name}`);
      const value = this.parseValue(depth + 1);
      this.skipSpace();
      if (typeof value !== 'number' || !this.eat(')')) this.fail(`${name}(…) must hold a single number`);
      return value;
    }
    this.pos = start;
    return this.fail(
      `unexpected name "${name}"; only numbers, strings, lists, tuples, dicts, True, False and None are read (no code is run)`,
    );
  }

  private skipSpace() {
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') this.pos++;
      else if (ch === '\\' && this.text[this.pos + 1] === '\n') this.pos += 2;
      else return;
    }
  }

  private eat(ch: string): boolean {
    if (this.text[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }

  private describeHere(): string {
    const ch = this.text[this.pos];
    if (ch === undefined) return 'end of file';
    return JSON.stringify(this.text.slice(this.pos, this.pos + 12).split('\n')[0]);
  }

  private fail(reason: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    const column = this.pos - before.lastIndexOf('\n');
    throw new LiteralSyntaxError(reason, line, column);
  }
}
