// Shared pieces of the browser tests and the web benchmark: the real perfwatch daemon on
// a free port, the real Chromium (the Debian package, never a downloaded one) driven by
// playwright-core, and readers for what the page shows.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD = process.env.PW_BUILD || join(REPO, 'build');
export const PW_BIN = process.env.PW_BIN || join(BUILD, 'perfwatch');
export const CHROMIUM = process.env.PW_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(BUILD, 'browser');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A TCP port that nothing listens on right now (on `host`).
export function freePort(host = '127.0.0.1') {
	return new Promise((res, rej) => {
		const s = createServer();
		s.once('error', rej);
		s.listen(0, host, () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

export function tempDir(prefix) {
	return mkdtempSync(join(tmpdir(), prefix));
}

// The daemon: `perfwatch --listen HOST:PORT --web-root web --db <temp> ...`, ready when
// /healthz answers. stop() sends SIGTERM; start() again reuses the port and the database.
export class Daemon {
	constructor({ host = '127.0.0.1', port = 0, interval = 1, token = null, args = [], env = {} } = {}) {
		this.env = env;
		this.host = host;
		this.port = port;
		this.interval = interval;
		this.token = token;
		this.args = args;
		this.dir = tempDir('pw-browser-');
		this.db = join(this.dir, 'history.db');
		this.logPath = join(this.dir, 'perfwatch.log');
		this.proc = null;
		if (token) {
			this.tokenFile = join(this.dir, 'token');
			writeFileSync(this.tokenFile, `${token}\n`, { mode: 0o600 });
		}
	}

	get base() {
		return `http://127.0.0.1:${this.port}`;
	}

	url(path = '/', params = {}) {
		const u = new URL(path, this.base);
		for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
		return u.href;
	}

	async start(timeoutMs = 20000) {
		if (!this.port) this.port = await freePort(this.host === '0.0.0.0' ? '0.0.0.0' : '127.0.0.1');
		const argv = [
			'--listen', `${this.host}:${this.port}`,
			'--interval', String(this.interval),
			'--web-root', join(REPO, 'web'),
			'--db', this.db,
			'--log-level', 'warn',
			...(this.tokenFile ? ['--auth-token-file', this.tokenFile] : []),
			...this.args,
		];
		const log = openSync(this.logPath, 'a');
		this.proc = spawn(PW_BIN, argv, { stdio: ['ignore', log, log], env: { ...process.env, ...this.env } });
		closeSync(log);
		this.exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (this.proc.exitCode !== null) throw new Error(`perfwatch exited ${this.proc.exitCode}: ${this.log()}`);
			try {
				const r = await this.fetch('/healthz');
				if (r.ok) return this;
			} catch {
				/* not listening yet */
			}
			await sleep(100);
		}
		await this.stop();
		throw new Error(`perfwatch not ready on ${this.base}: ${this.log()}`);
	}

	fetch(path, opts = {}) {
		const headers = { ...(opts.headers || {}) };
		if (this.token && !('Authorization' in headers)) headers.Authorization = `Bearer ${this.token}`;
		return fetch(this.base + path, { ...opts, headers, signal: AbortSignal.timeout(5000) });
	}

	async json(path) {
		const r = await this.fetch(path);
		if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
		return r.json();
	}

	log() {
		try {
			return readFileSync(this.logPath, 'utf8');
		} catch {
			return '';
		}
	}

	async stop() {
		if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
		this.proc.kill('SIGTERM');
		const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
		await this.exited;
		clearTimeout(t);
	}

	async close() {
		await this.stop();
		rmSync(this.dir, { recursive: true, force: true });
	}
}

// Chromium, headless, with a fresh empty profile that is removed afterwards.
export async function launchBrowser({ width = 1280, height = 900 } = {}) {
	const profile = tempDir('pw-chromium-');
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		viewport: { width, height },
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
	});
	return {
		context,
		profile,
		async close() {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		},
	};
}

// Console errors and uncaught exceptions of a page.
export function watchErrors(page) {
	const errors = [];
	page.on('console', (m) => {
		if (m.type() === 'error') errors.push(`console: ${m.text()}`);
	});
	page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
	return errors;
}

// Every snapshot the page receives on its WebSocket, by seq (the last one wins).
export function watchSnapshots(page) {
	const bySeq = new Map();
	const sockets = [];
	page.on('websocket', (ws) => {
		sockets.push(ws.url());
		ws.on('framereceived', ({ payload }) => {
			try {
				const s = JSON.parse(typeof payload === 'string' ? payload : payload.toString());
				bySeq.set(s.seq, s);
			} catch {
				/* not a snapshot */
			}
		});
	});
	return { bySeq, sockets };
}

export async function waitFor(fn, { timeout = 15000, interval = 100, what = 'condition' } = {}) {
	const deadline = Date.now() + timeout;
	let last;
	while (Date.now() < deadline) {
		last = await fn();
		if (last) return last;
		await sleep(interval);
	}
	throw new Error(`timed out waiting for ${what}`);
}

export function getPath(obj, path) {
	let o = obj;
	for (const k of path) {
		if (o == null || typeof o !== 'object') return undefined;
		o = o[k];
	}
	return o;
}

// ---------------------------------------------------------------- reading numbers back
const MULT = {
	B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50, EiB: 2 ** 60,
	'': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};
const PATTERNS = {
	bytes: [/^([\d,.]+) (B|KiB|MiB|GiB|TiB|PiB|EiB)$/, (u) => MULT[u]],
	bytesRate: [/^([\d,.]+) (B|KiB|MiB|GiB|TiB|PiB|EiB)\/s$/, (u) => MULT[u]],
	pct: [/^([\d,.]+) %$/, () => 1],
	rate: [/^([\d,.]+)(?: ([kMGTPE]))?\/s$/, (u) => MULT[u || '']],
	count: [/^([\d,.]+)(?: ([kMGTPE]))?(?: [a-z]+)?$/, (u) => MULT[u || '']],
	ms: [/^([\d,.]+) (µs|ms|s)$/, (u) => ({ 'µs': 1e-3, ms: 1, s: 1e3 })[u]],
	mhz: [/^([\d,.]+) (MHz|GHz)$/, (u) => ({ MHz: 1, GHz: 1e3 })[u]],
	celsius: [/^([\d,.]+) °C$/, () => 1],
	ratio: [/^([\d,.]+)$/, () => 1],
};

// The number a text shows, and how far from the true value its rounding may be; null
// when the unit has no pattern here (durations).
export function parseShown(text, unit) {
	const p = PATTERNS[unit];
	if (!p) return null;
	const m = p[0].exec(text.trim());
	if (!m) throw new Error(`"${text}" does not read as ${unit}`);
	const digits = m[1].replace(/,/g, '');
	const mult = p[1](m[2]);
	const decimals = digits.includes('.') ? digits.length - digits.indexOf('.') - 1 : 0;
	return { value: Number(digits) * mult, tolerance: 0.5 * 10 ** -decimals * mult * 1.0001 + 1e-9 };
}

// Checks every [data-path] element of a DOM reading against the snapshot it came from.
// Returns a list of problems (empty when all is well) and how many were checked.
export function compareShown(items, snap) {
	const problems = [];
	let checked = 0;
	for (const it of items) {
		const path = JSON.parse(it.path);
		const raw = getPath(snap, path);
		const scale = it.scale ? Number(it.scale) : 1;
		const expected = typeof raw === 'number' ? raw * scale : null;
		const shown = it.value === 'null' ? null : Number(it.value);
		if (shown !== expected) {
			problems.push(`${it.path}: data-value ${it.value}, snapshot ${JSON.stringify(raw)}`);
			continue;
		}
		checked++;
		if (expected === null) {
			if (!['—', 'not counted'].includes(it.text.trim())) problems.push(`${it.path}: null shown as "${it.text}"`);
			continue;
		}
		let read;
		try {
			read = parseShown(it.text, it.unit);
		} catch (e) {
			problems.push(`${it.path}: ${e.message}`);
			continue;
		}
		if (read && Math.abs(read.value - expected) > read.tolerance) {
			problems.push(`${it.path}: shows "${it.text}" (${read.value}), snapshot ${expected}`);
		}
	}
	return { problems, checked };
}

// What the page shows, read in one go (one JS turn, so one snapshot's worth).
export function readShown(page) {
	return page.evaluate(() => ({
		seq: document.body.dataset.seq,
		items: [...document.querySelectorAll('#panels [data-path]')].map((el) => ({
			path: el.dataset.path,
			unit: el.dataset.unit,
			scale: el.dataset.scale || null,
			value: el.dataset.value,
			text: el.textContent,
		})),
	}));
}

// Pixels of each chart: for line charts, how many pixels of the plot area have one of the
// series colours, and how wide (in pixels) the drawn part is; for heatmaps, how many
// pixels of the plot area are painted. Read from the canvases themselves.
export function readChartPixels(page) {
	return page.evaluate(() => {
		const out = [];
		const rgb = (c) => {
			const m = /^#?([0-9a-f]{6})$/i.exec(c.trim());
			if (!m) return null;
			const n = parseInt(m[1], 16);
			return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
		};
		for (const fig of document.querySelectorAll('#panels figure.chart')) {
			const id = fig.dataset.chart;
			const heat = fig.classList.contains('heat');
			const canvas = fig.querySelector(heat ? 'canvas.heat' : 'canvas');
			const chart = [...window.__pw.charts].find((c) => c.el === fig);
			const rect = chart && chart.plotRect();
			if (!canvas || !rect || rect[2] < 2 || rect[3] < 2) {
				out.push({ id, heat, drawn: 0, width: 0, dataWidth: 0, hasData: chart ? chart.hasData() : false });
				continue;
			}
			const [x, y, w, hgt] = rect;
			const data = canvas.getContext('2d').getImageData(x, y, w, hgt).data;
			const colors = heat ? [] : (fig.dataset.colors || '').split(',').map(rgb).filter(Boolean);
			let drawn = 0;
			let minX = Infinity;
			let maxX = -1;
			for (let i = 0; i < data.length; i += 4) {
				let hit = false;
				if (heat) hit = data[i + 3] > 0;
				else if (data[i + 3] > 0) {
					for (const c of colors) {
						if (Math.abs(data[i] - c[0]) + Math.abs(data[i + 1] - c[1]) + Math.abs(data[i + 2] - c[2]) < 60) {
							hit = true;
							break;
						}
					}
				}
				if (hit) {
					drawn++;
					const px = (i / 4) % w;
					if (px < minX) minX = px;
					if (px > maxX) maxX = px;
				}
			}
			// how wide the data is, in pixels of the plot: what a drawn line must about cover
			let first = null;
			let last = null;
			const cols = heat ? [chart.cols.map((c) => (c.some((v) => v !== null) ? 1 : null))] : chart.cols;
			for (const col of cols) {
				col.forEach((v, i) => {
					if (v === null) return;
					if (first === null || chart.t[i] < first) first = chart.t[i];
					if (last === null || chart.t[i] > last) last = chart.t[i];
				});
			}
			const [x0, x1] = window.__pw.xRange();
			const dataWidth = first === null ? 0 : ((Math.min(last, x1) - Math.max(first, x0)) / (x1 - x0)) * w;
			out.push({ id, heat, drawn, width: maxX >= 0 ? maxX - minX + 1 : 0, plotWidth: w, dataWidth, hasData: chart.hasData() });
		}
		return out;
	});
}

export function artifactPath(name) {
	mkdirSync(ARTIFACTS, { recursive: true });
	return join(ARTIFACTS, name);
}

// Charts that have data but are not drawn: a line must cover most of the width its data
// spans (at least a few pixels), a heatmap must have painted cells.
export function blankCharts(pixels) {
	return pixels.filter((c) => {
		if (!c.hasData) return false;
		if (c.heat) return c.drawn < 4;
		const want = Math.max(2, Math.min(10, c.dataWidth * 0.5));
		return c.drawn < want || c.width < Math.min(c.dataWidth * 0.8, c.dataWidth - 3);
	});
}

// uPlot paints on its own schedule, which a loaded machine delays: read the charts once
// every one that has data is painted, or after `timeout` (the caller's assertion then
// names the blank ones).
export async function paintedChartPixels(page, filter = () => true, timeout = 5000) {
	let px = [];
	try {
		await waitFor(async () => {
			px = (await readChartPixels(page)).filter(filter);
			return blankCharts(px).length === 0;
		}, { timeout, what: 'charts painted' });
	} catch {
		/* reported by the caller */
	}
	return px;
}
