import { useEffect, useState } from 'react';
import type { ControlNetUnit, ControlPreview } from '../../../shared/domain/controlnet';
import { useStudio } from '../../state/studio-api';

/**
 * A unit's control maps next to the clip: what the ControlNet will see (the input decoded, resized to the clip's
 * size, through the preprocessor), a few frames from first to last, made by the engine worker shortly after the
 * input, preprocessor or clip size last changed, with the engine's notes on how the input was fitted to the clip (a
 * longer video: its first frames; another size: resized). A reason is shown instead when the input cannot be used.
 */
export function ControlPreviewStrip({ unit, index, clip }: { unit: ControlNetUnit; index: number; clip: { frames: number; width: number; height: number } }) {
  const { api, mediaUrl } = useStudio();
  const [state, setState] = useState<{ preview?: ControlPreview; error?: string }>({});
  const { control, preprocess, cannyLow, cannyHigh, model, scale, start, end } = unit;

  useEffect(() => {
    if (!control.trim()) {
      setState({});
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      // The ControlNet file plays no part in the map; an empty field (not chosen yet) must not block the preview.
      api.previewControlUnit({ model: model || control, control, preprocess, cannyLow, cannyHigh, scale, start, end }, clip).then(
        (preview) => live && setState({ preview }),
        (e: unknown) => live && setState({ error: e instanceof Error ? e.message : String(e) }),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // The map depends only on the input, the preprocessor and the clip; weight, window and file do not change it.
  }, [api, control, preprocess, cannyLow, cannyHigh, clip.frames, clip.width, clip.height]);

  if (state.error) return <p className="field-hint" role="status" data-testid={`controlnet-preview-error-${index}`}>{state.error}</p>;
  if (!state.preview) return null;
  return (
    <>
      <div className="control-preview" data-testid={`controlnet-preview-${index}`} aria-label={`Control maps of ControlNet unit ${index + 1}`}>
        {state.preview.frames.map((f) => (
          <figure key={f.path}>
            <img src={mediaUrl(f.path)} alt={`Control map, frame ${f.index + 1}`} width={clip.width} height={clip.height} />
            <figcaption>{f.index + 1}</figcaption>
          </figure>
        ))}
      </div>
      {/* What the engine did to fit the input to the clip (a longer video cut to its first frames, a resize). */}
      {state.preview.notes.length > 0 && (
        <ul className="field-hint control-preview-notes" data-testid={`controlnet-preview-notes-${index}`}>
          {state.preview.notes.map((n) => (
            <li key={n}>{n.replace(/^ControlNet unit \d+: /, '')}</li>
          ))}
        </ul>
      )}
    </>
  );
}
