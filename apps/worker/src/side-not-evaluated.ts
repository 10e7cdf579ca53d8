import type { SideFailure } from '@evalbot/jobs';

/** The outcome of a side that evalbot did not (or could not) evaluate: no run, no log, `message` says why. */
export function sideNotEvaluated(sha: string, message: string): SideFailure {
  return {
    ok: false,
    sha,
    stage: 'clone',
    message,
    logTail: '',
    durations: {},
    runs: [],
    environment: { packages: {} },
    environmentReused: false,
    resultReused: false,
  };
}
