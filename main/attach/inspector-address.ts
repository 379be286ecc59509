// Where to reach a listening socket from this machine, and which listeners stand in the way of
// an inspector opening on a given host and port. Pure.

/** A listening address as something to connect to: wildcards become loopback. */
export function connectHost(address: string): string {
  if (address === '0.0.0.0' || address === '') return '127.0.0.1';
  if (address === '::') return '::1';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

const isWildcard = (a: string): boolean => a === '0.0.0.0' || a === '::' || a === '';

/**
 * Whether a socket listening on `listener` keeps an inspector from binding `host` on the same
 * port. Wildcards conflict with everything (an IPv6 wildcard is dual-stack by default).
 */
export function addressesConflict(listener: string, host: string): boolean {
  const h = host === 'localhost' ? '127.0.0.1' : host;
  if (isWildcard(listener) || isWildcard(h)) return true;
  return connectHost(listener) === connectHost(h);
}

/** The websocket URL of a target, pointed at the address we reach it by. */
export function websocketUrl(advertised: string, host: string, port: number): string {
  const url = new URL(advertised);
  url.hostname = host.includes(':') ? `[${host}]` : host;
  url.port = String(port);
  return url.toString();
}

/** `host` as a URL authority: IPv6 addresses in brackets. */
export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
