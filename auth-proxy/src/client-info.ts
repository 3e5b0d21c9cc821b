// Who is asking and how they reached us, believing X-Forwarded-* only from the
// proxies TRUST_PROXY names. Used for HTTP requests and upgrades alike.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyAddr from 'proxy-addr';

export interface ClientInfo {
  /** The client's address (the first untrusted hop). */
  address: string;
  /** The scheme the browser used. */
  protocol: 'http' | 'https';
  /** The host (and port) the browser used. */
  host: string;
}

export type TrustSetting = boolean | number | readonly string[];

export type TrustFunction = (address: string, hop: number) => boolean;

export function compileTrust(setting: TrustSetting): TrustFunction {
  if (setting === true) return () => true;
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyAddr.compile([...setting]);
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim() || undefined;
}

export function clientInfo(req: http.IncomingMessage, trust: TrustFunction): ClientInfo {
  const peer = req.socket.remoteAddress ?? '';
  const trusted = trust(peer, 0);
  const encrypted = Boolean((req.socket as TLSSocket).encrypted);
  const forwardedProto = trusted ? firstValue(req.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  const forwardedHost = trusted ? firstValue(req.headers['x-forwarded-host']) : undefined;
  return {
    address: proxyAddr(req, trust),
    protocol: forwardedProto === 'https' || (!forwardedProto && encrypted) ? 'https' : 'http',
    host: forwardedHost ?? req.headers.host ?? '',
  };
}
