// The one rule for "this path is under that prefix", used wherever a path is
// matched against the service prefix or a folder under it (the auth proxy's
// admission, the redirect after a login, the terminal server's routes). One rule
// because a path one part lets through and the next part reads differently is
// how checks are bypassed: the proxy must never admit a path the terminal server
// would route elsewhere.

/**
 * The rest of `path` after `base`: '' for `base` itself, else starting with '/';
 * null when `path` is not under `base`. Compared byte for byte, case included,
 * as browsers compare cookie paths and as JupyterHub's proxy routes users'
 * servers; `base` is '' or starts with '/' and has no final slash.
 */
export function pathUnder(base: string, path: string): string | null {
  if (!path.startsWith(base)) return null;
  const rest = path.slice(base.length);
  return rest === '' || rest.startsWith('/') ? rest : null;
}
