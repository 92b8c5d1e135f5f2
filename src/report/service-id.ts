// One name per service in every report: `group:name` only when the two differ, as
// supervisorctl shows it (and accepts it back in `supervisorctl tail NAME`).
export function serviceId(s: { group: string; name: string }): string {
  return s.group === s.name ? s.name : `${s.group}:${s.name}`;
}
