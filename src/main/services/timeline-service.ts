/** Timelines (projects) of clips cut from finished generations. Thin: the rules live in store/timelines-store. */
import type { Timeline, TimelineSummary } from '../../shared/domain/timeline';
import type { StudioDatabase } from '../store/database';
import { TimelinesStore } from '../store/timelines-store';

export interface AddClipOptions {
  /** Insert at this 0-based position (default: at the end). */
  position?: number;
  inFrame?: number;
  outFrame?: number;
  speed?: number;
}

export class TimelineService {
  private readonly store: TimelinesStore;

  constructor(db: StudioDatabase) {
    this.store = new TimelinesStore(db);
  }

  async listTimelines(): Promise<TimelineSummary[]> {
    return this.store.list();
  }

  async getTimeline(id: number): Promise<Timeline> {
    return this.store.require(id);
  }

  async createTimeline(name: string): Promise<Timeline> {
    return this.store.create(name);
  }

  async renameTimeline(id: number, name: string): Promise<Timeline> {
    return this.store.rename(id, name);
  }

  async deleteTimeline(id: number): Promise<void> {
    this.store.delete(id);
  }

  async addClip(timelineId: number, generationId: number, opts: AddClipOptions = {}): Promise<Timeline> {
    return this.store.addClip(timelineId, generationId, opts);
  }

  async moveClip(clipId: number, position: number): Promise<Timeline> {
    return this.store.moveClip(clipId, position);
  }

  /** inFrame inclusive, outFrame exclusive, 0 ≤ in < out ≤ the clip's frame count. */
  async trimClip(clipId: number, inFrame: number, outFrame: number): Promise<Timeline> {
    return this.store.trimClip(clipId, inFrame, outFrame);
  }

  async setClipSpeed(clipId: number, speed: number): Promise<Timeline> {
    return this.store.setClipSpeed(clipId, speed);
  }
  async setClipCrossfade(clipId: number, seconds: number): Promise<Timeline> {
    return this.store.setClipCrossfade(clipId, seconds);
  }

  async removeClip(clipId: number): Promise<Timeline> {
    return this.store.removeClip(clipId);
  }

  async duplicateClip(clipId: number): Promise<Timeline> {
    return this.store.duplicateClip(clipId);
  }
}
