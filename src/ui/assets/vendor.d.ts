// Text modules (wrangler.toml [[rules]]): the minified file's source, served as is.
declare module "htmx.org/dist/htmx.min.js" {
  const source: string;
  export default source;
}
