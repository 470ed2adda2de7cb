/**
 * Serves the dashboard's files. This placeholder serves nothing (every UI
 * path is a 404) until the dashboard lands and replaces this file.
 *
 * @module
 */

/** What the server tells the UI. */
export interface UiContext {
  /** The admin's base path, e.g. "/ops/queue/". */
  basePath: string;
}

/**
 * The Response for the UI file at `relPath` (the path after the base path,
 * "" for the page itself), or null when there is none.
 */
export function serveUi(
  _request: Request,
  _relPath: string,
  _ctx: UiContext,
): Promise<Response | null> {
  return Promise.resolve(null);
}
