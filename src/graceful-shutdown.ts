// Stopping without dropping a request that was already sent. First, for the drain
// period (src/main.ts), every answer closes its connection (`Connection: close`), while
// the listener still accepts: a load balancer that has not yet seen /health fail keeps
// sending, and each of its requests is answered.
//
// Then the listener stops accepting, and that is where requests used to be lost.
// Closing a listening socket resets every connection still waiting in the kernel's
// accept queue (a busy server accepts slowly: 60 queued logins took 700 ms to be
// accepted), and http.Server.close() also destroys every idle connection at once,
// although its client may have sent a request whose bytes are still unread. So: keep
// listening until a connection we open to ourselves is accepted (the accept queue is
// first in, first out, so everything queued before the signal has been accepted by
// then); then until no connection has come for a moment and the event loop has polled
// twice more (each poll accepts whatever is queued), which is when the queue is empty,
// at most a second more for clients that keep connecting after the drain; stop
// listening with net.Server's close (which leaves the connections alone); and close
// the connections that are still idle only once no request has come for a moment and
// the event loop has polled twice more, so that what they had sent has been read.
// Every answer from the signal on closes its connection, so keep-alive clients send
// nothing more here.
import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import net from 'node:net';

const QUIET_MS = 100;
/** The longest wait for a moment without new connections before the listener closes anyway. */
const LONGEST_WAIT_MS = 1_000;

/** From now on, every answer carries `Connection: close` and its connection is closed once it is sent. */
export function closeConnectionsAfterAnswers(listener: http.Server): void {
  listener.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.shouldKeepAlive = false;
  });
}

/** Stops accepting and calls `onClosed` once every connection has ended (call closeConnectionsAfterAnswers first). */
export function shutDownGracefully(listener: http.Server, onClosed: () => void): void {
  afterAcceptQueue(listener, () =>
    whenSettled(listener, 'connection', LONGEST_WAIT_MS, () => {
      net.Server.prototype.close.call(listener, onClosed);
      whenSettled(listener, 'request', Infinity, () => listener.closeIdleConnections());
    }),
  );
}

/** Runs `task` once a connection opened now to the listener has been accepted (or at once if that cannot be done). */
function afterAcceptQueue(listener: http.Server, task: () => void): void {
  const address = listener.address();
  if (address === null || typeof address === 'string') return task();
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    listener.off('connection', onConnection);
    probe.destroy();
    task();
  };
  const onConnection = (socket: net.Socket) => {
    if (socket.remotePort === probe.localPort && probe.localPort !== undefined) {
      socket.destroy();
      finish();
    }
  };
  listener.on('connection', onConnection);
  const probe = net.connect({ host, port: address.port });
  probe.on('error', finish);
  // Should the probe never be accepted, stop listening anyway after a while.
  setTimeout(finish, 5_000).unref();
}

/**
 * Runs `task` once `event` has not been emitted for QUIET_MS and then for two more polls
 * for I/O (each setImmediate callback runs after one), or at the first check phase after
 * `longestMs` whatever comes.
 */
function whenSettled(emitter: EventEmitter, event: string, longestMs: number, task: () => void): void {
  const deadline = Date.now() + longestMs;
  let done = false;
  let seen = false;
  let timer: NodeJS.Timeout | undefined;
  let longest: NodeJS.Timeout | undefined;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearTimeout(longest);
    emitter.off(event, onEvent);
    task();
  };
  const quiet = () => {
    seen = false;
    // Came meanwhile: its own timer is running, unless the longest wait is over.
    afterPolls(2, () => (!seen || Date.now() >= deadline ? finish() : undefined));
  };
  const onEvent = () => {
    seen = true;
    clearTimeout(timer);
    timer = setTimeout(quiet, QUIET_MS);
  };
  emitter.on(event, onEvent);
  timer = setTimeout(quiet, QUIET_MS);
  if (Number.isFinite(longestMs)) longest = setTimeout(() => setImmediate(finish), longestMs);
}

/** Runs `task` after `polls` more polls for I/O (each setImmediate callback runs after one). */
function afterPolls(polls: number, task: () => void): void {
  setImmediate(() => (polls <= 1 ? task() : afterPolls(polls - 1, task)));
}
