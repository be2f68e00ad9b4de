/**
 * The worker-side 'check-control-units' job: the studio queue's pre-record check of a generation's ControlNet units
 * (checkControlNetUnits, the one the CLI runs), here because it decodes the conditioning inputs.
 */
import { checkControlNetUnits } from '../control/check-units';
import type { JobHandler } from '../worker-protocol';
import type { CheckControlUnitsJobParams } from './job-types';

export const checkControlUnitsJob: JobHandler<CheckControlUnitsJobParams, null> = async (p) => {
  await checkControlNetUnits(p.units, p.cacheRoot, p.clip);
  return null;
};
