import type { Migration } from './migration';

/**
 * Where a finished generation really ran: `ran_on_json` holds the provider and precision the engine used, and the
 * stages the fp16 overflow guard re-ran in fp32 (RanOn, shared/domain/history.ts). NULL for rows made before this
 * step and for runs that did not finish.
 */
export const migration007RanOn: Migration = {
  version: 7,
  name: 'ran-on',
  up(db) {
    db.exec('ALTER TABLE generations ADD COLUMN ran_on_json TEXT');
  },
};
