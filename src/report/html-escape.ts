// Text from the watched host (service names, paths, descriptions, errors) is hostile: every
// string that reaches the HTML page, in text or in an attribute, goes through here.
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  // Control characters other than tab and newline would make the document invalid: shown as U+FFFD.
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd');
}
