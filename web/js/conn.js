// The live stream: one WebSocket to /ws, one JSON snapshot per message. Reconnects by
// itself with exponential backoff (0.5 s doubling to 8 s, with jitter so that many
// tabs do not knock at once) and reports its state for the status line.

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

export class LiveStream {
	constructor(url, { onSnapshot, onState, probeAuth }) {
		this.url = url;
		this.onSnapshot = onSnapshot;
		this.onState = onState;
		this.probeAuth = probeAuth; // async () => true when the daemon refuses our token
		this.attempt = 0;
		this.ws = null;
		this.timer = 0;
		this.state = '';
		this.retryAt = 0;
	}

	start() {
		this.open();
	}

	setState(state, detail) {
		this.state = state;
		this.onState(state, detail);
	}

	open() {
		clearTimeout(this.timer);
		this.setState('connecting');
		let ws;
		try {
			ws = new WebSocket(this.url);
		} catch (e) {
			this.retry();
			return;
		}
		this.ws = ws;
		let gotMessage = false;
		ws.onmessage = (ev) => {
			let snap;
			try {
				snap = JSON.parse(ev.data);
			} catch {
				return; // not ours: ignore rather than break the page
			}
			if (!snap || typeof snap !== 'object') return;
			if (!gotMessage) {
				gotMessage = true;
				this.attempt = 0;
			}
			this.onSnapshot(snap);
		};
		ws.onopen = () => this.setState('live');
		ws.onclose = () => {
			if (this.ws !== ws) return;
			this.ws = null;
			this.retry(!gotMessage);
		};
		ws.onerror = () => {}; // onclose follows and does the work
	}

	async retry(neverWorked) {
		const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
		this.attempt = Math.min(this.attempt + 1, 10);
		this.retryAt = performance.now() + delay;
		this.timer = setTimeout(() => this.open(), delay);
		const refused = neverWorked && this.probeAuth ? await this.probeAuth() : false;
		if (this.ws) return; // the next try began while we asked
		this.setState(refused ? 'unauthorized' : 'disconnected');
	}

	// Seconds until the next try, for the status line.
	retryIn() {
		return Math.max(0, (this.retryAt - performance.now()) / 1000);
	}
}
