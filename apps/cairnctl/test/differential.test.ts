import { findProgram, freePort, programOrSkip } from "@cairn/testkit";
import { describe, expect, it } from "vitest";
import { runInProcess, runProgram } from "./support/run.js";
import { bind, mask, SCRIPT } from "./support/script.js";
import { etcdTarget, TARGETS } from "./support/targets.js";

const etcdctl = programOrSkip(
  "etcdctl",
  "cairnctl differential run against etcdctl (ETCDCTL_API=2)",
);

for (const target of TARGETS) {
  const skip = !etcdctl || !etcdTarget.available || !target.available;
  if (!target.available)
    console.warn(`!!! SKIPPED: cairnctl differential run against ${target.name} (not available)`);

  describe.skipIf(skip)(
    `differential: cairnctl against ${target.name} vs etcdctl against etcd`,
    () => {
      it(`prints the same bytes and exit codes for ${SCRIPT.length} command lines`, async () => {
        // A fresh server for each tool, so both see the same state at every step:
        // etcdctl always talks to etcd (the reference), cairnctl to the target.
        const [a, b] = await Promise.all([etcdTarget.start(), target.start()]);
        const dead = {
          DEAD: `http://127.0.0.1:${await freePort()}`,
          DEAD2: `http://127.0.0.1:${await freePort()}`,
        };
        const mismatches: string[] = [];
        try {
          for (const step of SCRIPT) {
            const ref = bind(step, { EP: a.url, ...dead });
            const ours = bind(step, { EP: b.url, ...dead });
            const expected = await runProgram(findProgram("etcdctl")!.path, ref.args, {
              ETCDCTL_API: "2",
              ...(ref.env ?? {}),
            });
            // cairnctl's command logic runs in-process (the binary's thin I/O layer has its own tests).
            const actual = await runInProcess(ours.args, { env: { ...(ours.env ?? {}) } });
            const exp = {
              out: mask(expected.stdout),
              err: mask(expected.stderr),
              code: expected.code,
            };
            const act = { out: mask(actual.stdout), err: mask(actual.stderr), code: actual.code };
            if (exp.out !== act.out || exp.err !== act.err || exp.code !== act.code) {
              mismatches.push(
                `$ ${step.args.join(" ")}\n--- etcdctl (exit ${exp.code})\n${exp.out}${exp.err}` +
                  `--- cairnctl (exit ${act.code})\n${act.out}${act.err}`,
              );
            }
          }
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
        expect(mismatches.join("\n")).toBe("");
      }, 170_000);
    },
  );
}
