'use strict';
/**
 * Preloaded (`-r`) into a server by `ic-misses.js`. On SIGUSR2 it calls a function never called before, which V8
 * compiles then and logs (`code-creation`) under its name: the first signal marks the start of the counted requests,
 * the second their end. On SIGINT it exits through `process.exit`, so V8 writes out the rest of its log.
 */
function __keyward_ic_mark_start__() { return 0; }
function __keyward_ic_mark_end__() { return 1; }
const marks = [__keyward_ic_mark_start__, __keyward_ic_mark_end__];
process.on('SIGUSR2', () => { marks.shift()?.(); });
process.on('SIGINT', () => process.exit(0));
