// /api/history answers -> { t: [seconds, oldest first], series: Map(metric -> values), step }
// with the values of every metric aligned on one timeline, null where there is none.
//
// The answer's shape (src/history/query.c): {"from", "to", "step", "tier", "bucketed",
// "series": {"<metric>": {"t": [...], "v": [...], "min": [...], "max": [...]}}}; t is the
// same for every series of one answer. Several answers (one query holds at most 64
// metrics) are merged onto the union of their timelines.

export const MAX_METRICS_PER_QUERY = 64;
const MAX_QUERY_CHARS = 8000;

// Metric names split into queries small enough for the daemon.
export function chunkMetrics(names) {
	const out = [];
	let cur = [];
	let len = 0;
	for (const n of names) {
		const l = encodeURIComponent(n).length + 1;
		if (cur.length && (cur.length >= MAX_METRICS_PER_QUERY || len + l > MAX_QUERY_CHARS)) {
			out.push(cur);
			cur = [];
			len = 0;
		}
		cur.push(n);
		len += l;
	}
	if (cur.length) out.push(cur);
	return out;
}

export function adaptHistory(answers) {
	const list = (Array.isArray(answers) ? answers : [answers]).filter((a) => a && typeof a === 'object' && a.series && typeof a.series === 'object');
	const entries = [];
	let step = 0;
	for (const a of list) {
		const st = typeof a.step === 'number' && a.step > 0 ? a.step : 0;
		if (st > step) step = st;
		// A bucket's t is its start; its mean belongs in its middle (not past the end of
		// the range asked for: the newest bucket is still filling).
		const shift = a.bucketed && st ? (t) => t.map((x) => Math.min(x + st / 2, typeof a.to === 'number' ? a.to : Infinity)) : null;
		const shifted = new Map();
		for (const [name, s] of Object.entries(a.series)) {
			if (!s || !Array.isArray(s.t) || !Array.isArray(s.v)) continue;
			let t = s.t;
			if (shift) {
				if (!shifted.has(s.t)) shifted.set(s.t, shift(s.t));
				t = shifted.get(s.t);
			}
			entries.push([name, t, s.v]);
		}
	}
	const series = new Map();
	if (!entries.length) return { t: [], series, step };
	const first = entries[0][1];
	const same = entries.every(([, t]) => t === first || (t.length === first.length && t[0] === first[0] && t[t.length - 1] === first[first.length - 1]));
	if (same) {
		for (const [name, , v] of entries) series.set(name, v);
		return { t: first, series, step };
	}
	const all = new Set();
	for (const [, t] of entries) for (const x of t) all.add(x);
	const t = [...all].sort((a, b) => a - b);
	const index = new Map(t.map((x, i) => [x, i]));
	for (const [name, ts, v] of entries) {
		const col = new Array(t.length).fill(null);
		for (let i = 0; i < ts.length; i++) col[index.get(ts[i])] = v[i] === undefined ? null : v[i];
		series.set(name, col);
	}
	return { t, series, step };
}
