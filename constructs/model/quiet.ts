// Named no-ops, so that every swallowed error and every silenced callback says why it may be
// silent; an anonymous `() => {}` says nothing (and the linter refuses it).

/**
 * An 'error' listener on a client or socket whose failures also reach the caller through the
 * call it awaits: the listener only keeps Node from crashing on an unhandled 'error' event.
 */
export function reportedElsewhere(): void {
  /* the awaited call rejects with the same error */
}

/**
 * Cleanup whose failure changes nothing: the connection is already closed, the row or queue
 * already gone, the process already exited.
 */
export function cleanupMayFail(): void {
  /* nothing to undo, nothing to tell */
}

/** A promise observed early so that its rejection is not unhandled; it is awaited (and reported) later. */
export function awaitedLater(): void {
  /* the later await sees the rejection */
}

/** Progress lines nobody reads (a participant's `up` inside a workshop reports one line of its own). */
export function noProgress(): void {
  /* silent on purpose */
}
