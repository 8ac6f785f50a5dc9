// Talking to the daemon: the token (from ?token= on the page URL, needed when the
// daemon listens on a non-loopback address), JSON fetches and the WebSocket URL.

const pageParams = new URLSearchParams(location.search);
export const token = pageParams.get('token') || '';

export class HttpError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

export function wsUrl(path = 'ws') {
	const u = new URL(path, location.href);
	u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
	u.search = '';
	u.hash = '';
	if (token) u.searchParams.set('token', token);
	return u.href;
}

export async function getJSON(path, params = {}, signal) {
	const u = new URL(path, location.href);
	u.search = '';
	for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
	const headers = { Accept: 'application/json' };
	if (token) headers.Authorization = `Bearer ${token}`;
	const r = await fetch(u, { headers, cache: 'no-store', signal });
	if (!r.ok) {
		let msg = `${r.status} ${r.statusText}`;
		try {
			const body = await r.json();
			if (body && typeof body.error === 'string') msg = body.error;
		} catch {
			/* not JSON: keep the status line */
		}
		throw new HttpError(r.status, msg);
	}
	return r.json();
}
