// The small HTML page at "/", as every Prometheus exporter serves.

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function landingPage(version: string, telemetryPath: string, audit = false, runbooks = false): string {
  const p = escapeHtml(telemetryPath);
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>hostaudit-exporter</title></head>
<body>
<h1>hostaudit-exporter</h1>
<p>Prometheus exporter for a supervisord host: per-service CPU, memory, logs, SQLite databases, probes.</p>
<p>Version ${escapeHtml(version)}</p>
<ul>
<li><a href="${p}">Metrics</a></li>
${audit ? '<li><a href="audit">Audit report</a></li>\n' : ''}${runbooks ? '<li><a href="runbooks">Runbooks</a></li>\n' : ''}<li><a href="-/healthy">Health</a></li>
<li><a href="-/ready">Readiness</a></li>
</ul>
</body>
</html>
`;
}
