import type { LibraryKind } from '../../shared/domain/library';

/**
 * What LibraryService needs to know about a file before it goes into the library. Injected, so the service is
 * independent of how hashing and family detection are done (and tests can pass the real one or a stricter one).
 */
export interface InspectedFile {
  /** null when the file's layout did not say (the creator then picks). */
  kind: LibraryKind | null;
  family: string;
  familyLabel: string;
  supported: boolean;
  supportMessage: string | null;
  /** Lowercase hex. */
  sha256: string;
  /** 10 hex chars (AutoV2). */
  autov2: string;
  /** 12 hex chars (AutoV3, safetensors only). */
  autov3: string | null;
  metadata: Record<string, string>;
  /** A human title from the metadata (modelspec.title, ss_output_name), if any. */
  title: string | null;
  triggerWords: string[];
  /** data: URL from the file's metadata, if any. */
  thumbnail: string | null;
}

/** Inspect the file at `path`; throws StudioError for files that are not models (with the reason). */
export type FileInspector = (path: string) => Promise<InspectedFile>;
