// /api/history answers -> { t: [seconds, oldest first], series: Map(metric name -> values) },
// values aligned with t, null where there is none.
//
// The response shape is documented at the top of src/history/query.c.
export function adaptHistory(resp) {
	const series = new Map();
	if (!resp || typeof resp !== 'object') return { t: [], series };
	const t = Array.isArray(resp.timestamps) ? resp.timestamps : Array.isArray(resp.t) ? resp.t : [];
	if (resp.series && !Array.isArray(resp.series)) {
		for (const [name, values] of Object.entries(resp.series)) if (Array.isArray(values)) series.set(name, values);
	}
	return { t, series, step: medianStep(t) };
}

// The usual distance between two points of a history answer (its tier's resolution).
function medianStep(t) {
	const d = [];
	for (let i = 1; i < t.length; i++) if (t[i] > t[i - 1]) d.push(t[i] - t[i - 1]);
	d.sort((a, b) => a - b);
	return d.length ? d[d.length >> 1] : 0;
}
