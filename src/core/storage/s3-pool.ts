// A bounded pool of in-flight S3 requests. Callers fan out freely (prefetch, gc, push); the pool
// keeps at most `limit` requests on the wire so a burst neither exhausts sockets nor trips the
// service's throttling, and a waiting caller is served in arrival order (no starvation).

export class RequestPool {
  readonly limit: number
  private inFlight = 0
  private readonly waiting: Array<{weight: number; start: () => void}> = []

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`request pool limit must be an integer >= 1, got ${limit}`)
    this.limit = limit
  }

  /** Runs `fn` holding `weight` slots (a multipart upload holds one per parallel part). */
  async run<T>(fn: () => Promise<T>, weight = 1): Promise<T> {
    const slots = Math.min(Math.max(1, weight), this.limit)
    await this.acquire(slots)
    try {
      return await fn()
    } finally {
      this.release(slots)
    }
  }

  private acquire(weight: number): Promise<void> {
    if (this.waiting.length === 0 && this.inFlight + weight <= this.limit) {
      this.inFlight += weight
      return Promise.resolve()
    }
    return new Promise(resolve => this.waiting.push({weight, start: resolve}))
  }

  private release(weight: number): void {
    this.inFlight -= weight
    // FIFO: a heavy waiter at the head blocks lighter ones behind it rather than starving.
    while (this.waiting.length > 0 && this.inFlight + this.waiting[0].weight <= this.limit) {
      const next = this.waiting.shift()!
      this.inFlight += next.weight
      next.start()
    }
  }
}
