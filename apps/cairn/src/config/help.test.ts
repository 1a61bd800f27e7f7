import { describe, expect, test } from "vitest";
import { CAIRN_SECTION, FLAGS } from "./flags.js";
import { helpText, USAGE_TEXT } from "./help.js";
import { parseConfig } from "./parse.js";

describe("--help", () => {
  const text = helpText();

  test("starts with the usage block, then etcd's sections in etcd's order, then Cairn's", () => {
    expect(text.startsWith(`${USAGE_TEXT}\nMember:\n  --name 'default'\n`)).toBe(true);
    const headings = text.split("\n").filter((line) => /^\S.*:$/.test(line));
    expect(headings).toEqual([
      "Usage:",
      "Member:",
      "Clustering:",
      "Security:",
      "Logging:",
      "v2 Proxy (to be deprecated in v4):",
      "Unsafe feature:",
      CAIRN_SECTION,
    ]);
    expect(
      text.endsWith(
        "CAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n",
      ),
    ).toBe(true);
  });

  test("golden: a flag is its name and quoted default, help lines indented below", () => {
    expect(text).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: etcd's literal help text.
      "  --data-dir '${name}.etcd'\n    Path to the data directory.\n  --wal-dir ''\n",
    );
    expect(text).toContain(
      "  --initial-cluster-token 'etcd-cluster'\n" +
        "    Initial cluster token for the etcd cluster during bootstrap.\n" +
        "    Specifying this can protect you from unintended cross-cluster interaction when running multiple clusters.\n",
    );
    expect(text).toContain("  --v2-history-size '1000'\n");
    // etcd shows the proxy's millisecond defaults bare.
    expect(text).toContain(
      "  --proxy 'off'\n    Proxy mode setting ('off', 'readonly' or 'on').\n  --proxy-failure-wait 5000\n",
    );
  });

  test("lists every flag parseConfig accepts, and only those", () => {
    const listed = [...text.matchAll(/^ {2}--([a-z0-9-]+) /gm)].map((m) => m[1]!);
    const accepted = FLAGS.filter((f) => f.section !== "").map((f) => f.name);
    expect(listed).toEqual(accepted);
    for (const name of listed) {
      expect(() => parseConfig([`--${name}=bogus-value-\u0000`], {}), name).not.toThrow(
        /flag provided but not defined/,
      );
    }
  });

  test("each listed default is the default parseConfig applies", () => {
    const result = parseConfig([], {});
    if (result.kind !== "run") throw new Error("expected run");
    const c = result.config;
    const shown = (name: string) => FLAGS.find((f) => f.name === name)?.defaultText;
    expect(shown("name")).toBe(c.name);
    expect(shown("snapshot-count")).toBe(String(c.snapshotCount));
    expect(shown("heartbeat-interval")).toBe(String(c.heartbeatIntervalMs));
    expect(shown("election-timeout")).toBe(String(c.electionTimeoutMs));
    expect(shown("listen-client-urls")).toBe(c.listenClientUrls.join(","));
    expect(shown("initial-cluster")).toBe(c.initialCluster);
    expect(shown("initial-cluster-state")).toBe(c.initialClusterState);
    expect(shown("strict-reconfig-check")).toBe(String(c.strictReconfigCheck));
    expect(shown("enable-v2")).toBe(String(c.enableV2));
    expect(shown("max-request-bytes")).toBe(String(c.maxRequestBytes));
    expect(shown("v2-history-size")).toBe(String(c.v2HistorySize));
    expect(shown("logger")).toBe(c.logger);
  });
});
