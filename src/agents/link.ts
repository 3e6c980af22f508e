/**
 * One JSON message per line over a TCP socket, both ways. Messages are small
 * (a window of encoded histograms is a few KB), so line framing is enough.
 */
import type { Socket } from 'node:net';

export class Link<In, Out> {
  readonly socket: Socket;
  private buf = '';
  private closed = false;
  constructor(socket: Socket, onMessage: (m: In) => void, onClose: (error?: Error) => void) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    let error: Error | undefined;
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        let m: In;
        try {
          m = JSON.parse(line) as In;
        } catch {
          socket.destroy(new Error('a message that is not JSON'));
          return;
        }
        onMessage(m);
      }
    });
    socket.on('error', (e) => (error = e));
    socket.on('close', () => {
      this.closed = true;
      onClose(error);
    });
  }
  get open(): boolean {
    return !this.closed && !this.socket.destroyed;
  }
  send(m: Out): void {
    if (this.open) this.socket.write(JSON.stringify(m) + '\n');
  }
  /** Sends what is queued, then closes. */
  end(): void {
    if (this.open) this.socket.end();
  }
}
