// The few pages the proxy writes itself: small, self-contained, no scripts.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Page {
  title: string;
  message: string;
  /** Reloads the page after this many seconds (something may be back by then). */
  retrySeconds?: number;
  link?: { href: string; text: string };
}

export function messagePage(options: Page): string {
  const link = options.link
    ? `\n<p><a href="${escapeHtml(options.link.href)}">${escapeHtml(options.link.text)}</a></p>`
    : '';
  const refresh = options.retrySeconds ? `<meta http-equiv="refresh" content="${options.retrySeconds}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh}<title>${escapeHtml(options.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:3em auto;max-width:40em;padding:0 1em;color:#222}</style>
</head>
<body>
<h1>${escapeHtml(options.title)}</h1>
<p>${escapeHtml(options.message)}</p>${link}
</body>
</html>
`;
}

/** Answers with one of these pages (never cached). */
export function sendPage(res: import('node:http').ServerResponse, status: number, page: Page): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(messagePage(page));
}
