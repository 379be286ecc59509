// What trace mode calls things, shared by the trace model, the API's checks and the window:
// the names given to callbacks of resources the trace never saw made, and how long it can be
// set to keep. Pure.

/**
 * The type of a callback whose resource the trace never saw made. Node's async ids only grow,
 * so one below the first id traced was made before tracing started; one above it, the trace
 * made and has since forgotten (it keeps the latest resources).
 */
export const BEFORE_TRACE_TYPE = 'created before tracing started';
export const FORGOTTEN_TYPE = 'forgotten by the trace';

/** The latest loop turns the trace keeps, s: by default, and the bounds of what can be asked. */
export const DEFAULT_TRACE_KEEP_S = 10;
export const MIN_TRACE_KEEP_S = 1;
export const MAX_TRACE_KEEP_S = 600;
