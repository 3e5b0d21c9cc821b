// Reading a workshop page's HTML as rendered on the server, as the page's own script would.

/** The actions a page's HTML holds (its blocks' data-action attributes), as the page's script reads them. */
export function actionsOf(html: string): Record<string, unknown>[] {
  return [...html.matchAll(/data-action="([^"]*)"/g)].map((m) =>
    JSON.parse(
      (m[1] as string)
        .replace(/&quot;/g, '"')
        .replace(/&gt;/g, '>')
        .replace(/&lt;/g, '<')
        .replace(/&amp;/g, '&'),
    ),
  );
}
