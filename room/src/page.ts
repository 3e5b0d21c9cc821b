// The room page's HTML: a shell the bundle (room/page) fills. Nothing of an
// attendee's is in it; the page gets the room from the stream and writes every
// attendee text as text. What is in it needs no escaping: the prefix passed
// normalizePrefix (letters, digits and . _ ~ @ % + - between slashes) and the
// versions are hex digests.

export function roomPage(options: { prefix: string; script: string; style: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The room</title>
<link rel="stylesheet" href="${options.style}">
</head>
<body data-prefix="${options.prefix}">
<noscript>The room page needs JavaScript.</noscript>
<script src="${options.script}"></script>
</body>
</html>
`;
}
