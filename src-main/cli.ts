#!/usr/bin/env node
// The `medrelay` command (cli/main.ts has its commands). Its commands and their JSON output are a
// stable contract for scripts.
import { main } from './cli/main.js';

main(process.argv.slice(2)).then((code) => {
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
    })}\n`);
  }
});
