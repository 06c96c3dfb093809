// A tiny router: exact paths and ":name" segments, e.g. "/notes/:id".

/**
 * @typedef {{ method: string, path: string, summary: string, auth: boolean,
 *   handler: Function, pattern: RegExp }} Route
 */

export class Router {
  /** @type {Route[]} */
  routes = [];

  /**
   * @param {string} method
   * @param {string} path
   * @param {{ summary: string, auth?: boolean }} info auth: true requires a Bearer token
   * @param {(ctx: any) => Promise<{ status: number, body?: unknown, headers?: object }>} handler
   */
  add(method, path, { summary, auth = false }, handler) {
    const source = path.replace(/:(\w+)/g, '(?<$1>[^/]+)');
    this.routes.push({ method, path, summary, auth, handler, pattern: new RegExp(`^${source}$`) });
    return this;
  }

  /**
   * Find the route for a request.
   * @returns {{ route: Route, params: Record<string, string> }
   *   | { allowed: string[] } | null} null: no such path; allowed: the path exists, not the method
   */
  match(method, pathname) {
    const allowed = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      if (route.method === method) return { route, params: { ...m.groups } };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}
