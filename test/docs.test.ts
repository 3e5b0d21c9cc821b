// The protocol document states numbers the code has: they are read out of the
// document and compared with the code, so the two cannot drift apart again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { deployerVariables, describeSettings } from '../common/src/config.js';
import { projectRoot } from '../common/src/paths.js';
import {
  ClientType,
  CloseCode,
  CONTROL_TYPES,
  EDITABLE_MAX_BYTES,
  FlowControl,
  LIST_MAX_ENTRIES,
  Limits,
  Reconnect,
  ServerType,
  VIEWERS_EVERY_MS,
} from '../common/src/protocol.js';
import { ATTACH_TIMEOUT_MS, PING_INTERVAL_MS } from '../terminal-server/src/connection.js';

const doc = readFileSync(path.join(projectRoot(), 'docs', 'protocol.md'), 'utf8').replace(/\s+/g, ' ');

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1 << 20, bytes: 1, s: 1000, ms: 1 };

/** The number the document states where `pattern` matches, in bytes or ms when a unit follows it. */
function stated(pattern: RegExp): number {
  const match = pattern.exec(doc);
  assert.ok(match, `docs/protocol.md says nothing matching ${pattern}`);
  const value = Number(match[1]);
  return match[2] ? value * (UNITS[match[2]] as number) : value;
}

describe('docs/protocol.md', () => {
  test('the message types are the code’s: each frame type with its byte, each control message', () => {
    const section = (heading: string) => {
      const start = doc.indexOf(`## ${heading}`);
      assert.ok(start >= 0, `a section ${heading}`);
      const end = doc.indexOf('## ', start + 3);
      return doc.slice(start, end < 0 ? undefined : end);
    };
    /** The frame types a section's table names, as name → byte. */
    const frames = (heading: string) =>
      Object.fromEntries(
        [...section(heading).matchAll(/\| `0x([0-9a-f]{2})` \| (\w+) +\|/g)].map((m) => [
          m[2],
          Number.parseInt(m[1] as string, 16),
        ]),
      );
    const lowered = (types: Record<string, number>) =>
      Object.fromEntries(Object.entries(types).map(([name, byte]) => [name.toLowerCase(), byte]));
    assert.deepEqual(frames('Page → server'), lowered(ClientType));
    assert.deepEqual(frames('Server → page'), lowered(ServerType));
    const documented = [...section('Server → page').matchAll(/- `\{"type":"(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), [...CONTROL_TYPES].sort());
  });

  test('flow-control numbers are the code’s', () => {
    assert.equal(stated(/backlog is more than \**([\d.]+) (KiB|MiB)/), FlowControl.highWaterBytes);
    assert.equal(stated(/every page is back under \**([\d.]+) (KiB|MiB)/), FlowControl.lowWaterBytes);
    assert.equal(stated(/each\s+time it has processed ([\d.]+) (KiB|MiB)/), FlowControl.ackEveryBytes);
    assert.equal(stated(/stays behind for \**([\d.]+) (s|ms)/), FlowControl.stallTimeoutMs);
  });

  test('the file API’s limits are the code’s', () => {
    assert.equal(stated(/at most (\d+) entries \(`truncated`\)/), LIST_MAX_ENTRIES);
    assert.equal(stated(/files over ([\d.]+) (MiB) \(`too-large`\)/), EDITABLE_MAX_BYTES);
    assert.equal(stated(/A body over ([\d.]+) (MiB) is refused with 413/), EDITABLE_MAX_BYTES);
  });

  test('limits and timings are the code’s', () => {
    assert.equal(stated(/Frames over ([\d.]+) (KiB|MiB)/), Limits.maxFrameBytes);
    assert.equal(stated(/reading it, up to \**([\d.]+) (KiB|MiB)\** per session/), Limits.maxPendingInputBytes);
    assert.equal(stated(/at most ([\d.]+) (KiB|MiB) per frame/), Limits.inputChunkBytes);
    assert.equal(stated(/(\d+)–\d+ columns/), Limits.minCols);
    assert.equal(stated(/\d+–(\d+) columns/), Limits.maxCols);
    assert.equal(stated(/(\d+)–\d+ rows/), Limits.minRows);
    assert.equal(stated(/\d+–(\d+) rows/), Limits.maxRows);
    assert.equal(stated(/instance id \(ASCII, ≤ (\d+) bytes\)/), Limits.maxInstanceIdLength);
    assert.equal(stated(/up to the (\d+)th bad message/), Limits.maxBadMessages);
    assert.equal(stated(/A session takes up to (\d+) of its owner's pages/), Limits.maxPagesPerSession);
    assert.equal(stated(/at most every (\d+) (ms)/), VIEWERS_EVERY_MS);
    assert.equal(stated(/within (\d+) (s)/), ATTACH_TIMEOUT_MS);
    assert.equal(stated(/server pings every (\d+) (s)/), PING_INTERVAL_MS);
  });

  test('the close codes are the ones the contract has: each in the table but 1009, stated above it', () => {
    const table = [...doc.matchAll(/\| (\d{4}) \|/g)].map((m) => Number(m[1])).sort();
    const codes = Object.values(CloseCode)
      .filter((code) => code !== CloseCode.TooBig)
      .sort();
    assert.deepEqual(table, codes);
    assert.equal(stated(/close the connection with (\d+)/), CloseCode.TooBig);
  });

  test('the page’s back-off is the page’s', () => {
    assert.equal(stated(/the first time after \**([\d.]+) (s)/), Reconnect.firstDelayMs);
    assert.equal(stated(/doubling up to \**([\d.]+) (s)/), Reconnect.maxDelayMs);
    assert.equal(stated(/within 1 ± \**([\d.]+)/), Reconnect.jitter);
  });
});

// The README's table of settings is checked against config.ts's: a setting added
// without its row, or a row left for a setting gone or misspelt, fails here.
describe("the README's settings", () => {
  const readme = readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');
  const section = readme.split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
  /** The variables each row of the table names in its first column. */
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1] as string));
  const named = rows.flat();
  const settings = describeSettings()
    .split('\n')
    .map((line) => line.split(/\s+/)[0]);

  test('every variable in the table is a setting, once', () => {
    assert.ok(rows.length > 20, 'the table under "## Configuration" is found');
    assert.deepEqual(
      named.filter((name) => !settings.includes(name)),
      [],
    );
    assert.deepEqual(
      named.filter((name, i) => named.indexOf(name) !== i),
      [],
    );
  });

  test('every setting a deployer may set has a row (those the platform sets need none)', () => {
    assert.deepEqual(
      deployerVariables().filter((name) => !named.includes(name)),
      [],
    );
  });
});
