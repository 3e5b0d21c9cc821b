// Output throughput: `cat` of a large text file through the terminal server (or
// the auth proxy in front of it) to a headless page that acknowledges as a browser
// does, next to the raw pty ceiling (the same `cat` read straight from a pty
// master, by node-pty and by Python).
import { execFile } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import * as pty from 'node-pty';
import { startTerminalServer } from '../test/harness/servers.js';
import { TerminalClient } from '../test/harness/terminal-client.js';
import { type Endpoint, openEndpoint, type Route } from './endpoint.js';
import { startServerProcess } from './server-process.js';

export type ServerPlace = 'in-process' | 'own-process';

export interface TextFile {
  file: string;
  /** Size of the file. */
  bytes: number;
  lines: number;
  /** What a reader of the pty receives: the pty turns every LF into CRLF. */
  expectedBytes: number;
}

export interface TransferRun {
  /** Bytes received. */
  bytes: number;
  /** From start (attach, or spawn for the ceilings) to the end (close, or exit). */
  seconds: number;
  /** From start to the last output byte (null where the reader cannot tell). */
  secondsToLastByte: number | null;
  bytesPerSecond: number;
  /** The byte count is what `cat` on a pty produces. */
  complete: boolean;
  /** Output chunks the reader got (WebSocket output frames for the server; null where not counted). */
  chunks: number | null;
  /**
   * CPU time of the reading process during the run (user + system): for the
   * server in this process, server and page together; in its own process, the page only.
   */
  readerCpuSeconds: number;
}

/** Writes a text file of numbered lines of about 60 characters, up to `size` bytes. */
export function makeTextFile(dir: string, size: number): TextFile {
  const file = path.join(dir, 'throughput.txt');
  const fd = openSync(file, 'w');
  let bytes = 0;
  let lines = 0;
  try {
    while (bytes < size) {
      const block: string[] = [];
      for (let i = 0; i < 16_384 && bytes < size; i++, lines++) {
        const line = `${String(lines).padStart(9, '0')} the quick brown fox jumps over the lazy dog ${lines % 997}\n`;
        block.push(line);
        bytes += line.length;
      }
      writeSync(fd, block.join(''));
    }
  } finally {
    closeSync(fd);
  }
  return { file, bytes, lines, expectedBytes: bytes + lines };
}

/** A TransferRun from what a reader counted and timed. */
export function transferRun(
  text: TextFile,
  counts: { bytes: number; chunks: number | null },
  times: { seconds: number; secondsToLastByte: number | null; cpuSeconds: number },
): TransferRun {
  return {
    bytes: counts.bytes,
    seconds: times.seconds,
    secondsToLastByte: times.secondsToLastByte,
    bytesPerSecond: counts.bytes / times.seconds,
    complete: counts.bytes === text.expectedBytes,
    chunks: counts.chunks,
    readerCpuSeconds: times.cpuSeconds,
  };
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/**
 * The file cat'ed as a session's program, received by a page that acknowledges
 * as it goes. 'in-process': the server runs in this process (the page shares its
 * thread); 'own-process': the built server runs as its own process. Route 'proxy':
 * the page connects through the auth proxy (in this process) with basic authentication.
 */
export async function measureServerThroughput(
  text: TextFile,
  where: ServerPlace,
  route: Route = 'direct',
): Promise<TransferRun> {
  const env = { TERMINAL_COMMAND: JSON.stringify(['cat', text.file]) };
  const terminal = where === 'in-process' ? await startTerminalServer(env) : await startServerProcess(env);
  let endpoint: Endpoint | undefined;
  try {
    endpoint = await openEndpoint(route, terminal);
    let bytes = 0;
    let chunks = 0;
    let lastByte = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const client = await TerminalClient.connect(endpoint.socketUrl('throughput'), {
      headers: endpoint.headers,
      ack: 'auto',
      keepText: false,
      onOutput: (chunk) => {
        bytes += chunk.length;
        chunks++;
        lastByte = performance.now();
      },
    });
    await client.closed;
    const end = performance.now();
    return transferRun(
      text,
      { bytes, chunks },
      { seconds: (end - start) / 1000, secondsToLastByte: (lastByte - start) / 1000, cpuSeconds: cpuSecondsSince(cpu) },
    );
  } finally {
    await endpoint?.close();
    await ('close' in terminal ? terminal.close() : terminal.stop());
  }
}

/** The ceiling as node-pty sees it: a pty master read by node-pty's own reader, nothing else. */
export function measureNodePtyCeiling(text: TextFile): Promise<TransferRun> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let chunks = 0;
    let lastByte = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    let term: pty.IPty;
    try {
      term = pty.spawn('cat', [text.file], {
        name: 'xterm-256color',
        cols: 80,
        rows: 24,
        cwd: path.dirname(text.file),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
        encoding: null,
      });
    } catch (error) {
      reject(error);
      return;
    }
    term.onData((data) => {
      bytes += (data as unknown as Buffer).length;
      chunks++;
      lastByte = performance.now();
    });
    term.onExit(() => {
      const end = performance.now();
      resolve(
        transferRun(
          text,
          { bytes, chunks },
          {
            seconds: (end - start) / 1000,
            secondsToLastByte: (lastByte - start) / 1000,
            cpuSeconds: cpuSecondsSince(cpu),
          },
        ),
      );
    });
  });
}

// Forks `cat file` on a new pty and reads the master in 64 KiB reads until EIO
// (the slave side closed). Prints "<bytes> <reads> <seconds> <cpu seconds of the reader>".
const PYTHON_CEILING = `
import os, pty, resource, sys, time
start = time.perf_counter()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("cat", ["cat", sys.argv[1]])
total = 0
reads = 0
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    total += len(chunk)
    reads += 1
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
os.waitpid(pid, 0)
os.close(fd)
print(total, reads, seconds, usage.ru_utime + usage.ru_stime)
`;

/** The ceiling with a minimal reader: Python reading the master in a tight loop. Null when there is no python3. */
export function measurePythonCeiling(text: TextFile): Promise<TransferRun | null> {
  return new Promise((resolve) => {
    execFile('python3', ['-c', PYTHON_CEILING, text.file], { timeout: 120_000 }, (error, stdout) => {
      const [bytes, reads, seconds, cpuSeconds] = stdout.trim().split(/\s+/).map(Number);
      if (error || bytes === undefined || reads === undefined || cpuSeconds === undefined || !(Number(seconds) > 0)) {
        resolve(null);
        return;
      }
      resolve(
        transferRun(
          text,
          { bytes, chunks: reads },
          { seconds: seconds as number, secondsToLastByte: null, cpuSeconds },
        ),
      );
    });
  });
}
