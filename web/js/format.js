// Units people read: KiB/MiB/GiB, %, /s, ms. One locale, so the page reads the same
// everywhere (and the browser test can parse it back).

export const DASH = '—';
export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

const formats = new Map();
function nf(digits) {
	let f = formats.get(digits);
	if (!f) {
		f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
		formats.set(digits, f);
	}
	return f;
}
const exactFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

// Three significant digits for a mantissa below 1000.
function sig3(a) {
	const abs = Math.abs(a);
	return nf(abs >= 100 || a === 0 ? 0 : abs >= 10 ? 1 : 2).format(a);
}

function scaled(v, base, units) {
	let i = 0;
	let a = v;
	while (Math.abs(a) >= 999.5 && i < units.length - 1) {
		a /= base;
		i++;
	}
	return `${i === 0 && Number.isInteger(a) ? nf(0).format(a) : sig3(a)} ${units[i]}`;
}

const BYTES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
export function bytes(v) {
	return isNum(v) ? scaled(v, 1024, BYTES) : DASH;
}
export function bytesRate(v) {
	return isNum(v) ? `${bytes(v)}/s` : DASH;
}

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
// A quantity without a unit of its own (events, packets): 1.23 k, 45.6 M.
export function si(v) {
	if (!isNum(v)) return DASH;
	return scaled(v, 1000, SI).trimEnd();
}
export function rate(v, what = '') {
	return isNum(v) ? `${si(v)}${what ? ' ' + what : ''}/s` : DASH;
}
// Counters: exact below a million, SI above.
export function count(v) {
	if (!isNum(v)) return DASH;
	return Math.abs(v) < 1e6 ? nf(0).format(v) : si(v);
}
export function pct(v) {
	if (!isNum(v)) return DASH;
	return `${nf(Math.abs(v) < 1 && v !== 0 ? 2 : 1).format(v)} %`;
}
export function ms(v) {
	if (!isNum(v)) return DASH;
	const a = Math.abs(v);
	if (a === 0) return '0 ms';
	if (a < 1) return `${sig3(v * 1000)} µs`;
	if (a < 1000) return `${sig3(v)} ms`;
	return `${sig3(v / 1000)} s`;
}
export function us(v) {
	return isNum(v) ? ms(v / 1000) : DASH;
}
export function mhz(v) {
	if (!isNum(v)) return DASH;
	return v >= 1000 ? `${nf(2).format(v / 1000)} GHz` : `${nf(0).format(v)} MHz`;
}
export function celsius(v) {
	return isNum(v) ? `${nf(1).format(v)} °C` : DASH;
}
export function ratio(v) {
	return isNum(v) ? nf(2).format(v) : DASH;
}
export function duration(s) {
	if (!isNum(s)) return DASH;
	if (s < 10) return `${nf(1).format(s)} s`;
	if (s < 60) return `${Math.floor(s)} s`;
	const d = Math.floor(s / 86400);
	const h = Math.floor((s % 86400) / 3600);
	const m = Math.floor((s % 3600) / 60);
	if (d) return `${d} d ${h} h`;
	if (h) return `${h} h ${m} m`;
	return `${m} m ${Math.floor(s % 60)} s`;
}
export function exact(v) {
	return isNum(v) ? exactFormat.format(v) : DASH;
}

// Per unit: the short form (tiles, axes) and the exact form (tooltips).
export const units = {
	bytes: { short: bytes, exact: (v) => (isNum(v) ? `${exact(v)} B (${bytes(v)})` : DASH), base: 1024 },
	bytesRate: { short: bytesRate, exact: (v) => (isNum(v) ? `${exact(v)} B/s (${bytesRate(v)})` : DASH), base: 1024 },
	pct: { short: pct, exact: (v) => (isNum(v) ? `${exact(v)} %` : DASH) },
	rate: { short: (v) => rate(v), exact: (v) => (isNum(v) ? `${exact(v)} /s` : DASH) },
	count: { short: count, exact },
	ms: { short: ms, exact: (v) => (isNum(v) ? `${exact(v)} ms` : DASH) },
	mhz: { short: mhz, exact: (v) => (isNum(v) ? `${exact(v)} MHz` : DASH) },
	celsius: { short: celsius, exact: (v) => (isNum(v) ? `${exact(v)} °C` : DASH) },
	ratio: { short: ratio, exact },
	duration: { short: duration, exact: (v) => (isNum(v) ? `${exact(v)} s` : DASH) },
};

// Axis tick labels: shorter still; `incr` (the tick step) sets the decimals of plain numbers.
export function axisLabel(unit, v, incr) {
	if (!isNum(v)) return '';
	const dec = isNum(incr) && incr > 0 ? Math.min(3, Math.max(0, -Math.floor(Math.log10(incr) + 1e-9))) : 0;
	switch (unit) {
	case 'bytes': return bytes(v);
	case 'bytesRate': return bytes(v) + '/s';
	case 'pct': return `${nf(dec).format(v)}%`;
	case 'ratio': return nf(dec).format(v);
	case 'ms': return ms(v);
	case 'mhz': return mhz(v);
	case 'celsius': return `${nf(0).format(v)}°`;
	default: return si(v);
	}
}

// Tick increments for byte axes: 1, 2, 4, 8 ... of each binary unit, so labels read
// "512 KiB, 1 MiB" instead of "977 KiB".
export const byteIncrs = (() => {
	const out = [];
	for (let p = 0; p <= 60; p += 10) {
		const base = 2 ** p;
		for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]) out.push(base * m);
	}
	return out;
})();

const monthDay = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });

// A time axis tick: seconds when the ticks are seconds apart, the day at midnight.
export function timeTick(ts, incr) {
	const d = new Date(ts * 1000);
	const p = (n) => String(n).padStart(2, '0');
	if (incr >= 86400 || (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0)) return monthDay.format(d);
	if (incr < 60) return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
	return `${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function clock(ts, withDate) {
	const d = new Date(ts * 1000);
	const p = (n) => String(n).padStart(2, '0');
	const t = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
	return withDate ? `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${t}` : t;
}
