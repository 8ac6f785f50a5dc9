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
		// zygote children rewrite their title: one string with spaces, not NUL-separated args
		const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
		return { pid: Number(pid), cpu: (Number(rest[11]) + Number(rest[12])) / CLK_TCK, cmd };
	} catch {
		return null;
	}
}

// Chromium's processes: every one whose command line names our profile directory (the
// browser passes --user-data-dir on to its children), with its CPU seconds so far and its
// --type. Renderers are summed: besides our tab only idle ones exist, so the sum is the
// tab's CPU or a little more.
export function chromiumProcesses(profileMarker) {
	return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(readProc).filter((p) => p && p.cmd.some((a) => a.includes(profileMarker)))
		.map((p) => ({ pid: p.pid, cpu: p.cpu, type: (p.cmd.find((a) => a.startsWith('--type=')) || '--type=browser').slice(7) }));
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
