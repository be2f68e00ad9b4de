/**
 * The worker-side 'hash-control-units' job: SHA-256 of each ControlNet unit's file and conditioning input, for the
 * history record of a queued generation (the CLI calls the same function, hashControlUnits, directly).
 */
import { hashControlUnits } from '../control/unit-hashes';
import type { JobHandler } from '../worker-protocol';
import type { HashControlUnitsJobParams, HashControlUnitsJobResult } from './job-types';

export const hashControlUnitsJob: JobHandler<HashControlUnitsJobParams, HashControlUnitsJobResult> = async (p) => ({ units: await hashControlUnits(p.units) });
