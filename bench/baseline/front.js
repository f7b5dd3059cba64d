export default {
  fetch(request, env) {
    const { pathname } = new URL(request.url);
    return pathname.startsWith("/baseline/") ? env.BASELINE.fetch(request) : env.SIGNALBOX.fetch(request);
  },
};
