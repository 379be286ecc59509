// Who may talk to the web host. It listens on loopback only, but a web page in the user's
// browser can still reach loopback: so every request must carry the random token in its path,
// and name this host in Host (against DNS rebinding) and, when it has one, in Origin (against
// other sites' pages and WebSockets). Pure.

import { timingSafeEqual } from 'node:crypto';

export interface GuardRequest {
  readonly url: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
}

export type GuardVerdict =
  | { readonly ok: true; /** The path after /<token>, starting with '/'. */ readonly path: string }
  | { readonly ok: false; readonly status: 403 | 404; readonly reason: string };

/** Asked for by every browser at the site's root, without the token; answered empty, it reveals nothing. */
export const FAVICON_PATH = '/favicon.ico';

export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function checkRequest(req: GuardRequest, port: number, token: string): GuardVerdict {
  const hosts = allowedHosts(port);
  if (req.host === undefined || !hosts.includes(req.host.toLowerCase())) {
    return { ok: false, status: 403, reason: `foreign Host header: ${req.host ?? '(none)'}` };
  }
  if (req.origin !== undefined && !hosts.some((h) => req.origin === `http://${h}`)) {
    return { ok: false, status: 403, reason: `foreign Origin header: ${req.origin}` };
  }
  const pathOnly = req.url.split('?')[0] ?? '';
  if (pathOnly === FAVICON_PATH) return { ok: true, path: FAVICON_PATH };
  const match = /^\/([^/]+)(\/.*)?$/.exec(pathOnly);
  if (!match || !sameToken(match[1] ?? '', token)) return { ok: false, status: 403, reason: 'missing or wrong token' };
  return { ok: true, path: match[2] ?? '/' };
}
