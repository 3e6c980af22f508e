/** faultline's own HTTP/1.1 client as a Transport: requests encoded once, connections of http1.ts. */
import { H1Connection, encodeRequest } from '../http1.ts';
import type { Exchange, RequestSpec, Transport, TransportOptions } from '../transport.ts';

export class Http1Transport implements Transport {
  private readonly o: TransportOptions;
  private readonly conns: H1Connection[] = [];
  private readonly host: string;
  private readonly port: number;

  constructor(o: TransportOptions) {
    this.o = o;
    this.host = o.target.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(o.target.port) || 80;
  }

  prepare(r: RequestSpec): Buffer {
    return encodeRequest(this.o.target.host, r.method, r.path, r.headers, r.body);
  }

  send(conn: number, x: Exchange, prepared: unknown): void {
    let c = this.conns[conn];
    if (c === undefined) {
      c = new H1Connection({ host: this.host, port: this.port, pipelining: this.o.pipelining, connectTimeoutMs: this.o.connectTimeoutMs });
      this.conns[conn] = c;
    }
    x.handle = c;
    c.send(x, prepared as Buffer);
  }

  cancellable(): boolean {
    // Our requests are cancelled wherever they are: a connection that never opens must not pin them.
    return true;
  }

  cancel(x: Exchange, err: Error): void {
    (x.handle as H1Connection | undefined)?.cancel(x, err);
  }

  destroy(): void {
    for (const c of this.conns) c?.destroy();
  }
}
