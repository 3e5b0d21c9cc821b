// Processes as /proc shows them: the tree below a pid, command lines and memory.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../common/src/paths.js';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** The command name from /proc/<pid>/stat (at most 15 characters). */
  comm: string;
}

/** Every process that could be read from /proc/<pid>/stat. */
export function processTable(): ProcessEntry[] {
  const table: ProcessEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      table.push({ pid: Number(entry), ppid, comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // The process went away while being read.
    }
  }
  return table;
}

/** Every process below `pid`: its children, theirs, and so on, parents first. */
export function descendants(pid: number, table: readonly ProcessEntry[] = processTable()): ProcessEntry[] {
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry]);
  const result: ProcessEntry[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      result.push(child);
      queue.push(child.pid);
    }
  }
  return result;
}

/** The arguments the process was started with; empty when it is gone (or a kernel thread). */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

/** `node dist/auth-proxy/src/main.js`: the program and its first path argument, relative to the project. */
export function processName(pid: number, comm: string): string {
  // pm2 sets the title of the processes it starts ("node <script>"), which overwrites their argv.
  const argv = commandLine(pid)
    .flatMap((arg) => arg.split(' '))
    .filter(Boolean);
  const program = path.basename(argv[0] ?? comm);
  const script = argv.slice(1).find((arg) => arg.includes('/'));
  if (!script) return program;
  const relative = path.relative(projectRoot(), script);
  return `${program} ${relative.startsWith('..') ? script : relative}`;
}

export interface ProcessMemory {
  /** Resident set size (VmRSS): every page the process maps that is in memory, shared ones in full. */
  rssKiB: number;
  /** Proportional set size: shared pages divided among the processes that map them. */
  pssKiB: number;
  /** Pages only this process maps (Private_Clean + Private_Dirty). */
  privateKiB: number;
}

/** The process's memory from /proc/<pid>/status and smaps_rollup; null when it is gone. */
export function processMemory(pid: number): ProcessMemory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
    return {
      rssKiB: field(status, 'VmRSS'),
      pssKiB: field(rollup, 'Pss'),
      privateKiB: field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty'),
    };
  } catch {
    return null;
  }
}

// utime, stime, cutime and cstime in /proc/<pid>/stat count USER_HZ ticks, 100 a second on Linux.
const TICKS_PER_SECOND = 100;

export interface ProcessCpu {
  /** User + system CPU time of the process itself, ms. */
  ownMs: number;
  /** The same of its children that have ended and that it has waited for, ms. */
  reapedMs: number;
}

/** CPU time so far from /proc/<pid>/stat; null when the process is gone. */
export function processCpu(pid: number): ProcessCpu | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 3; utime, stime, cutime, cstime are fields 14 to 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (field: number) => (Number(fields[field - 3]) * 1000) / TICKS_PER_SECOND;
    return { ownMs: ms(14) + ms(15), reapedMs: ms(16) + ms(17) };
  } catch {
    return null;
  }
}
