import { neutralizeReferences } from '@evalbot/report';
import type { Refusal } from './publish-output.ts';

/**
 * What the author is told, through an output that still works, about outputs GitHub refused:
 * what was refused, why in GitHub's words, and what to do about it. Markdown, one paragraph
 * per refusal.
 */
export function refusalNote(refusals: readonly Refusal[]): string {
  return refusals
    .map(({ channel, permission, error }) => {
      const answer = `GitHub answered ${error.status ?? 'an error'}: _${oneLine(error.message)}_`;
      return `⚠️ **evalbot could not write its ${channel} on this pull request.** ${answer}. ${remedy(error.status, error.message, permission)}`;
    })
    .join('\n\n');
}

function remedy(status: number | undefined, message: string, permission: string): string {
  if (status === 403 || (status === 422 && /permission/i.test(message))) {
    return `The App lacks the **${permission}** permission on this repository, or an organization policy restricts the App. The App's owner grants it under Settings → Developer settings → GitHub Apps → the App → Permissions & events; the owner of this repository's account then accepts it under Settings → GitHub Apps → the App → Configure (an organization owner also lifts any restriction there). Then add the evaluate label again or comment \`/evaluate\`.`;
  }
  if (status === 404) {
    return 'The repository or pull request is gone, or the App was removed from it: install the App on this repository again.';
  }
  if (status === 401) {
    return "GitHub did not accept the App's credentials: the operator must check the worker's APP_ID and private key.";
  }
  return 'GitHub will refuse the same request again: the operator should look at the worker log for this request.';
}

/** GitHub's message on one line, as text: no emphasis, and no @mention or #reference it could make. */
function oneLine(text: string): string {
  return neutralizeReferences(text.replace(/\s+/g, ' ').replace(/[_*`]/g, '').trim().slice(0, 300));
}
