// An HTTP proxy on 127.0.0.1 between MedRelay and the S3 server that injects faults, chosen by a
// seeded generator so a failing run can be replayed: dropped connections, delays, 503 SlowDown with
// Retry-After, and connections reset in the middle of a part's body. It forwards the Host header
// unchanged, so SigV4 signatures stay valid. It stops with close().
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'pass' | 'drop' | 'delay' | 'slowdown' | 'reset-mid-body';

export interface FaultProxy {
  endpoint: string;
  counts: Record<Fault, number>;
  /** Every request seen, fault or not. */
  requests: number;
  setFaultRate(rate: number): void;
  close(): Promise<void>;
}

/** Mulberry32: small, seeded, good enough to spread faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(target: string, opts: { seed: number; faultRate: number }): Promise<FaultProxy> {
  const upstream = new URL(target);
  const random = prng(opts.seed);
  let rate = opts.faultRate;
  const counts: Record<Fault, number> = { pass: 0, drop: 0, delay: 0, slowdown: 0, 'reset-mid-body': 0 };
  const state = { requests: 0 };

  let bodies = 0;
  const choose = (req: IncomingMessage): Fault => {
    if (rate === 0) return 'pass';
    // Parts are few and large: every fourth one is cut off mid-body, whatever the rate.
    const hasBody = Number(req.headers['content-length'] ?? 0) > 64 * 1024;
    if (hasBody && bodies++ % 4 === 1) return 'reset-mid-body';
    if (random() >= rate) return 'pass';
    const options: Fault[] = ['drop', 'delay', 'slowdown'];
    return options[Math.floor(random() * options.length)]!;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, onBodyChunk?: (n: number) => void) => {
    const up = request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers,
    }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      onBodyChunk?.(seen);
    });
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    state.requests++;
    const fault = choose(req);
    counts[fault]++;
    switch (fault) {
      case 'drop':
        req.socket.destroy();
        return;
      case 'delay':
        setTimeout(() => forward(req, res), 300 + Math.floor(random() * 700));
        return;
      case 'slowdown':
        req.resume();
        res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        return;
      case 'reset-mid-body': {
        const cut = Math.floor(Number(req.headers['content-length']) * (0.2 + random() * 0.6));
        forward(req, res, (seen) => { if (seen >= cut) req.socket.destroy(); });
        return;
      }
      default:
        forward(req, res);
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    get requests() { return state.requests; },
    setFaultRate(r: number) { rate = r; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
