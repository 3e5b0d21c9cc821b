// What the terminal server's process serves beside its terminals: the workshop
// dashboard (<prefix>/dashboard, its terminals are sessions here), the editor
// (<prefix>/editor), files in and out of the shells (<prefix>/files) and the
// file API beside them (<prefix>/files/api, for the editor and the workshop's
// file actions). The entry point hands these to the
// server (and the tests' harness, starting the same server, does too); the
// server itself imports none of them.
import type { Config } from '../../common/src/config.js';
import type { Logger } from '../../common/src/log.js';
import { createDashboard, type DashboardConfig } from '../../dashboard/src/server.js';
import { createEditor } from '../../editor/src/server.js';
import { createFileApi } from './file-api.js';
import { createFiles, type FilesConfig } from './files.js';
import type { MountFactory } from './server.js';

export type MountsConfig = DashboardConfig & FilesConfig & Pick<Config, 'prefix'>;

export function terminalMounts(options: { config: MountsConfig; logger: Logger; assetsDir: string }): MountFactory[] {
  const { config, logger, assetsDir } = options;
  return [
    ({ shellEnv, room }) =>
      createDashboard({ config, logger: logger.child('dashboard'), assetsDir, env: shellEnv, room }),
    () => createEditor({ config, assetsDir }),
    () => createFileApi({ config, logger: logger.child('file-api') }),
    ({ sessions }) => createFiles({ config, sessions, logger: logger.child('files') }),
  ];
}
