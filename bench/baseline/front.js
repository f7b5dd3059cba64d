export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    // The path floor: the same client, proxy, front hop and ping server as a trigger and its
    // first step, with no engine in between. TTFS minus this is the engine's own share.
    if (pathname === "/__path-floor") {
      const { run, ping } = await request.json();
      await fetch(ping, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ run }),
      });
      return new Response("{}", { headers: { "content-type": "application/json" } });
    }
    return pathname.startsWith("/baseline/") ? env.BASELINE.fetch(request) : env.SIGNALBOX.fetch(request);
  },
};
