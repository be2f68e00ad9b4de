import { describe, expect, it } from 'vitest';
import { nextExportName } from '../../../src/renderer/places/timeline/next-export-name';

describe('nextExportName ("Export again" never reuses the last name)', () => {
  it('numbers a bare name, then counts on; the extension and folder stay', () => {
    expect(nextExportName('story')).toBe('story-2');
    expect(nextExportName('story-2')).toBe('story-3');
    expect(nextExportName('story-9.mp4')).toBe('story-10.mp4');
    expect(nextExportName('/home/me/Videos/fox run.webm')).toBe('/home/me/Videos/fox run-2.webm');
    expect(nextExportName('C:\\Users\\me\\clip.v1.gif')).toBe('C:\\Users\\me\\clip.v1-2.gif');
    expect(nextExportName('/tmp/frames.d/sequence')).toBe('/tmp/frames.d/sequence-2');
  });
});
