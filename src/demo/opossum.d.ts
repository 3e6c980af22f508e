// opossum ships no types; this is the part of its API the demo shop uses.
declare module 'opossum' {
  import { EventEmitter } from 'node:events';

  interface CircuitBreakerOptions {
    /** ms before a call counts as failed; false: no timeout of the breaker's own. */
    timeout?: number | false;
    errorThresholdPercentage?: number;
    resetTimeout?: number;
    rollingCountTimeout?: number;
    rollingCountBuckets?: number;
    volumeThreshold?: number;
    /** Concurrent calls allowed (a bulkhead); more are rejected to the fallback. */
    capacity?: number;
    name?: string;
  }

  class CircuitBreaker<TArgs extends unknown[] = unknown[], TResult = unknown> extends EventEmitter {
    constructor(action: (...args: TArgs) => Promise<TResult>, options?: CircuitBreakerOptions);
    fire(...args: TArgs): Promise<TResult>;
    fallback(fn: (...args: [...TArgs, Error | undefined]) => TResult | Promise<TResult>): this;
    readonly opened: boolean;
    readonly halfOpen: boolean;
    readonly closed: boolean;
    shutdown(): void;
  }

  export default CircuitBreaker;
}
