// What one iptables call costs in a real host (dockerd running), three ways, in alternating
// rounds: through the shim as dockerd makes it (`iptables` first on PATH), the selected build's
// wrapper script directly, and the multi-binary the wrapper runs. Prints per-call medians (ms)
// with min–max over the rounds' medians.
// Usage: npx tsx scripts/bench/shim-cost.ts [--calls 300] [--rounds 5] [--iptables 1.8.13-1] [--matrix bench/cells.yaml]
import { parseArgs } from "node:util";
import { HOST_PATHS } from "../../src/contract/host-contract.js";
import { DindContainer } from "../../src/index.js";
import { median } from "./stats.js";
import { TIMEOUT_MS } from "../../src/contract/timeouts.js";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "300" },
    rounds: { type: "string", default: "5" },
    iptables: { type: "string", default: "1.8.13-1" },
    matrix: { type: "string", default: "bench/cells.yaml" },
  },
});
const CALL = "-w -C FORWARD -j ACCEPT";
// the wrapper's own line says what it runs: LD_LIBRARY_PATH=… XTABLES_LIBDIR=… exec <multi> <tool> "$@"
const VARIANTS = {
  shim: `iptables ${CALL}`,
  wrapper: `"$dir/iptables" ${CALL}`,
  multi: `LD_LIBRARY_PATH="$lib" XTABLES_LIBDIR="$xt" "$multi" iptables ${CALL}`,
};

/** N calls timed one by one inside the host; the median of them in ms. */
const roundScript = (command: string) => `
dir=$(cat ${HOST_PATHS.iptablesDir})
line=$(sed -n 2p "$dir/iptables")
lib=$(echo "$line" | sed -n 's/^LD_LIBRARY_PATH=\\([^ ]*\\) .*/\\1/p')
xt=$(echo "$line" | sed -n 's/.* XTABLES_LIBDIR=\\([^ ]*\\) .*/\\1/p')
multi=$(echo "$line" | sed -n 's/.* exec \\([^ ]*\\) .*/\\1/p')
for i in $(seq ${Number(values.calls)}); do
  t0=$EPOCHREALTIME; ${command} >/dev/null 2>&1; t1=$EPOCHREALTIME
  echo "$t0 $t1"
done | awk '{ print ($2 - $1) * 1000 }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'`;

const host = await new DindContainer({
  engine: "docker-28.5.2",
  iptables: values.iptables,
  backend: "nft",
  daemon: { "userland-proxy": false },
  matrix: values.matrix,
}).start();
try {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    const order = Object.entries(VARIANTS);
    if (round % 2) order.reverse();
    for (const [name, command] of order) {
      const run = await host.sh(`exec bash -c '${roundScript(command).replace(/'/g, "'\\''")}'`, TIMEOUT_MS.benchRound);
      if (run.exitCode !== 0 || !run.stdout.trim()) throw new Error(`${name}: ${run.stderr || run.stdout}`);
      samples[name]?.push(Number(run.stdout.trim()));
    }
  }
  console.log(
    `iptables ${CALL}, ${values.calls} calls × ${values.rounds} rounds, ms per call (median of round medians, min–max):`,
  );
  const ms = (x: number) => x.toFixed(3);
  for (const [name, xs] of Object.entries(samples))
    console.log(`  ${name.padEnd(8)} ${ms(median(xs))} ms (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`);
} finally {
  await host.stop();
}
