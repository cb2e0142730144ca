// Preloaded (node -r) into the MCP conformance suite's CLI, which sends no credentials: every HTTP
// request it makes carries the virtual key in MCP_CONFORMANCE_KEY, as `claude mcp add --header` does.
// Node's fetch and undici's request both go through undici's global dispatcher, replaced here by
// one that adds the header. MCP_CONFORMANCE_HOME is the suite's package folder (its undici).
const undici = require(require.resolve('undici', { paths: [process.env.MCP_CONFORMANCE_HOME] }));
const authorization = 'Bearer ' + process.env.MCP_CONFORMANCE_KEY;

class KeyAgent extends undici.Agent {
  dispatch(options, handler) {
    const h = options.headers;
    let headers;
    if (Array.isArray(h)) {
      headers = [...h, 'authorization', authorization];
    } else if (h && typeof h[Symbol.iterator] === 'function') {
      headers = [...[...h].flat(), 'authorization', authorization];
    } else {
      headers = { ...(h || {}), authorization };
    }
    return super.dispatch({ ...options, headers }, handler);
  }
}

undici.setGlobalDispatcher(new KeyAgent());
