/** Resident memory and CPU time of a process tree, read from /proc (Linux only). */
import { readFileSync, readdirSync } from "node:fs";

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (read(`/proc/${current}/status`) === undefined) continue;
    out.push(current);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      const children = read(`/proc/${current}/task/${task}/children`);
      if (children) stack.push(...children.trim().split(/\s+/).filter(Boolean).map(Number));
    }
  }
  return out;
}

/** Sum of VmRSS over the tree, in bytes. */
export function treeRssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${p}/status`) ?? "");
    if (match) total += Number(match[1]) * 1024;
  }
  return total;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux here). */
const USER_HZ = 100;

/** CPU time (user + system) the tree's live processes have used so far, in milliseconds. CPU
 * per request does not depend on how many requests the machine's other load let through, so
 * it compares runs better than requests/s on a shared machine. */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const stat = read(`/proc/${p}/stat`);
    if (!stat) continue;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / USER_HZ;
}

/** Samples the tree's RSS every `intervalMs` until stopped; returns the peak in MiB. */
export function sampleRss(pid: number, intervalMs = 100) {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, treeRssBytes(pid));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: (): number => {
      sample();
      clearInterval(timer);
      return peak / 1024 / 1024;
    },
  };
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = (read("/proc/loadavg") ?? "0 0 0").split(" ").map(Number);
  return [a ?? 0, b ?? 0, c ?? 0];
}
