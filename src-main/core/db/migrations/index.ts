// Every schema version, in order. Add a file NNNN-name.ts and a test for each new version.
import type { Migration } from '../migrate.js';
import { m0001Jobs } from './0001-jobs.js';
import { m0002FileReports } from './0002-file-reports.js';
import { m0003Settings } from './0003-settings.js';
import { m0004Resumable } from './0004-resumable.js';
import { m0005Catalog } from './0005-catalog.js';
import { m0006ClaimIndex } from './0006-claim-index.js';
import { m0007FileIdentity } from './0007-file-identity.js';

export const MIGRATIONS: readonly Migration[] = [m0001Jobs, m0002FileReports, m0003Settings, m0004Resumable, m0005Catalog, m0006ClaimIndex,
  m0007FileIdentity];
