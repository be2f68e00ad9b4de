import { useEffect, useId, useRef, useState } from 'react';
import { useKeyButtons } from '../../components/use-key-buttons';
import type { JobStatus } from '../../../shared/domain/generation';
import type { GenerationFilter, GenerationRecord } from '../../../shared/domain/history';
import type { LibraryItem } from '../../../shared/domain/library';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FramePlayer } from '../../components/FramePlayer';
import { targetTimeline } from '../../state/current-timeline';
import { useDraft } from '../../state/draft';
import { useJobs } from '../../state/jobs';
import { framePaths } from '../../state/media';
import { useStudio } from '../../state/studio-api';
import { useToasts } from '../../state/toasts';
import { useLoad } from '../../state/use-load';
import { useLibraryNames, type LibraryNames } from '../../state/library-names';
import { STARTER_MODEL_NAME } from '../generate/starter-model';
import { CompareView } from './CompareView';
import { HistoryCard } from './HistoryCard';
import { ParamsList } from './ParamsList';
import { recordReason } from './record-reason';

const PAGE = 48;
/** Keys for the open clip's actions (listed in ../../shortcuts.ts). */
const HISTORY_KEYS = { r: 'history-reroll', e: 'history-rerun', u: 'history-reuse', t: 'history-send', f: 'history-favourite' };
const STATUSES: { value: '' | JobStatus; label: string }[] = [
  { value: '', label: 'Any status' },
  { value: 'done', label: 'Finished' },
  { value: 'failed', label: 'Failed' },
  { value: 'cancelled', label: 'Cancelled' },
  { value: 'running', label: 'Running' },
  { value: 'queued', label: 'Waiting' },
  { value: 'interrupted', label: 'Interrupted' },
];

const DATES: { value: string; label: string; days: number | null }[] = [
  { value: '', label: 'Any date', days: null },
  { value: '1', label: 'Last 24 hours', days: 1 },
  { value: '7', label: 'Last 7 days', days: 7 },
  { value: '30', label: 'Last 30 days', days: 30 },
];

/** The start of a date filter, rounded to the hour so the filter (and its request) stays put while the page is open. */
function sinceDays(days: number): string {
  const t = new Date(Date.now() - days * 86_400_000);
  t.setMinutes(0, 0, 0);
  return t.toISOString();
}

/** Every clip made, newest first, with what it takes to make it again. */
export function HistoryPlace() {
  const { api, go } = useStudio();
  const jobs = useJobs();
  const ids = { text: useId(), status: useId(), model: useId(), lora: useId(), date: useId() };
  const names = useLibraryNames();
  const [model, setModel] = useState('');
  const [lora, setLora] = useState('');
  const [date, setDate] = useState('');
  const [compare, setCompare] = useState<number[]>([]);
  const [text, setText] = useState('');
  const [favourite, setFavourite] = useState(false);
  const [status, setStatus] = useState<'' | JobStatus>('');
  const [limit, setLimit] = useState(PAGE);
  const [selectedId, setSelectedId] = useState<number | null>(null);

  const days = DATES.find((d) => d.value === date)?.days ?? null;
  const filter: GenerationFilter = {
    limit,
    ...(text.trim() ? { text: text.trim() } : {}),
    ...(favourite ? { favourite: true } : {}),
    ...(status ? { status } : {}),
    ...(model ? { model } : {}),
    ...(lora ? { lora } : {}),
    ...(days !== null ? { from: sinceDays(days) } : {}),
  };
  const key = JSON.stringify(filter);
  const page = useLoad(() => api.listGenerations(JSON.parse(key) as GenerationFilter), [api, key]);
  const reload = page.reload;
  // New jobs add waiting records; finished ones fill in their outputs.
  const activity = jobs.jobs.map((j) => `${j.jobId}:${j.status}`).join(',');
  useEffect(() => {
    void reload();
  }, [activity, jobs.finished, reload]);

  const items = page.value?.items ?? [];
  const selected = items.find((r) => r.id === selectedId) ?? null;
  const comparing = compare.map((id) => items.find((r) => r.id === id)).filter((r): r is GenerationRecord => r !== undefined);
  const toggleCompare = (id: number) => setCompare((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id].slice(-2)));
  const filtered = Boolean(text || favourite || status || model || lora || date);
  const clearFilters = () => {
    setText('');
    setFavourite(false);
    setStatus('');
    setModel('');
    setLora('');
    setDate('');
  };
  const replace = (r: GenerationRecord) => page.value && page.set({ ...page.value, items: page.value.items.map((x) => (x.id === r.id ? r : x)) });

  return (
    <section className="place place-history" data-place="history">
      <h1 id="place-title">History</h1>
      <p className="place-summary">Every clip you made, ready to make again. Hover a clip to play it; tick Compare on two to see them side by side.</p>
      <div className="history-toolbar" role="search">
        <input id={ids.text} type="search" aria-label="Search prompts" placeholder="Search prompts" value={text} onChange={(e) => setText(e.target.value)} data-testid="history-search" />
        <select id={ids.status} aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value as '' | JobStatus)}>
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
        <LibrarySelect id={ids.model} label="Model" anyLabel="Any model" items={names.checkpoints} value={model} onChange={setModel} testId="history-model-filter" />
        <LibrarySelect id={ids.lora} label="LoRA" anyLabel="Any LoRA" items={names.loras} value={lora} onChange={setLora} testId="history-lora-filter" />
        <select id={ids.date} aria-label="Date" value={date} onChange={(e) => setDate(e.target.value)} data-testid="history-date-filter">
          {DATES.map((d) => (
            <option key={d.value} value={d.value}>
              {d.label}
            </option>
          ))}
        </select>
        <label className="toggle">
          <input type="checkbox" checked={favourite} onChange={(e) => setFavourite(e.target.checked)} />
          Favourites
        </label>
        {page.value && <span className="muted">{page.value.total === 1 ? '1 clip' : `${page.value.total} clips`}</span>}
      </div>
      {page.error && <ErrorPanel error={page.error} title="The history could not be read" />}
      {comparing.length > 0 && <CompareView records={comparing} names={names} onClose={() => setCompare([])} onRemove={(id) => toggleCompare(id)} />}
      <div className={selected ? 'history-layout with-details' : 'history-layout'}>
        <div>
          {!page.loading && items.length === 0 && !page.error && (
            // Each empty state offers the way out of it: clear what hides the clips, or go and make one.
            <div className="empty-state" role="note">
              {filtered ? (
                <p>
                  No clips match these filters.{' '}
                  <button type="button" className="link-button" onClick={clearFilters}>
                    Clear filters
                  </button>
                </p>
              ) : (
                <p>
                  No clips yet. Each clip you make is kept here with everything needed to make it again: re-roll, re-run exactly, reuse its settings, or send it to the timeline.{' '}
                  <button type="button" className="link-button" onClick={() => go('generate')}>
                    Open Generate
                  </button>
                </p>
              )}
            </div>
          )}
          <ul className="history-grid" aria-label="Clips">
            {items.map((r) => (
              <HistoryCard
                key={r.id}
                record={r}
                selected={r.id === selectedId}
                comparing={compare.includes(r.id)}
                onSelect={() => setSelectedId(r.id === selectedId ? null : r.id)}
                onCompare={() => toggleCompare(r.id)}
                modelName={names.nameOf(r.params.model, r.hashes.model, STARTER_MODEL_NAME)}
              />
            ))}
          </ul>
          {page.value && page.value.total > items.length && (
            <button type="button" className="button" onClick={() => setLimit((l) => l + PAGE)}>
              Show more
            </button>
          )}
        </div>
        {selected && <HistoryDetails record={selected} names={names} onChange={replace} onDeleted={() => (setSelectedId(null), void reload())} onClose={() => setSelectedId(null)} />}
      </div>
    </section>
  );
}

/** A filter by a library item, valued by its SHA-256 (what the history records). */
function LibrarySelect({ id, label, anyLabel, items, value, onChange, testId }: { id: string; label: string; anyLabel: string; items: LibraryItem[]; value: string; onChange: (v: string) => void; testId: string }) {
  return (
    <select id={id} aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
      <option value="">{anyLabel}</option>
      {items.map((m) => (
        <option key={m.id} value={m.sha256}>
          {m.name}
        </option>
      ))}
    </select>
  );
}

function HistoryDetails({ record, names, onChange, onDeleted, onClose }: { record: GenerationRecord; names: LibraryNames; onChange: (r: GenerationRecord) => void; onDeleted: () => void; onClose: () => void }) {
  const { api, go, mediaUrl } = useStudio();
  const draft = useDraft();
  const jobs = useJobs();
  const toasts = useToasts();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const pane = useRef<HTMLElement>(null);
  useKeyButtons(pane, HISTORY_KEYS);
  // Plays on open, unless the creator asked the system for less motion.
  const [playing, setPlaying] = useState(() => !window.matchMedia('(prefers-reduced-motion: reduce)').matches);
  useEffect(() => setConfirmDelete(false), [record.id]);
  const urls = framePaths(record.outputs).map(mediaUrl);
  const finished = record.status === 'done';

  const run = async (what: 'reroll' | 'rerun') => {
    try {
      const { jobId } = what === 'reroll' ? await api.reroll(record.id) : await api.rerunExact(record.id);
      jobs.track(jobId);
      toasts.info(what === 'reroll' ? 'Re-roll queued with a new seed.' : 'Exact re-run queued.');
    } catch (e) {
      toasts.error(e, what === 'reroll' ? 'Could not re-roll' : 'Could not re-run');
    }
  };

  return (
    <aside className="details-pane" ref={pane} aria-label={`Clip #${record.id}`} data-testid="history-details">
      <div className="section-head">
        <h2>Clip #{record.id}</h2>
        <button type="button" className="icon-button" aria-label="Close details" onClick={onClose}>
          ×
        </button>
      </div>
      {urls.length > 0 && (
        <>
          <FramePlayer urls={urls} fps={record.params.fps} aspect={record.params.width / record.params.height} playing={playing} label={`Clip #${record.id}`} />
          <button type="button" className="link-button" onClick={() => setPlaying((p) => !p)}>
            {playing ? 'Pause' : 'Play'}
          </button>
        </>
      )}
      {record.error ? (
        <ErrorPanel error={record.error} title="This generation failed" />
      ) : (
        recordReason(record) && (
          <p className="history-reason-line" data-testid="history-details-reason">
            {recordReason(record)}
          </p>
        )
      )}
      <div className="action-grid">
        <button type="button" className="button" onClick={() => void run('reroll')} data-testid="history-reroll" aria-keyshortcuts="R" title="Same settings, a new seed">
          Re-roll
        </button>
        <button type="button" className="button" onClick={() => void run('rerun')} data-testid="history-rerun" aria-keyshortcuts="E" title="Same settings and seed: the same frames">
          Re-run exact
        </button>
        <button
          type="button"
          className="button"
          data-testid="history-reuse" aria-keyshortcuts="U"
          onClick={() =>
            api.reuseParams(record.id).then(
              (p) => (draft.replace(p), draft.setSeedLocked(true), go('generate'), toasts.info(`Settings of #${record.id} are in Generate (seed locked).`)),
              (e: unknown) => toasts.error(e, 'Could not reuse the settings'),
            )
          }
        >
          Reuse parameters
        </button>
        <button
          type="button"
          className="button"
          disabled={!finished || !record.outputs?.framesDir}
          title={finished && !record.outputs?.framesDir ? 'This clip kept only its video file, not its frames; re-run it exactly to cut it on a timeline' : undefined}
          data-testid="history-send" aria-keyshortcuts="T"
          onClick={() =>
            targetTimeline(api)
              .then((t) => api.addClip(t, record.id))
              .then(
                (t) => toasts.info(`Added #${record.id} to ${t.name} (${t.clips.length} clip${t.clips.length === 1 ? '' : 's'}).`),
                (e: unknown) => toasts.error(e, 'Could not add it to the timeline'),
              )
          }
        >
          Send to timeline
        </button>
        <button
          type="button"
          className="button"
          aria-pressed={record.favourite}
          data-testid="history-favourite" aria-keyshortcuts="F"
          onClick={() => api.setFavourite(record.id, !record.favourite).then(onChange, (e: unknown) => toasts.error(e, 'Could not change the favourite'))}
        >
          {record.favourite ? '★ Favourite' : '☆ Favourite'}
        </button>
        <button
          type="button"
          className={confirmDelete ? 'button button-danger' : 'button'}
          data-testid="history-delete"
          onClick={() => {
            if (!confirmDelete) return setConfirmDelete(true);
            api.deleteGeneration(record.id).then(
              (r) => {
                toasts.info(`Deleted #${record.id}${r.removedClips ? ` and its ${r.removedClips} timeline clip(s)` : ''}.${r.keptFiles.length ? ` ${r.keptFiles.length} file(s) outside the data folder were kept.` : ''}`);
                onDeleted();
              },
              (e: unknown) => toasts.error(e, 'Could not delete it'),
            );
          }}
        >
          {confirmDelete ? 'Really delete?' : 'Delete'}
        </button>
      </div>
      <ParamsList record={record} names={names} />
    </aside>
  );
}
