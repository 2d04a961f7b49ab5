// A graphql-transport-ws client for one subscription, that reconnects by itself.
//
// The protocol: `connection_init` (with the bearer token), `connection_ack`, `subscribe`, then `next` messages
// until `complete` or `error`; `ping` is answered with `pong`. When the socket closes for any other reason
// than a refused token, it is opened again after 1, 2, 4 ... up to 30 seconds (with some jitter so that many
// tabs do not come back at the same instant); `onStatus` tells the page, and `onOpen` lets it catch up on what
// it missed while disconnected. The subscription is open once its first update came (`productActivity` sends an
// empty one as soon as it listens): a catch-up read before that could miss what is committed in between.

// close codes after which trying again would fail the same way (graphql-transport-ws; 4403 is the token)
const CLOSED_FOR_GOOD = new Map([
  [4403, "The gateway no longer accepts this token: sign in again."],
  [4400, "The gateway refused the live connection (invalid message)."],
  [4401, "The gateway refused the live connection (subscribed before it was acknowledged)."],
  [4406, "The gateway refused the live connection (protocol not offered)."],
  [4409, "The gateway refused the live connection (subscription id in use)."],
  [4429, "The gateway refused the live connection (initialised twice)."],
]);

export class LiveSubscription {
  /**
   * @param {{query: string, operationName: string, variables: object, token: string,
   *          onNext: (data: object) => void, onOpen: () => void,
   *          onStatus: (status: {state: string, message: string, retryIn?: number}) => void}} options
   */
  constructor(options) {
    this.options = options;
    this.attempt = 0;
    this.stopped = false;
    this.socket = null;
    this.timer = 0;
    this.listening = false;
    this.connect();
  }

  connect() {
    const { onStatus } = this.options;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
    onStatus({ state: "connecting", message: "Connecting…" });
    let socket;
    try {
      socket = new WebSocket(url, "graphql-transport-ws");
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${this.options.token}` } }));
    });
    socket.addEventListener("message", (event) => this.receive(socket, event.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      const final = CLOSED_FOR_GOOD.get(event.code);
      if (final) {
        this.stopped = true;
        onStatus({ state: "failed", message: final });
      } else {
        this.retry();
      }
    });
  }

  receive(socket, text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const { query, operationName, variables, onNext, onOpen, onStatus } = this.options;
    if (message.type === "connection_ack") {
      this.attempt = 0;
      this.listening = false;
      socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, operationName, variables } }));
    } else if (message.type === "next" && message.payload && message.payload.data) {
      if (!this.listening) {
        // the subscription's first update says it listens: what is read from now on misses nothing
        this.listening = true;
        onStatus({ state: "open", message: "Live" });
        onOpen();
      }
      onNext(message.payload.data);
    } else if (message.type === "error") {
      const first = Array.isArray(message.payload) ? message.payload[0] : null;
      this.stopped = true;
      socket.close(1000);
      onStatus({ state: "failed", message: (first && first.message) || "The subscription failed." });
    } else if (message.type === "complete") {
      // the server ended it (it is shutting down, say): come back like after a lost connection
      socket.close(1000);
      this.socket = null;
      if (!this.stopped) this.retry();
    } else if (message.type === "ping") {
      socket.send(JSON.stringify({ type: "pong" }));
    }
  }

  retry() {
    if (this.stopped) return;
    const base = Math.min(30, 2 ** this.attempt);
    const seconds = Math.max(1, Math.round(base * (0.75 + Math.random() * 0.5)));
    this.attempt += 1;
    this.options.onStatus({ state: "waiting", message: `Disconnected: reconnecting in ${seconds} s…`, retryIn: seconds });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), seconds * 1000);
  }

  /** Stop for good (the page was left). */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id: "1", type: "complete" }));
      socket.close(1000);
    }
  }
}
