import { describe, expect, test } from "vitest";
import { DiscoveryError, discoveryProxyUrl } from "./index.js";

describe("--discovery-proxy as etcd reads it", () => {
  test("an http(s) URL is kept; anything else gets http:// in front (bare host:port works)", () => {
    expect(discoveryProxyUrl("http://127.0.0.1:3128")).toBe("http://127.0.0.1:3128/");
    expect(discoveryProxyUrl("https://proxy.example:8443")).toBe("https://proxy.example:8443/");
    expect(discoveryProxyUrl("127.0.0.1:3128")).toBe("http://127.0.0.1:3128/");
    expect(discoveryProxyUrl("proxy.example")).toBe("http://proxy.example/");
  });

  test("an address that is not one fails with etcd's words", () => {
    let error: unknown;
    try {
      discoveryProxyUrl("bad host:3128");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as DiscoveryError).summary).toBe(
      'failed to join discovery cluster (invalid proxy address "bad host:3128")',
    );
  });
});
