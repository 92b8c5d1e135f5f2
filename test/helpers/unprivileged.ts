// Runs a command so that file permissions apply to it even when the tests run as root.
// Switching to `nobody` would also need every ancestor of the checkout to be readable by it
// (a clone under /root is not); instead the command keeps uid 0 but loses the capabilities
// that let root ignore permissions, so a mode-000 directory is refused while the (root-owned)
// checkout stays readable. setpriv is util-linux, on every Debian machine.

const DROP_DAC = ['--bounding-set', '-dac_override,-dac_read_search'];

export const isRoot = process.getuid?.() === 0;

/** [command, args] to spawn: wrapped in setpriv when root, unchanged otherwise. */
export function unprivileged(cmd: string, args: readonly string[]): [string, string[]] {
  return isRoot ? ['setpriv', [...DROP_DAC, cmd, ...args]] : [cmd, [...args]];
}
