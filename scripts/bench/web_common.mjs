// Shared by the web benchmarks: the daemon and browser come from the browser tests'
// harness, plus CPU accounting of Chromium's processes from /proc.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD } from '../../tests/browser/harness.mjs';

export * from '../../tests/browser/harness.mjs';

const CLK_TCK = 100; // USER_HZ on Linux

function readProc(pid) {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
		return { pid, ppid: Number(rest[1]), cpu: (Number(rest[11]) + Number(rest[12])) / CLK_TCK, cmd };
	} catch {
		return null;
	}
}

// Chromium's processes (the one whose command line names our profile, and all its
// descendants), each with its CPU seconds so far and its --type.
export function chromiumProcesses(profileMarker) {
	const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(readProc).filter(Boolean);
	const root = all.find((p) => p.cmd.some((a) => a.includes(profileMarker)) && !p.cmd.some((a) => a.startsWith('--type=')));
	if (!root) return [];
	const out = [root];
	for (let i = 0; i < out.length; i++) for (const p of all) if (p.ppid === out[i].pid) out.push(p);
	return out.map((p) => ({
		pid: p.pid,
		cpu: p.cpu,
		type: (p.cmd.find((a) => a.startsWith('--type=')) || '--type=browser').slice(7),
	}));
}

export function cpuByType(procs) {
	const by = {};
	for (const p of procs) by[p.type] = (by[p.type] || 0) + p.cpu;
	return by;
}

export const median = (a) => {
	const s = [...a].sort((x, y) => x - y);
	return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

export function saveResult(name, result) {
	const dir = join(BUILD, 'bench');
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
}
