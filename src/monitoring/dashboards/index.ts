export const DASHBOARDS: Array<{ file: string; build: () => unknown }> = [];
