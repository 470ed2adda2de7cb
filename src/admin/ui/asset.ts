/** One embedded dashboard file (see scripts/build_ui.ts, which writes `_assets.ts`). */
export interface UiAsset {
  /** The Content-Type it is served with. */
  readonly type: string;
  /** A strong ETag of the body, quoted. */
  readonly etag: string;
  /** The file's text. */
  readonly body: string;
}
