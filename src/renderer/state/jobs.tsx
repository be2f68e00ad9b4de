/**
 * The generation queue as the renderer sees it: the jobs the backend reports (listJobs once, then kept current by
 * onJobState/onJobProgress), each job's latest progress and its latest preview frames (decoded once, here, so a
 * panel that mounts later still has them). `finished` counts jobs that ended, so History can refresh itself.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { JobStateEvent, JobSummary } from '../../shared/api';
import type { GenerationParams, StepProgress } from '../../shared/domain/generation';
import { serializeError, type SerializedError } from '../../shared/errors';
import { decodePreview, type DecodedPreview } from './preview-frames';
import { useStudioApi } from './studio-api';

export interface JobView extends JobSummary {
  /** Latest preview frames of the current x0 (denoise steps only). */
  preview: DecodedPreview | null;
  /** When this renderer first saw the job running (for elapsed time when the engine gives no ETA). */
  seenRunningAt: number | null;
  /** What the engine said along the way (provider fallback, LoRA stack and its coverage), distinct, in order. */
  notes: string[];
}

interface JobsApi {
  jobs: JobView[];
  /** Why the queue could not be read (e.g. the generation service is missing); null when fine. */
  error: SerializedError | null;
  /** Increments whenever a job reaches an end state. */
  finished: number;
  generate(params: GenerationParams): Promise<string>;
  cancel(jobId: string): Promise<void>;
  /** Forget ended jobs from the list (the history keeps them). */
  clearEnded(): void;
  /** Tell the queue about a job started elsewhere (re-roll, re-run from History). */
  track(jobId: string): void;
}

const MAX_NOTES = 4;
/**
 * Engine notes worth keeping on the job card: what is about this job — the precision and provider it ran on, a
 * provider chosen for it that did not start, fp32 re-runs, LoRA coverage, and how ControlNet units' inputs were
 * fitted to the clip (a longer control video: only its first frames are used). Routine compile chatter
 * ("compiling unet…") is not; nor is why the automatic order passed over CUDA or DirectML (the status bar says
 * that once).
 */
const isNote = (m: string): boolean => /^precision:|lora|instead|not applied|fall|re-ran|^ControlNet unit \d+:/i.test(m);

const ENDED = new Set(['done', 'failed', 'cancelled', 'interrupted']);
export const isEnded = (status: string): boolean => ENDED.has(status);

const JobsContext = createContext<JobsApi | null>(null);

export function JobsProvider({ children }: { children: ReactNode }) {
  const api = useStudioApi();
  const [jobs, setJobs] = useState<JobView[]>([]);
  const [error, setError] = useState<SerializedError | null>(null);
  const [finished, setFinished] = useState(0);
  const hidden = useRef(new Set<string>());
  // Progress for a job not listed yet (its first events can beat generate()'s answer): kept until it is.
  const early = useRef(new Map<string, Pick<JobView, 'progress' | 'preview' | 'notes'>>());

  const merge = useCallback((summaries: JobSummary[]) => {
    setJobs((prev) => {
      const byId = new Map(prev.map((j) => [j.jobId, j]));
      const next = summaries
        .filter((s) => !hidden.current.has(s.jobId))
        .map((s) => {
          const old = byId.get(s.jobId) ?? early.current.get(s.jobId);
          early.current.delete(s.jobId);
          const seen = byId.get(s.jobId)?.seenRunningAt;
          return { ...s, progress: s.progress ?? old?.progress ?? null, preview: old?.preview ?? null, seenRunningAt: seen ?? (s.status === 'running' ? Date.now() : null), notes: old?.notes ?? [] };
        });
      // Keep jobs we know of that the backend no longer lists (ended and dropped from its memory).
      for (const old of prev) if (!next.some((n) => n.jobId === old.jobId)) next.push(old);
      return next.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
    });
  }, []);

  const refresh = useCallback(
    () =>
      api.listJobs().then(
        (list) => (setError(null), merge(list)),
        (e: unknown) => setError(serializeError(e)),
      ),
    [api, merge],
  );

  useEffect(() => {
    void refresh();
    const offState = api.onJobState((e: JobStateEvent) => {
      let known = false;
      setJobs((prev) =>
        prev.map((j) => {
          if (j.jobId !== e.jobId) return j;
          known = true;
          return { ...j, status: e.status, generationId: e.generationId ?? j.generationId, error: e.error ?? j.error, seenRunningAt: j.seenRunningAt ?? (e.status === 'running' ? Date.now() : null) };
        }),
      );
      if (!known) void refresh();
      if (isEnded(e.status)) setFinished((n) => n + 1);
    });
    const offProgress = api.onJobProgress((p: StepProgress) => {
      const { preview, ...rest } = p;
      const decoded = preview ? decodePreview(preview) : null;
      const withNote = (notes: string[]) => (p.message && p.stage === 'compile' && isNote(p.message) && !notes.includes(p.message) ? [...notes, p.message].slice(-MAX_NOTES) : notes);
      setJobs((prev) => {
        if (!prev.some((j) => j.jobId === p.jobId)) {
          const e = early.current.get(p.jobId);
          early.current.set(p.jobId, { progress: rest, preview: decoded ?? e?.preview ?? null, notes: withNote(e?.notes ?? []) });
          return prev;
        }
        return prev.map((j) =>
          j.jobId !== p.jobId ? j : { ...j, status: j.status === 'queued' ? 'running' : j.status, progress: rest, preview: decoded ?? j.preview, seenRunningAt: j.seenRunningAt ?? Date.now(), notes: withNote(j.notes) },
        );
      });
    });
    return () => {
      offState();
      offProgress();
    };
  }, [api, refresh]);

  const generate = useCallback(
    async (params: GenerationParams) => {
      const { jobId } = await api.generate(params);
      await refresh();
      return jobId;
    },
    [api, refresh],
  );
  const cancel = useCallback((jobId: string) => api.cancelJob(jobId), [api]);
  const clearEnded = useCallback(() => {
    setJobs((prev) => {
      for (const j of prev) if (isEnded(j.status)) hidden.current.add(j.jobId);
      return prev.filter((j) => !isEnded(j.status));
    });
  }, []);
  const track = useCallback(() => void refresh(), [refresh]);

  const value = useMemo<JobsApi>(() => ({ jobs, error, finished, generate, cancel, clearEnded, track }), [jobs, error, finished, generate, cancel, clearEnded, track]);
  return <JobsContext.Provider value={value}>{children}</JobsContext.Provider>;
}

export function useJobs(): JobsApi {
  const j = useContext(JobsContext);
  if (!j) throw new Error('useJobs outside JobsProvider');
  return j;
}
