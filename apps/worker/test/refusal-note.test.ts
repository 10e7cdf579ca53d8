import { describe, expect, it } from 'vitest';
import { refusalNote } from '../src/publishing/refusal-note.ts';

describe('the note about an output GitHub refused', () => {
  it("quotes GitHub's message without letting it mention anyone or reference an issue", () => {
    const note = refusalNote([
      {
        channel: 'check run',
        permission: 'checks: write',
        error: {
          status: 403,
          retryable: false,
          message: 'Blocked for @octo-org/admins, see #12 and octo/other#3',
          requestId: 'ABCD:1234',
        },
      },
    ]);
    expect(note).toContain('GitHub answered 403');
    expect(note).toContain('octo-org/admins');
    expect(note).not.toMatch(/(^|[^`\w])@octo-org\/admins/);
    expect(note).not.toMatch(/(^|\s)#12\b/);
    expect(note).not.toMatch(/(^|\s)octo\/other#3\b/);
  });
});
