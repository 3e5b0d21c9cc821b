// The URL a person opens, as the start-up log says it, and whether a browser
// will open it at all: browsers refuse a list of ports outright, whatever the
// server does (Chromium: net::ERR_UNSAFE_PORT), 10080 among them since 2021.

/** The Fetch standard's "bad ports": no browser loads a URL on one of them. */
export const BROWSER_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * Where to open the terminal: PUBLIC_URL when it is set; else, when the proxy
 * listens on this machine only, its localhost URL; else nothing we can know
 * (a container's port is published under a number of the host's choosing).
 */
export function urlToOpen(options: { publicUrl: string; host: string; port: number; prefix: string }): string | null {
  if (options.publicUrl) return options.publicUrl;
  const loopback = options.host === 'localhost' || options.host === '::1' || options.host.startsWith('127.');
  return loopback ? `http://localhost:${options.port}${options.prefix}/` : null;
}
