import { useId, useRef, useState } from 'react';
import type { StoredInput } from '../../../shared/api';
import { DEFAULT_MOTION_SCALE, DEFAULT_V2V_STRENGTH, type GenerationInput, type GenerationParams } from '../../../shared/domain/generation';
import { serializeError, type SerializedError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { useFileDrop } from '../../components/use-file-drop';
import { ProgressBar } from '../../components/ProgressBar';
import { Slider } from '../../components/Slider';
import { useStudio } from '../../state/studio-api';
import { uploadInput } from '../../state/upload';

/**
 * What a generation starts from, on the Generate form: nothing (text to video), a picture (image to video,
 * AnimateLCM-I2V) or a clip (video to video). A file dropped here or picked is uploaded and stored under its hash
 * in the data folder (finishInputUpload), so the draft names the stored copy and History can re-run it exactly.
 */

const IMAGE_EXTS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff'];
const VIDEO_EXTS = ['.mp4', '.webm', '.mov', '.mkv', '.m4v', '.avi'];

/** image or video from the name (what the stored copy keeps), else from the browser's type; null: neither. */
export function inputKindOf(name: string, type: string): StoredInput['kind'] | null {
  const lower = name.toLowerCase();
  if (IMAGE_EXTS.some((e) => lower.endsWith(e))) return 'image';
  if (VIDEO_EXTS.some((e) => lower.endsWith(e))) return 'video';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  return null;
}

/** Where the services keep the thumbnail of a stored input: `inputs/thumbnails/<sha256>.png` next to it. */
function thumbnailOf(input: GenerationInput): string | null {
  return input.sha256 ? input.path.replace(/[^/\\]+$/, `thumbnails/${input.sha256}.png`) : null;
}

export const MODE_LABELS = { text: 'Text to video', image: 'Image to video', video: 'Video to video' } as const;

export function InputMedia({ params, update }: { params: GenerationParams; update: (patch: Partial<GenerationParams>) => void }) {
  const { api, mediaUrl } = useStudio();
  const ids = { colour: useId() };
  const fileInput = useRef<HTMLInputElement>(null);
  const [uploading, setUploading] = useState<{ name: string; fraction: number } | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);
  /** The last upload: its name and thumbnail, while the draft still names it. */
  const [stored, setStored] = useState<StoredInput | null>(null);
  const input = params.input;
  const shown = input && stored?.path === input.path ? stored : null;
  const thumbnail = shown?.thumbnail ?? (input ? thumbnailOf(input) : null);
  const name = shown?.name ?? input?.path.split(/[/\\]/).pop() ?? '';

  const take = async (file: File) => {
    setError(null);
    const kind = inputKindOf(file.name, file.type);
    if (!kind) {
      setError({ code: 'FORMAT_UNKNOWN', message: `${file.name} is neither a picture nor a clip. Use a PNG, JPEG or WebP picture, or an MP4, WebM or MOV clip.` });
      return;
    }
    setUploading({ name: file.name, fraction: 0 });
    try {
      const s = await uploadInput(api, file, kind, (fraction) => setUploading({ name: file.name, fraction }));
      setStored(s);
      // A new picture keeps the motion settings already chosen for the previous one; the same for clips.
      const next: GenerationInput =
        kind === 'image'
          ? { kind, path: s.path, sha256: s.sha256, motionScale: input?.kind === 'image' ? input.motionScale : DEFAULT_MOTION_SCALE, colorMatch: input?.kind === 'image' ? input.colorMatch : true }
          : { kind, path: s.path, sha256: s.sha256, strength: input?.kind === 'video' ? input.strength : DEFAULT_V2V_STRENGTH };
      update({ input: next });
    } catch (e) {
      setError(serializeError(e));
    } finally {
      setUploading(null);
    }
  };

  const drop = useFileDrop((files) => void take(files[0]));

  return (
    <fieldset className={`input-media${drop.dragging ? ' dragging' : ''}`} data-testid="input-media" data-mode={input?.kind ?? 'text'} {...drop.handlers}>
      <legend>Start from</legend>
      <p className="input-mode" data-testid="input-mode">
        {MODE_LABELS[input?.kind ?? 'text']}
      </p>
      {input ? (
        <div className="input-chosen">
          {thumbnail && <img className="input-thumbnail" src={mediaUrl(thumbnail)} alt={`First frame of ${name}`} data-testid="input-thumbnail" />}
          <div className="input-chosen-text">
            <span className="input-name" title={input.path} data-testid="input-name">
              {name}
            </span>
            <span className="input-actions">
              <button type="button" className="button" onClick={() => fileInput.current?.click()} disabled={uploading !== null}>
                Replace…
              </button>
              <button type="button" className="link-button" onClick={() => update({ input: undefined })} data-testid="input-remove">
                Remove
              </button>
            </span>
          </div>
        </div>
      ) : (
        // The button first and the hint beside it: one line at the panel's width, so the optional start takes little room.
        <div className="input-drop">
          <button type="button" className="button button-small" onClick={() => fileInput.current?.click()} disabled={uploading !== null} data-testid="input-pick">
            Picture or clip…
          </button>
          <span className="input-drop-hint">or drop one here</span>
        </div>
      )}
      <input
        ref={fileInput}
        type="file"
        accept={[...IMAGE_EXTS, ...VIDEO_EXTS, 'image/*', 'video/*'].join(',')}
        hidden
        data-testid="input-file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void take(file);
        }}
      />
      {uploading && (
        <div className="import-progress" data-testid="input-progress">
          <span>Storing {uploading.name}…</span>
          <ProgressBar fraction={uploading.fraction} label={`Storing ${uploading.name}`} />
        </div>
      )}
      {error && <ErrorPanel error={error} title="That file cannot be used" compact />}
      {input?.kind === 'image' && (
        <>
          <Slider
            label="Motion scale"
            value={input.motionScale}
            min={0}
            max={1.5}
            step={0.05}
            onChange={(motionScale) => update({ input: { ...input, motionScale: Math.round(motionScale * 100) / 100 } })}
            hint="How far the clip moves away from the picture; lower keeps its look (0.8 is AnimateLCM's default)."
            testId="motion-scale"
          />
          <div className="field">
            <label htmlFor={ids.colour}>
              <input id={ids.colour} type="checkbox" checked={input.colorMatch} onChange={(e) => update({ input: { ...input, colorMatch: e.target.checked } })} data-testid="color-match" /> Match the
              picture's colours
            </label>
          </div>
        </>
      )}
      {input?.kind === 'video' && (
        <Slider
          label="Strength"
          value={input.strength}
          min={0.05}
          max={1}
          hardMin={0.01}
          step={0.05}
          onChange={(strength) => update({ input: { ...input, strength: Math.round(strength * 100) / 100 } })}
          hint="How much of the clip is redrawn: low keeps its shapes and motion, 1 redraws it completely."
          testId="strength"
        />
      )}
    </fieldset>
  );
}
