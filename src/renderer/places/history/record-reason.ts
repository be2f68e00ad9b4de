/**
 * Why a record has no clip, in a creator's words: the failure's own message, or what stopping it means. The store
 * does not say who cancelled (the creator, or the studio closing with jobs queued), so neither does this.
 */
import type { GenerationRecord } from '../../../shared/domain/history';
import { formatDuration } from '../../state/media';

export function recordReason(r: GenerationRecord): string | null {
  switch (r.status) {
    case 'failed':
      return r.error?.message ?? 'It failed without saying why; the details were not recorded.';
    case 'cancelled': {
      if (!r.startedAt) return 'Cancelled while waiting in the queue: it never started, so there is no clip.';
      const ran = r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : NaN;
      return `Cancelled while running${Number.isFinite(ran) ? ` (after ${formatDuration(ran)})` : ''}: a clip is kept only when every step finishes.`;
    }
    case 'interrupted':
      return 'The studio stopped while this ran (closed or crashed); re-run it to get the clip.';
    case 'queued':
      return 'Waiting in the queue.';
    case 'running':
      return 'Running now.';
    case 'done':
      return r.outputs && r.outputs.frameCount > 0 ? null : 'Finished, but its frames are no longer on disk.';
  }
}
