// Runs after `npm install` (the postinstall script). On a machine whose Node is older than 22,
// npm has just warned (EBADENGINE) that wrangler, vitest, miniflare and the AI SDK want Node 22.
// They get it: npm scripts put node_modules/.bin first on PATH, where the `node` devDependency
// is Node 22. The machine's own version is in npm's user agent, since `node` here is already 22.
const machine = /\bnode\/v(\d+)\.[\d.]+/.exec(process.env.npm_config_user_agent ?? "");
if (machine && Number(machine[1]) < 22) {
  console.log(
    `This machine has Node ${machine[0].slice("node/".length)}: the npm scripts (npm run dev, npm test) run on ` +
      `the Node ${process.versions.node} installed in node_modules, so the EBADENGINE warnings above do not apply to them.`,
  );
}
