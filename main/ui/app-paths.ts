// Where loopscope keeps the user's things: recordings made from the window, and its small
// settings (the recent recordings list). The platforms' usual places, and XDG_* on Linux.

import { homedir } from 'node:os';
import { join } from 'node:path';

const APP = 'loopscope';

/** Recordings and uploaded files. */
export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env['LOCALAPPDATA'] ?? join(homedir(), 'AppData', 'Local'), APP);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP);
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), APP);
}

/** Settings. */
export function configDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming'), APP);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Preferences', APP);
  return join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), APP);
}

export function recordingsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'recordings');
}
