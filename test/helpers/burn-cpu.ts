// A CPU burner for the end-to-end tests' high-CPU service.
/**
 * burn_cpu.py SHARE PROCESSES: PROCESSES processes (the service and its forked workers), each
 * using SHARE of a core, metered by its own CPU time in half-second periods. Unlike a duty cycle
 * on wall time, it still reaches its share on a busy machine (up to its fair share of the CPU),
 * and it never catches up on a starved period, so its rate never exceeds SHARE.
 */
export const BURN_CPU_PY = `import os, sys, time
share, processes = float(sys.argv[1]), int(sys.argv[2])
for _ in range(processes - 1):
    if os.fork() == 0:
        break
period = 0.5
while True:
    wall, cpu = time.monotonic(), time.process_time()
    while time.process_time() - cpu < share * period and time.monotonic() - wall < period:
        pass
    rest = period - (time.monotonic() - wall)
    if rest > 0:
        time.sleep(rest)
`;
