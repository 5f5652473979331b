// The HTML error page of the browser-facing authorize endpoint: shown when the
// app cannot be identified safely, so the browser is never redirected anywhere.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderErrorPage(message: string, requestId: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Authorization error - AetherFlow</title></head>
<body>
<main>
<h1>This authorization request cannot be completed</h1>
<p>${escapeHtml(message)}</p>
<p>Go back to the application and try again, or contact its developer. Request id: <code>${escapeHtml(requestId)}</code></p>
</main>
</body>
</html>
`;
}
