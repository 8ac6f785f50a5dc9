// PerfWatch dashboard: on open the chosen range (an hour by default) from /api/history,
// then live from /ws. Every chart and heatmap registers with `app`, which owns the time
// window, the draw schedule (only charts on screen are drawn, once per frame) and history.
import { LiveStream } from './conn.js';
import { getJSON, wsUrl, HttpError } from './api.js';
import { adaptHistory, chunkMetrics } from './history.js';
import { h, setText } from './dom.js';
import { duration } from './format.js';
import { cpuPanel } from './panels/cpu.js';
import { memoryPanel } from './panels/memory.js';
import { networkPanel } from './panels/network.js';
import { diskPanel } from './panels/disk.js';
import { perfPanel } from './panels/perf.js';
import { bpfPanel } from './panels/bpf.js';
import { selfPanel } from './panels/self.js';

const RANGES = [300, 3600, 21600, 86400, 604800];
const MAX_POINTS = 4000; // per chart, whatever the range: live points closer than range/MAX_POINTS are averaged

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

const app = {
	range: RANGES.includes(+params.get('range')) ? +params.get('range') : 3600,
	now: Date.now() / 1000,
	interval: 5,
	latest: null,
	receivedAt: 0,
	charts: new Set(),
	historyGen: 0,
	historyStarted: false,
	historyLoads: 0,
	historyError: '',
	historyOff: '', // why the daemon keeps no history, when it does not
	historyStep: 0, // the resolution of the last history answer, in seconds
	firstChartAt: null,

	xRange() {
		return [this.now - this.range, this.now];
	},
	minGap() {
		return this.range / MAX_POINTS;
	},
	// Points further apart than this have a gap between them (live or from history).
	gapLimit() {
		return Math.max(this.interval * 3, this.historyStep * 2.5, (this.range / historyPoints()) * 2.5);
	},
	register(chart) {
		this.charts.add(chart);
		visibility.observe(chart.el);
		resizes.observe(chart.plot);
		if (this.historyStarted) loadHistory([chart]);
	},
	unregister(chart) {
		this.charts.delete(chart);
		visibility.unobserve(chart.el);
		resizes.unobserve(chart.plot);
	},
	chartDrawn(chart) {
		if (this.firstChartAt === null && chart.hasData()) {
			this.firstChartAt = performance.now();
			performance.mark('pw-first-chart');
		}
	},
};
window.__pw = app; // for the browser test and for curious operators

// ---------------------------------------------------------------- drawing
let frame = 0;
function scheduleDraw() {
	if (frame) return;
	frame = requestAnimationFrame(() => {
		frame = 0;
		for (const c of app.charts) c.draw();
	});
}
app.scheduleDraw = scheduleDraw;

const visibility = new IntersectionObserver((entries) => {
	for (const e of entries) {
		const chart = [...app.charts].find((c) => c.el === e.target);
		if (!chart) continue;
		chart.visible = e.isIntersecting;
		if (chart.visible && chart.dirty) scheduleDraw();
	}
}, { rootMargin: '300px 0px' });

let resizeFrame = 0;
const resizes = new ResizeObserver(() => {
	if (resizeFrame) return;
	resizeFrame = requestAnimationFrame(() => {
		resizeFrame = 0;
		for (const c of app.charts) if (c.visible) c.resize();
	});
});

// ---------------------------------------------------------------- panels
const panelsEl = $('panels');
const panels = [cpuPanel(app), memoryPanel(app), networkPanel(app), diskPanel(app), perfPanel(app), bpfPanel(app), selfPanel(app)];
panelsEl.append(...panels.map((p) => p.el));

// ---------------------------------------------------------------- history
// About one point per pixel of a wide chart.
function historyPoints() {
	return Math.min(1500, Math.max(300, Math.round(window.innerWidth)));
}

// One request per panel (so that a metric one panel asks for and history lacks costs only
// that panel), retried chart by chart on a 400.
// The daemon says on /healthz whether it keeps history (not with --no-db): without it,
// no history requests (each would answer 503).
let health = null;
function healthCheck() {
	health = getJSON('healthz').catch(() => null);
	return health;
}

async function loadHistory(charts) {
	const gen = app.historyGen;
	const h = await (health || healthCheck());
	const status = h && h.history && typeof h.history === 'object' ? h.history.status : null;
	if (status === 'disabled' || status === 'unavailable') app.historyOff = `history ${status}`;
	if (app.historyOff || gen !== app.historyGen) {
		for (const c of charts) c.historyLoaded = true;
		updateStatus();
		return;
	}
	const groups = new Map();
	for (const c of charts) {
		if (!c.historyNames().length) {
			c.historyLoaded = true;
			continue;
		}
		const key = c.el.closest('section') ? c.el.closest('section').id : '';
		if (!groups.has(key)) groups.set(key, []);
		groups.get(key).push(c);
	}
	const to = Math.ceil(app.now);
	const from = Math.floor(app.now - app.range);
	const points = historyPoints();
	async function fetchFor(list) {
		const names = [...new Set(list.flatMap((c) => c.historyNames()))];
		try {
			const answers = await Promise.all(chunkMetrics(names).map((chunk) =>
				getJSON('api/history', { from, to, metrics: chunk.join(','), points })));
			if (gen !== app.historyGen) return;
			const hist = adaptHistory(answers);
			app.historyStep = Math.max(app.historyStep, hist.step);
			for (const c of list) if (app.charts.has(c)) c.loadHistory(hist);
			app.historyLoads++;
			scheduleDraw();
		} catch (e) {
			if (gen !== app.historyGen) return;
			if (e instanceof HttpError && e.status === 400 && list.length > 1) {
				await Promise.all(list.map((c) => fetchFor([c])));
				return;
			}
			if (e instanceof HttpError && e.status === 503) app.historyOff = e.message;
			app.historyError = e.message || String(e);
			updateStatus();
		}
	}
	await Promise.all([...groups.values()].map(fetchFor));
}

function reloadHistory() {
	app.historyGen++;
	app.historyStep = 0;
	app.historyError = '';
	app.historyStarted = true;
	for (const c of app.charts) c.trim();
	loadHistory([...app.charts]);
}

// ---------------------------------------------------------------- live
function onSnapshot(s) {
	if (typeof s.timestamp !== 'number' || !Number.isFinite(s.timestamp)) return;
	if (app.latest && s.timestamp === app.latest.timestamp && s.seq === app.latest.seq) return;
	app.latest = s;
	app.receivedAt = performance.now();
	app.now = s.timestamp;
	if (typeof s.interval_s === 'number' && s.interval_s > 0) app.interval = s.interval_s;
	for (const p of panels) p.update(s);
	for (const c of app.charts) c.push(s.timestamp, s);
	document.body.dataset.seq = String(s.seq);
	updateStatus();
	scheduleDraw();
	if (!app.historyStarted) reloadHistory();
}

const live = new LiveStream(wsUrl('ws'), {
	onSnapshot,
	onState: (state) => {
		app.conn = state;
		updateStatus();
		if (state === 'live' && app.wasDown) {
			// Back after an outage (maybe a restarted daemon, with other flags): what
			// history holds for the gap, then live again.
			app.wasDown = false;
			app.historyOff = '';
			healthCheck();
			if (app.historyStarted) reloadHistory();
		}
		if (state === 'disconnected' || state === 'unauthorized') app.wasDown = true;
	},
	probeAuth: async () => {
		try {
			await getJSON('healthz');
			return false;
		} catch (e) {
			return e instanceof HttpError && (e.status === 401 || e.status === 403);
		}
	},
});

// ---------------------------------------------------------------- status line
const connEl = $('conn');
const connText = $('conn-text');
function updateStatus() {
	const s = app.latest;
	if (s) {
		setText($('host'), s.hostname || '');
		setText($('interval'), `every ${duration(app.interval)}`);
		document.title = `${s.hostname} · PerfWatch`;
	}
	let state = app.conn || 'connecting';
	const age = app.receivedAt ? (performance.now() - app.receivedAt) / 1000 : null;
	if (state === 'live' && age !== null && age > app.interval * 3 + 2) state = 'stale';
	connEl.dataset.state = state;
	const text = {
		live: 'live',
		stale: 'live, waiting for data',
		connecting: 'connecting…',
		disconnected: 'disconnected',
		unauthorized: 'unauthorized: open the page with ?token=… (the daemon’s token)',
	}[state];
	setText(connText, text);
	// the countdown sits outside the live region: announced once is enough
	setText($('conn-retry'), state === 'disconnected' ? ` · retrying in ${Math.ceil(live.retryIn())} s` : '');
	const histNote = app.historyOff || (app.historyError ? `history: ${app.historyError}` : '');
	setText($('age'), age === null ? '' : `updated ${duration(age)} ago${histNote ? ` · ${histNote}` : ''}`);

	const errs = s && s.errors && typeof s.errors === 'object' ? Object.entries(s.errors) : [];
	const btn = $('errors-toggle');
	btn.hidden = errs.length === 0;
	setText(btn, `${errs.length} collector ${errs.length === 1 ? 'error' : 'errors'}`);
	const list = $('errors');
	if (errs.length === 0) {
		list.hidden = true;
		btn.setAttribute('aria-expanded', 'false');
	}
	const key = JSON.stringify(errs);
	if (list.dataset.key !== key) {
		list.dataset.key = key;
		list.replaceChildren(h('dl', {}, errs.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: String(v) })])));
	}
}
$('errors-toggle').addEventListener('click', (e) => {
	const list = $('errors');
	list.hidden = !list.hidden;
	e.currentTarget.setAttribute('aria-expanded', String(!list.hidden));
});
setInterval(updateStatus, 1000);

// ---------------------------------------------------------------- range picker
const rangeButtons = [...document.querySelectorAll('[data-range]')];
function showRange() {
	for (const b of rangeButtons) b.setAttribute('aria-pressed', String(+b.dataset.range === app.range));
}
for (const b of rangeButtons) {
	b.addEventListener('click', () => {
		const r = +b.dataset.range;
		if (r === app.range) return;
		app.range = r;
		showRange();
		const u = new URL(location.href);
		u.searchParams.set('range', String(r));
		history.replaceState(null, '', u);
		for (const c of app.charts) c.dirty = true;
		reloadHistory();
		scheduleDraw();
	});
}
showRange();

// ---------------------------------------------------------------- theme
const themeBtn = $('theme');
function applyTheme(theme) {
	document.documentElement.dataset.theme = theme;
	themeBtn.setAttribute('aria-pressed', String(theme === 'dark'));
	for (const c of app.charts) c.restyle();
	scheduleDraw();
}
themeBtn.addEventListener('click', () => {
	const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
	try {
		localStorage.setItem('pw-theme', next);
	} catch {
		/* private mode: the choice lasts this page */
	}
	applyTheme(next);
});
let savedTheme = null;
try {
	savedTheme = localStorage.getItem('pw-theme');
} catch {
	savedTheme = null;
}
applyTheme(params.get('theme') || savedTheme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));

// ---------------------------------------------------------------- start
function start() {
	if (typeof window.uPlot !== 'function') {
		const n = $('notice');
		n.hidden = false;
		n.textContent = 'The chart library (web/vendor/uPlot.iife.min.js) is missing: build the dashboard with `make`.';
		return;
	}
	healthCheck(); // in parallel with the stream: history waits for it
	live.start();
}
// The chart library is a classic deferred script: it has run before module scripts do.
start();
