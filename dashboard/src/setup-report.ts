// How the workshop's setup.d scripts ran at start: the supervisor writes the
// report (supervisor/setup-workshop.ts) into pm2's folder, and the dashboard
// tells the author about each that did not succeed.
import { readFileSync } from 'node:fs';

/** The report's name in pm2's working folder. */
export const SETUP_REPORT_FILE = 'workshop-setup.json';

export interface SetupResult {
  /** The script's name in setup.d/. */
  script: string;
  outcome: 'ok' | 'failed' | 'not-executable' | 'timed-out' | 'refused';
  code: number | null;
  signal: string | null;
  /** The last of what it wrote (bounded), to tell the author why. */
  tail: string;
}

/** A note for the author for each script that did not succeed; none when there is no report. */
export function setupProblems(file: string): string[] {
  if (!file) return [];
  let results: unknown;
  try {
    results = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  if (!Array.isArray(results)) return [];
  return (results as SetupResult[]).flatMap((result) => {
    const where = `setup.d/${String(result.script)}`;
    const said = String(result.tail ?? '')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' / ')
      .slice(-300);
    const why = said ? `: ${said}` : '';
    switch (result.outcome) {
      case 'ok':
        return [];
      case 'not-executable':
        return [`${where} is not executable (chmod +x): it did not run`];
      case 'refused':
        return [`${where} is a link leading outside the workshop folder: it did not run`];
      case 'timed-out':
        return [`${where} ran too long and was stopped${why}`];
      default:
        return [
          `${where} failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.code}`}) at start${why}`,
        ];
    }
  });
}
