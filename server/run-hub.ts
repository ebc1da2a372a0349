// Who is connected to which run, broadcasting to all of them, and one piece of work at a time per run.
import type { ServerMessage } from './protocol.js';

/** Anything that can receive a JSON message (a WebSocket context). */
export interface Listener {
  send(data: string): void;
}

export interface RunHub {
  join(runId: string, l: Listener): void;
  leave(runId: string, l: Listener): void;
  /** Sends to every stakeholder connected to the run. */
  broadcast(runId: string, message: ServerMessage): void;
  send(l: Listener, message: ServerMessage): void;
  /** Runs `work` after every earlier piece of work on the same run has settled. */
  serialize<T>(runId: string, work: () => Promise<T>): Promise<T>;
  /** Every piece of work still queued or running (for a clean shutdown). */
  idle(): Promise<void>;
  connections(runId: string): number;
}

export function createRunHub(): RunHub {
  const rooms = new Map<string, Set<Listener>>();
  const queues = new Map<string, Promise<unknown>>();
  const send = (l: Listener, message: ServerMessage): void => {
    try {
      l.send(JSON.stringify(message));
    } catch {
      // A socket that closed in between: it leaves on its own close event.
    }
  };
  return {
    join(runId, l) {
      let room = rooms.get(runId);
      if (!room) rooms.set(runId, (room = new Set()));
      room.add(l);
    },
    leave(runId, l) {
      rooms.get(runId)?.delete(l);
    },
    broadcast(runId, message) {
      for (const l of rooms.get(runId) ?? []) send(l, message);
    },
    send,
    serialize(runId, work) {
      const prev = queues.get(runId) ?? Promise.resolve();
      const next = prev.then(work, work);
      const settled = next.catch(() => undefined);
      queues.set(runId, settled);
      void settled.then(() => {
        if (queues.get(runId) === settled) queues.delete(runId);
      });
      return next;
    },
    async idle() {
      await Promise.allSettled([...queues.values()]);
    },
    connections(runId) {
      return rooms.get(runId)?.size ?? 0;
    },
  };
}
