'use strict';
/**
 * Names code addresses from a list of `[start, size, name]` entries, as V8 writes them (`--perf-basic-prof` maps,
 * `code-creation` lines of a `--log-ic` log): `instructions.js` and `ic-misses.js` both look JIT code up this way.
 * Returns `name(address)`, the name of the entry holding the address, or `undefined`.
 */
function symbolizer(entries) {
  const sorted = [...entries].sort((a, b) => a[0] - b[0]);
  return (address) => {
    let lo = 0, hi = sorted.length - 1, found;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (sorted[mid][0] <= address) { found = sorted[mid]; lo = mid + 1; } else hi = mid - 1; }
    return found && address < found[0] + found[1] ? found[2] : undefined;
  };
}

module.exports = { symbolizer };
