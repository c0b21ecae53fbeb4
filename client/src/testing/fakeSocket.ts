/** Component tests' stand-in for socket.io-client's Socket: records emits, answers acks, fires server events. */
export class FakeSocket {
  connected = false;
  handlers = new Map<string, Array<(...args: unknown[]) => void>>();
  emits: Array<{ event: string; payload: Record<string, unknown> }> = [];
  acks: Record<string, (payload: Record<string, unknown>) => unknown> = {};

  on(event: string, fn: (...args: unknown[]) => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }
  fire(event: string, ...args: unknown[]) {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }
  timeout() {
    return this;
  }
  emitWithAck(event: string, payload: Record<string, unknown>) {
    this.emits.push({ event, payload });
    return Promise.resolve(this.acks[event]?.(payload) ?? { ok: true });
  }
  emit(event: string, payload: Record<string, unknown>) {
    this.emits.push({ event, payload });
  }
  connect() {
    this.connected = true;
    this.fire("connect");
  }
  disconnect() {
    this.connected = false;
  }
  removeAllListeners() {
    this.handlers.clear();
  }
}

/**
 * socket.io-client for a component test's `vi.mock`: `io()` hands back the test's current socket, which
 * connects once the caller has set its handlers.
 */
export function fakeSocketIo(current: () => FakeSocket) {
  return {
    io: () => {
      const socket = current();
      queueMicrotask(() => socket.connect());
      return socket;
    },
  };
}
