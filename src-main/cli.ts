#!/usr/bin/env node
// The `medrelay` command (cli/main.ts has its commands). Its commands and their JSON output are a
// stable contract for scripts.
//
// `agent --once` looks at its folders before the rest of the command is loaded: the stability window
// counts from that look (core/watch/first-look.ts), so it runs while the agent's modules load (most
// of a one-shot run's start-up) instead of after. This file therefore imports only what reads the
// flags and the configuration, and loads cli/main.ts when it has looked.
import { earlyStart } from './cli/common.js';

async function run(argv: string[]): Promise<number> {
  const early = await earlyStart(argv);
  const { main } = await import('./cli/main.js');
  return main(argv, early);
}

run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // For the benchmark: the process's own CPU time and peak memory, measured by the kernel.
  if (process.env.MEDRELAY_USAGE === '1') {
    // The main thread's share says whether it is the bottleneck (it runs HTTP, SQLite and intake;
    // the sealing worker encrypts), beside the whole process's.
    const u = process.resourceUsage();
    const main = process.threadCpuUsage();
    process.stderr.write(`medrelay-usage ${JSON.stringify({
      userCpuSeconds: u.userCPUTime / 1e6, systemCpuSeconds: u.systemCPUTime / 1e6, maxRssBytes: u.maxRSS * 1024,
      mainThreadCpuSeconds: (main.user + main.system) / 1e6, mainThreadBusySeconds: performance.eventLoopUtilization().active / 1000,
      minorPageFaults: u.minorPageFault, voluntarySwitches: u.voluntaryContextSwitches, involuntarySwitches: u.involuntaryContextSwitches,
    })}\n`);
  }
});
