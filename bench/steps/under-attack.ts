// The `under attack` step: password guessing, bad-frame floods, a page that lies about what it
// read, a stuck viewer, a crowd of pages and an OpenShift login flood, each against the running stack.
import {
  measureBadFrames,
  measureGuessing,
  measureLyingPage,
  measurePageCrowd,
  measureStuckViewer,
} from '../measure-attacks.js';
import { LOGIN_FLOOD_RSS_ALLOWANCE_MIB, LOGIN_FLOOD_SETTLE_MAX_MS, measureLoginFlood } from '../measure-login-flood.js';
import type { Figure } from '../report.js';
import { median } from '../stats.js';
import { log, type Step } from './step.js';

const GUESSING_SECONDS = 20;
const LYING_OUTPUT_BYTES = 200e6;
const STUCK_VIEWER_ROUNDS = 10;
const CROWD_PAGES = 500;
const FLOOD_PAIRS = 3000;
const FLOOD_CONCURRENCY = 8;

async function underAttack(raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `under attack: password guessing for ${GUESSING_SECONDS} s, from one address, then with a new X-Forwarded-For each`,
  );
  const options = { seconds: GUESSING_SECONDS, concurrency: 20, patienceMs: 150 };
  const oneAddress = await measureGuessing({ ...options, rotate: false });
  const rotating = await measureGuessing({ ...options, rotate: true });
  log('under attack: 100 000 bad frames from each of 4 pages; a page that acknowledges everything and reads nothing');
  const badFrames = await measureBadFrames({ pages: 4, framesEach: 100_000, keystrokes: 200 });
  const lying = await measureLyingPage(LYING_OUTPUT_BYTES);
  log(
    `under attack: a viewer that stops reading, ${STUCK_VIEWER_ROUNDS} rounds; ${CROWD_PAGES} pages open one session`,
  );
  const stuckViewer = await measureStuckViewer(STUCK_VIEWER_ROUNDS);
  const crowd = await measurePageCrowd(CROWD_PAGES);
  log(
    `under attack: OpenShift login flood, ${FLOOD_PAIRS} handshake + callback pairs without credentials, ${FLOOD_CONCURRENCY} at a time`,
  );
  const flood = await measureLoginFlood({ pairs: FLOOD_PAIRS, concurrency: FLOOD_CONCURRENCY });
  raw.underAttack = { guessing: { oneAddress, rotating }, badFrames, lying, stuckViewer, crowd, loginFlood: flood };
  const floodWhat = `OpenShift login flood (${flood.pairs} handshake + made-up-code callback pairs from one client without credentials, ${flood.concurrency} in flight; auth proxy, simulated cluster and attacker each in their own process)`;
  const mib = (n: number) => n.toFixed(0);
  // Beyond what may be tried at once (the README: five per client, twenty in all).
  const perMinute = (r: typeof oneAddress, burst: number) => (Math.max(0, r.checked - burst) * 60) / r.seconds;
  return [
    {
      id: 'attack.guessing.checkedPerMinute',
      label: `Basic auth: guesses checked per minute after the first five, one client with 20 in flight dropping answers slower than 150 ms (${GUESSING_SECONDS} s)`,
      value: perMinute(oneAddress, 5),
      unit: '/min',
      target: { op: '<=', value: 10 },
      note: `${oneAddress.checked} checked, ${oneAddress.refused} refused unchecked (429), ${oneAddress.dropped} dropped`,
    },
    {
      id: 'attack.guessing.rotatingPerMinute',
      label:
        'Same, with a new X-Forwarded-For per guess (TRUST_PROXY=true), after the twenty all clients share at once',
      value: perMinute(rotating, 20),
      unit: '/min',
      target: { op: '<=', value: 30 },
      note: `${rotating.checked} checked, ${rotating.refused} refused unchecked, ${rotating.dropped} dropped`,
    },
    {
      id: 'attack.badFrames.echoP99',
      label: `Keystroke echo p99 in another session while ${badFrames.pages} pages each send ${badFrames.framesEach} bad frames`,
      value: badFrames.echo.p99,
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note: `p50 ${badFrames.echo.p50.toFixed(2)} ms, max ${badFrames.echo.max.toFixed(1)} ms; closed with ${[
        ...new Set(badFrames.closeCodes),
      ].join(', ')}`,
    },
    {
      id: 'attack.badFrames.logBytes',
      label: 'Log written by the terminal server because of those frames',
      value: badFrames.logBytes / 1024,
      unit: 'KiB',
      target: { op: '<=', value: 64 },
    },
    {
      id: 'attack.lyingPage.growth',
      label: `Terminal server RSS growth while a page that reads nothing but acknowledges everything gets ${
        LYING_OUTPUT_BYTES / 1e6
      } MB of yes`,
      value: lying.rssMiB.peak - lying.rssMiB.baseline,
      unit: 'MiB',
      target: { op: '<=', value: 128 },
      note: `baseline ${lying.rssMiB.baseline.toFixed(0)} MiB, peak ${lying.rssMiB.peak.toFixed(0)} MiB`,
    },
    {
      id: 'attack.lyingPage.after',
      label: 'Its RSS above the baseline after the page and the session have gone',
      value: lying.rssMiB.after - lying.rssMiB.baseline,
      unit: 'MiB',
    },
    {
      id: 'attack.stuckViewer.ratio',
      label: `The owner's seq 1 300000 with a viewer that stopped reading ÷ without, medians of ${STUCK_VIEWER_ROUNDS} interleaved runs (server in its own process)`,
      value: stuckViewer.ratio,
      unit: '×',
      target: { op: '<=', value: 1.1 },
      note: `alone ${median(stuckViewer.aloneMs).toFixed(0)} ms, with the stuck viewer ${median(stuckViewer.watchedMs).toFixed(0)} ms; the viewers paused the program ${stuckViewer.viewerPauses} times`,
    },
    {
      id: 'attack.pageCrowd.echoP99',
      label: `Keystroke echo p99 in another session while ${crowd.pages} pages of the owner's open one session at once, then close`,
      value: crowd.echo.p99,
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note: `p50 ${crowd.echo.p50.toFixed(2)} ms, max ${crowd.echo.max.toFixed(1)} ms, ${crowd.echo.keystrokes} keystrokes; ${crowd.attached} attached, ${crowd.refused} refused`,
    },
    {
      id: 'attack.pageCrowd.controlBytes',
      label: 'Control messages sent to those pages, in all',
      value: crowd.controlBytes / 1024,
      unit: 'KiB',
      note: `server RSS baseline ${crowd.rssMiB.baseline.toFixed(0)} MiB, peak ${crowd.rssMiB.peak.toFixed(0)} MiB`,
    },
    {
      id: 'attack.guessing.userLogin',
      label: 'The real user logging in from another address during the one-client attack',
      value: oneAddress.userLoginMs,
      unit: 'ms',
    },
    {
      id: 'attack.loginFlood.rssPeak',
      label: `${floodWhat}: auth proxy RSS at its peak during the flood, above the start`,
      value: flood.rssMiB.peak - flood.rssMiB.start,
      unit: 'MiB',
      note: `start ${mib(flood.rssMiB.start)} MiB, peak ${mib(flood.rssMiB.peak)} MiB, right after ${mib(flood.rssMiB.end)} MiB`,
    },
    {
      id: 'attack.loginFlood.rssAfter',
      label: 'Its RSS above the start once the flood has ended and settled',
      value: flood.rssMiB.settled - flood.rssMiB.start,
      unit: 'MiB',
      target: { op: '<=', value: LOGIN_FLOOD_RSS_ALLOWANCE_MIB },
      note: `${mib(flood.rssMiB.settled)} MiB ${flood.settleSeconds.toFixed(1)} s after the flood (waited until within ${LOGIN_FLOOD_RSS_ALLOWANCE_MIB} MiB, at most ${LOGIN_FLOOD_SETTLE_MAX_MS / 1000} s)`,
    },
    {
      id: 'attack.loginFlood.echoP99',
      label: `Keystroke echo p99 of a logged-in user through the proxy during the flood (${flood.concurrency} pairs in flight)`,
      value: flood.echo.during.p99,
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note: `p50 ${flood.echo.during.p50.toFixed(1)} ms, max ${flood.echo.during.max.toFixed(1)} ms, ${flood.echo.during.count} keystrokes; before the flood p50 ${flood.echo.quiet.p50.toFixed(1)}, p99 ${flood.echo.quiet.p99.toFixed(1)} ms; the measuring process's own event-loop delay p99 ${flood.clientDelayMs.p99.toFixed(1)} ms`,
    },
    {
      id: 'attack.loginFlood.healthzP99',
      label: "The proxy's /healthz round trip p99 during the flood (asked every 50 ms)",
      value: flood.healthz.p99,
      unit: 'ms',
      note: `p50 ${flood.healthz.p50.toFixed(1)} ms, max ${flood.healthz.max.toFixed(1)} ms, ${flood.healthz.count} requests`,
    },
    {
      id: 'attack.loginFlood.cpuPerPair',
      label: 'Auth proxy CPU (user + system) per login pair during the flood',
      value: flood.cpuMsPerPair,
      unit: 'ms',
      note: `${flood.pairs} pairs in ${flood.seconds.toFixed(1)} s (${(flood.pairs / flood.seconds).toFixed(0)}/s); includes serving the echo and /healthz meanwhile`,
    },
    {
      id: 'attack.loginFlood.tlsConnections',
      label: 'TLS connections the simulated OpenShift accepted from the proxy during the flood',
      value: flood.tlsConnections,
      unit: 'connections',
      note: `for ${flood.pairs} token requests`,
    },
    {
      id: 'attack.loginFlood.refused',
      label: 'Callbacks refused with 503 (more logins in flight than the limit)',
      value: flood.refusedCallbacks,
      unit: `of ${flood.pairs}`,
      note: `handshake→callback statuses: ${Object.entries(flood.statuses)
        .map(([pair, count]) => `${pair} ×${count}`)
        .join(', ')}`,
    },
  ];
}

export const underAttackStep: Step = {
  name: 'under attack',
  targets: [
    'attack.guessing.checkedPerMinute',
    'attack.guessing.rotatingPerMinute',
    'attack.badFrames.echoP99',
    'attack.badFrames.logBytes',
    'attack.lyingPage.growth',
    'attack.stuckViewer.ratio',
    'attack.pageCrowd.echoP99',
    'attack.loginFlood.rssAfter',
    'attack.loginFlood.echoP99',
  ],
  run: ({ raw }) => underAttack(raw),
};
