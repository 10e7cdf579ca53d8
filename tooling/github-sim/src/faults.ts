import { type CompiledPattern, compilePathPattern, matchPath } from './route-pattern.ts';

/** What an injected fault does to a matching request. */
export type FaultEffect =
  /** Answer with this status (default 500) and GitHub's error JSON (plain text on git routes). */
  | { kind: 'error'; status?: number; message?: string }
  /** 403 (or 429) "You have exceeded a secondary rate limit…" with `retry-after`. */
  | { kind: 'secondary-rate-limit'; status?: 403 | 429; retryAfterSeconds?: number }
  /** 403 "API rate limit exceeded…" with `x-ratelimit-remaining: 0` and a reset this many seconds away. */
  | { kind: 'rate-limit'; resetInSeconds?: number }
  /** Answer normally, but only after this many milliseconds. */
  | { kind: 'delay'; ms: number };

export type FaultSpec = FaultEffect & {
  /**
   * `"METHOD /path/pattern"` or `"/path/pattern"` (any method), or a RegExp tested against
   * `"METHOD /path"`. API paths are relative to the API base (`/repos/:owner/:repo/check-runs`);
   * git paths are as cloned (`/:owner/:repo.git/info/refs`, `/:owner/:repo.git/git-upload-pack`).
   * `:name`/`{name}` match one segment, `*` anything.
   */
  route: string | RegExp;
  /** How many matching requests it affects (default 1). */
  times?: number;
};

/** A fault that was injected: how many uses are left, how many requests it hit. */
export interface InjectedFault {
  readonly remaining: number;
  readonly hits: number;
  /** Stop it before it is used up. */
  clear(): void;
}

interface ActiveFault {
  spec: FaultSpec;
  method: string | undefined;
  pattern: CompiledPattern | RegExp;
  remaining: number;
  hits: number;
}

/** Holds the faults a test injected and hands out the one a request should suffer. */
export class FaultInjector {
  private faults: ActiveFault[] = [];

  add(spec: FaultSpec): InjectedFault {
    const fault = parseFault(spec);
    this.faults.push(fault);
    return {
      get remaining() {
        return fault.remaining;
      },
      get hits() {
        return fault.hits;
      },
      clear: () => {
        this.faults = this.faults.filter((f) => f !== fault);
      },
    };
  }

  /** The effect for this request, using up one use of the first matching fault. */
  take(method: string, path: string): FaultEffect | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && matches(f, method, path));
    if (!fault) return undefined;
    fault.remaining -= 1;
    fault.hits += 1;
    if (fault.remaining === 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault.spec;
  }

  clear(): void {
    this.faults = [];
  }
}

function parseFault(spec: FaultSpec): ActiveFault {
  const times = spec.times ?? 1;
  if (spec.route instanceof RegExp)
    return { spec, method: undefined, pattern: spec.route, remaining: times, hits: 0 };
  const match = /^([A-Za-z]+|\*)\s+(\S+)$/.exec(spec.route.trim());
  const method = match?.[1] && match[1] !== '*' ? match[1].toUpperCase() : undefined;
  const path = match?.[2] ?? spec.route.trim();
  return { spec, method, pattern: compilePathPattern(path), remaining: times, hits: 0 };
}

function matches(fault: ActiveFault, method: string, path: string): boolean {
  if (fault.pattern instanceof RegExp) return fault.pattern.test(`${method} ${path}`);
  if (fault.method && fault.method !== method) return false;
  return matchPath(fault.pattern, path) !== undefined;
}
