/**
 * An unbounded async channel: producers `send`, consumers `await receive()`.
 * Used to hand fetched jobs to free job slots without per-job timers.
 */
export class Channel<T> {
  #items: T[] = [];
  #head = 0;
  #waiters: Array<(value: T | undefined) => void> = [];
  #closed = false;

  /** Items waiting to be received. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Hand `item` to a waiting receiver, or queue it. Returns false if closed. */
  send(item: T): boolean {
    if (this.#closed) return false;
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
    return true;
  }

  /** The next item, or `undefined` once the channel is closed and drained. */
  receive(): Promise<T | undefined> {
    if (this.size > 0) return Promise.resolve(this.#take());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Take an item without waiting, if there is one. */
  tryReceive(): T | undefined {
    return this.size > 0 ? this.#take() : undefined;
  }

  /** Remove and return every queued item (for handing jobs back on shutdown). */
  drain(): T[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return rest;
  }

  /** Stop accepting items; waiting receivers get `undefined`. Queued items stay receivable. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #take(): T {
    const item = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
